"""Rule crowd_exclusions: every worker and submission dropped on import, with reasons and counts."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_exclusions  # noqa: E402

i, p = snakemake.input, snakemake.params
run_exclusions({"correct": i.correct_exclusions, "misclassified": i.misclassified_exclusions},
               {"correct": i.correct_answers, "misclassified": i.misclassified_answers},
               p.stem, p.caption)
