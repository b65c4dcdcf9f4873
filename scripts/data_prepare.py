"""Snakemake adapter: normalize one dataset into per-split parquet files."""

from pathlib import Path

from saliency_repro.data.prepare import prepare_dataset
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)
prepare_dataset(
    snakemake.wildcards.dataset,
    snakemake.params.dataset,
    snakemake.params.seed,
    Path(snakemake.output.meta).parent,
    snakemake.params.downloads,
    snakemake.params.mirror,
)
