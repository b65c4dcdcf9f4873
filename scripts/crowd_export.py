"""Rule crowd_export: platform CSV and one HTML page per batch."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_export  # noqa: E402

run_export(snakemake.input.tasks, snakemake.input.assignments, snakemake.params.label_names,
           snakemake.output[0])
