"""Rule crowd_significance: sample-level permutation test, clustered McNemar, GEE (Holm) vs RANDOM."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_significance  # noqa: E402

run_significance(snakemake.input[0], snakemake.params.stem, snakemake.params.caption,
                 snakemake.params.crowd, snakemake.params.seed, snakemake.params.with_paper_claims)
