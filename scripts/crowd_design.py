"""Rule crowd_design: tasks t_ijk and worker batches (saliency_repro.crowd.design)."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_design  # noqa: E402

run_design(snakemake.input.displays, snakemake.output.tasks, snakemake.output.assignments,
           snakemake.params.workers_per_task, snakemake.params.tasks_per_worker,
           snakemake.params.seed)
