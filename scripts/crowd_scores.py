"""Rule crowd_scores: Tables 3/4 (equation (2), ranks, paper values beside)."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_scores  # noqa: E402

run_scores(snakemake.input[0], snakemake.params.stem, snakemake.params.caption,
           snakemake.params.paper_ref, snakemake.params.compare_with_paper)
