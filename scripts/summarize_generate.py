"""Snakemake adapter: decode the test split with the trained summarizer."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.runtime import resolve_device, set_threads  # noqa: E402
from saliency_repro.summarize.pipeline import generate_summaries  # noqa: E402

set_threads(snakemake.threads)
generate_summaries(snakemake.input.model, snakemake.input.vocab, snakemake.input.test,
                   snakemake.params.cfg, snakemake.output[0],
                   device=resolve_device(snakemake.params.device))
