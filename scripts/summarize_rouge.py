"""Snakemake adapter: ROUGE table of the generated test summaries against the full test
references (see saliency_repro.summarize.rouge)."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.summarize.rouge import write_rouge  # noqa: E402

write_rouge(snakemake.input.summaries, snakemake.input.test, snakemake.output[0],
            snakemake.params.run, snakemake.wildcards.dataset, snakemake.params.cfg,
            snakemake.params.seed)
