"""Snakemake adapter: rule faithfulness_metrics."""

from saliency_repro.runtime import resolve_device, set_threads, setup_logging

setup_logging(snakemake.log[0], job=snakemake)
set_threads(snakemake.threads)

from saliency_repro.faithfulness.steps import metrics_step  # noqa: E402

p = snakemake.params
metrics_step(
    snakemake.input.samples, snakemake.input.word_scores, snakemake.input.model,
    snakemake.output.per_sample, snakemake.output.run, p.cfg, p.k_grid, p.rank_by,
    p.explained_class, p.max_length, resolve_device(p.device),
)
