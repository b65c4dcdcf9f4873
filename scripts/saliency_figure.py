"""Snakemake adapter: rule top_words_figure (paper Figure 4)."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.saliency.steps import figure_step  # noqa: E402

figure_step(snakemake.input.word_scores, snakemake.input.samples, snakemake.output.png,
            snakemake.params.k, snakemake.params.label_names, snakemake.params.title)
