"""Rule aggregate_crowd: A_ijk by equation (1), or the released aggregate."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_aggregate  # noqa: E402

run_aggregate(snakemake.params.source_type, dict(snakemake.input.items()),
              snakemake.params.label_names, snakemake.output[0])
