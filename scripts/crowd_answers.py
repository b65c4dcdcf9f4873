"""Rule crowd_answers: per-worker answers from the simulated crowd or a platform file."""
from saliency_repro.runtime import set_threads, setup_logging

setup_logging(snakemake.log[0], job=snakemake)
set_threads(snakemake.threads)  # the MiniLM encoder: torch would take every core

from saliency_repro.crowd.steps import run_platform_answers, run_simulated_answers  # noqa: E402

crowd = snakemake.params.crowd
source = snakemake.params.source
if source["type"] == "simulated":
    run_simulated_answers(snakemake.input.tasks, snakemake.input.assignments,
                          snakemake.input.reader, snakemake.params.label_names,
                          crowd["simulated"], snakemake.params.seed,
                          snakemake.output.answers, snakemake.output.exclusions)
else:  # a platform file, or a study database's export in the platform's long format
    if source["type"] == "study":
        source = {**source, "format": "long", "path": snakemake.input.platform_file}
    run_platform_answers(source, snakemake.input.tasks, snakemake.params.label_names,
                         crowd["workers_per_task"], crowd["tasks_per_worker"], crowd["platform"],
                         snakemake.output.answers, snakemake.output.exclusions,
                         other_tasks=list(snakemake.input.other_tasks),
                         first_set=snakemake.params.first_sample_set)
