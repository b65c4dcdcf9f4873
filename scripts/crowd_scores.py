"""Rule crowd_scores: Tables 3/4 (equation (2), ranks, paper values beside) and task coverage."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_scores  # noqa: E402

p = snakemake.params
run_scores(snakemake.input[0], p.stem, p.caption, p.paper_ref, p.compare_with_paper,
           p.coverage_stem, p.required_answers, p.coverage_caption)
