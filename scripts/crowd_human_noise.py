"""Rule human_noise_params: the human_fitted simulator's noise parameters from the release."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_human_noise_params  # noqa: E402

crowd = snakemake.params.crowd
run_human_noise_params(dict(zip(snakemake.params.datasets, snakemake.input.evidence, strict=True)),
                       snakemake.params.sources, crowd["simulated"], crowd["workers_per_task"],
                       snakemake.output[0], config_name=snakemake.params.run)
