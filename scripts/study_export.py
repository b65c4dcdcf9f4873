"""Rule study_export: a study database's counted answers as the platform importer's long CSV."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.study.service import export_step  # noqa: E402

export_step(snakemake.params.db, snakemake.output[0], snakemake.params.snapshot)
