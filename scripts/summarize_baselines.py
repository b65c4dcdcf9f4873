"""Snakemake adapter: ROUGE of the summarizer beside the lead-3 and most-frequent-summary
baselines (see saliency_repro.summarize.baselines)."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.summarize.baselines import write_rouge_baselines  # noqa: E402

write_rouge_baselines(snakemake.input.summaries, snakemake.input.train, snakemake.input.test,
                      snakemake.output[0], snakemake.params.run, snakemake.wildcards.dataset,
                      snakemake.params.cfg, snakemake.params.seed)
