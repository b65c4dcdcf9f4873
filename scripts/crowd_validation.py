"""Rule simulator_validation: simulated vs real crowd on the released pairs (cross-fitted)."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_validation  # noqa: E402
from saliency_repro.runtime import set_threads  # noqa: E402

set_threads(snakemake.threads)
crowd = snakemake.params.crowd
run_validation(snakemake.input.released, snakemake.params.label_names, crowd["simulated"],
               crowd["validation"], crowd["workers_per_task"], snakemake.params.seed,
               snakemake.input.get("train"), snakemake.params.stem, snakemake.params.caption,
               snakemake.output.grid, methods_stem=snakemake.params.methods_stem,
               figure_stem=snakemake.params.figure_stem, evidence_out=snakemake.output.evidence,
               run=snakemake.params.run, dataset=snakemake.wildcards.dataset,
               reader=snakemake.input.get("reader"))
