"""Snakemake adapter: write the artifact index from the registry records."""

from saliency_repro.index import index_frame
from saliency_repro.io import write_csv
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0])
write_csv(index_frame(snakemake.params.records), snakemake.output[0])
