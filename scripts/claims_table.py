"""Rules claims_lu2024 / claims_tuckey2019: the papers' claims tested on this run."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro import claims  # noqa: E402

p = snakemake.params
if p.paper == "lu2024":
    claims.lu_claims_step(snakemake.input.significance, snakemake.input.aggregates, p.datasets,
                          snakemake.wildcards.crowd_source, p.crowd, p.stem, p.caption,
                          p.sensitivity_stem)
else:
    claims.tuckey_claims_step(snakemake.input.similarity, snakemake.input.counterfactual,
                              p.datasets, p.alpha, p.stem, p.caption, p.sensitivity_stem)
