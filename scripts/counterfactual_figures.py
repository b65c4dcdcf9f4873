"""Snakemake adapter: worked examples (paper Figures 4-7), distributions and curves."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.counterfactual.pipeline import write_figures  # noqa: E402
from saliency_repro.summarize.pipeline import load_vocab  # noqa: E402

vocab, _ = load_vocab(snakemake.input.vocab)
write_figures(snakemake.input.articles, snakemake.input.results, snakemake.input.verdicts, vocab,
              snakemake.params.cfg, snakemake.params.run, snakemake.wildcards.dataset,
              snakemake.output.confirmed[0], snakemake.output.unconfirmed[0],
              snakemake.output.distribution[0], snakemake.output.curves[0],
              out_examples=snakemake.output.examples)
