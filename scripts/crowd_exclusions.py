"""Rule crowd_exclusions: every worker and submission dropped on import, with reasons and counts."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_exclusions  # noqa: E402

sets = snakemake.params.sample_sets
run_exclusions(dict(zip(sets, snakemake.input.exclusions, strict=True)),
               dict(zip(sets, snakemake.input.answers, strict=True)),
               snakemake.output[0], snakemake.params.caption)
