"""Snakemake adapter: rule train_classifier."""

from saliency_repro.runtime import resolve_device, set_threads, setup_logging

setup_logging(snakemake.log[0], job=snakemake)
set_threads(snakemake.threads)

from saliency_repro.classify.steps import train_step  # noqa: E402

train_step(
    snakemake.input.train, snakemake.input.validation, snakemake.output[0],
    snakemake.params.checkpoints, snakemake.params.cfg, snakemake.params.label_names,
    snakemake.params.seed, resolve_device(snakemake.params.device),
)
