"""Rule crowd_expert_check: simulated experts vs the crowd on random tasks (section 4.1)."""
from saliency_repro.runtime import set_threads, setup_logging

setup_logging(snakemake.log[0], job=snakemake)
set_threads(snakemake.threads)  # the MiniLM encoder: torch would take every core

from saliency_repro.crowd.steps import run_expert_check  # noqa: E402

crowd = snakemake.params.crowd
run_expert_check(snakemake.input.tasks, snakemake.input.aggregate, snakemake.input.reader,
                 snakemake.params.label_names, crowd["simulated"], crowd["expert_tasks"],
                 snakemake.params.seed, snakemake.params.stem, snakemake.params.caption,
                 snakemake.params.paper_ref)
