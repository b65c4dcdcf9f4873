"""Snakemake adapter: rule select_samples."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.classify.steps import select_step  # noqa: E402

select_step(
    snakemake.input.predictions, snakemake.input.test, snakemake.output[0],
    snakemake.wildcards.sample_set, snakemake.params.n, snakemake.params.seed,
)
