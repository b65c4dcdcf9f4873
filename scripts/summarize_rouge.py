"""Snakemake adapter: ROUGE table of the generated test summaries."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0])

from saliency_repro.summarize.pipeline import write_rouge  # noqa: E402

write_rouge(snakemake.input[0], snakemake.output[0], snakemake.params.run,
            snakemake.wildcards.dataset, snakemake.params.cfg, snakemake.params.seed)
