"""Snakemake adapter: build the summarizer vocabulary from the training split."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.summarize.pipeline import make_vocab  # noqa: E402

make_vocab(snakemake.input.train, snakemake.params.cfg, snakemake.output[0])
