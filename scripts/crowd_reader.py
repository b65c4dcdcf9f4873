"""Rule crowd_reader: the simulated crowd's reader of one dataset, fitted once."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_fit_reader  # noqa: E402
from saliency_repro.runtime import set_threads  # noqa: E402

set_threads(snakemake.threads)
run_fit_reader(snakemake.input.train, snakemake.params.label_names, snakemake.params.reader,
               snakemake.params.seed, snakemake.output.reader, dataset=snakemake.wildcards.dataset)
