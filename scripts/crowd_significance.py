"""Rule crowd_significance: McNemar (Holm), GEE and bootstrap CIs vs RANDOM."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0])

from saliency_repro.crowd.steps import run_significance  # noqa: E402

crowd = snakemake.config["crowd"]
run_significance(snakemake.input[0], snakemake.params.stem, snakemake.params.caption,
                 crowd["bootstrap"], crowd["alpha"], snakemake.params.seed)
