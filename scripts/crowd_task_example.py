"""Rule crowd_task_example: one task rendered as in Figure 1."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_task_example  # noqa: E402

run_task_example(snakemake.input.tasks, snakemake.params.label_names, snakemake.params.stem,
                 snakemake.params.title)
