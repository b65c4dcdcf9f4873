"""Snakemake adapter: epsilon-LRP maps of the generated test summaries."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.runtime import resolve_device, set_threads  # noqa: E402
from saliency_repro.summarize.pipeline import compute_lrp_maps  # noqa: E402

set_threads(snakemake.threads)
compute_lrp_maps(snakemake.input.model, snakemake.input.summaries, snakemake.params.cfg,
                 snakemake.input.vocab, snakemake.output[0],
                 device=resolve_device(snakemake.params.device))
