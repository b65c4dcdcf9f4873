"""Snakemake adapter: map-similarity and relevance-conservation tables."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.summarize.pipeline import write_lrp_tables  # noqa: E402

write_lrp_tables(snakemake.input[0], snakemake.params.cfg, snakemake.params.run,
                 snakemake.wildcards.dataset, snakemake.params.seed,
                 snakemake.output.similarity[0], snakemake.output.conservation[0],
                 snakemake.output.per_summary)
