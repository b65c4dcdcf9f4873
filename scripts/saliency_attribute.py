"""Snakemake adapter: rule attribute."""

from saliency_repro.runtime import resolve_device, set_threads, setup_logging

setup_logging(snakemake.log[0], job=snakemake)
set_threads(snakemake.threads)

from saliency_repro.saliency.steps import attribute_step  # noqa: E402

attribute_step(
    snakemake.input.samples, snakemake.input.model, snakemake.output.word_scores,
    snakemake.output.diagnostics, snakemake.params.cfg, snakemake.params.max_length,
    snakemake.params.seed, resolve_device(snakemake.params.device), snakemake.params.k,
    snakemake.params.rank_by,
)
