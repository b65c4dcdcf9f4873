"""Rule crowd_misclassified: Tables 8/9 counts on misclassified samples."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_misclassified  # noqa: E402

run_misclassified(snakemake.input[0], snakemake.params.stem, snakemake.params.caption,
                  snakemake.params.paper_ref, snakemake.params.compare_with_paper)
