"""Snakemake adapter: rule faithfulness_table."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.faithfulness.steps import metrics_table_step  # noqa: E402

p = snakemake.params
metrics_table_step(snakemake.input[0], p.stem, p.cfg, p.k_grid, p.caption)
