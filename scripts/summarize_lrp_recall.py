"""Snakemake adapter: top-k recall of known source positions (synthetic data)."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.summarize.pipeline import write_lrp_recall  # noqa: E402

write_lrp_recall(snakemake.input[0], snakemake.params.cfg, snakemake.params.run,
                 snakemake.wildcards.dataset, snakemake.output[0])
