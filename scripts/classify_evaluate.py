"""Snakemake adapter: rule evaluate_classifier."""

from saliency_repro.runtime import resolve_device, set_threads, setup_logging

setup_logging(snakemake.log[0], job=snakemake)
set_threads(snakemake.threads)

from saliency_repro.classify.steps import evaluate_step  # noqa: E402

evaluate_step(
    snakemake.input.model, snakemake.input.test, snakemake.output.predictions,
    snakemake.output.metrics, snakemake.params.cfg, snakemake.params.label_names,
    resolve_device(snakemake.params.device),
)
