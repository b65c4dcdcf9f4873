"""Snakemake adapter: rule classifier_metrics_table."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.classify.steps import metrics_table_step  # noqa: E402

metrics_table_step(snakemake.input[0], snakemake.wildcards.dataset, snakemake.output[0],
                   snakemake.params.caption)
