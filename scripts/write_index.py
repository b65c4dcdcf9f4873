"""Snakemake adapter: the artifact index and each artifact's lineage from the registry records."""

from saliency_repro.index import write_index
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0])
write_index(snakemake.params.records, snakemake.params.rule_code, snakemake.output.index,
            snakemake.output.provenance, snakemake.params.provenance_dir)
