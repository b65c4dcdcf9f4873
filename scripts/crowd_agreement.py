"""Rule crowd_aggregation_agreement: equation (1) vs Dawid-Skene (crowd-kit)."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_aggregation_agreement  # noqa: E402

run_aggregation_agreement(snakemake.input.tasks, snakemake.input.answers,
                          snakemake.input.aggregate, snakemake.params.stem,
                          snakemake.params.caption, snakemake.params.seed)
