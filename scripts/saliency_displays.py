"""Snakemake adapter: rule make_displays."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.saliency.steps import displays_step  # noqa: E402

displays_step(snakemake.input.word_scores, snakemake.input.samples, snakemake.output[0],
              snakemake.params.k, snakemake.params.rank_by, snakemake.params.k_key)
