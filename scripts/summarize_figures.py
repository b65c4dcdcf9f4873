"""Snakemake adapter: Figures 1-3 of Tuckey et al."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.summarize.pipeline import write_figures  # noqa: E402

write_figures(snakemake.input.maps, snakemake.input.summaries, snakemake.params.cfg,
              snakemake.params.run, snakemake.wildcards.dataset, snakemake.output.fig1[0],
              snakemake.output.fig2[0], snakemake.output.fig3[0])
