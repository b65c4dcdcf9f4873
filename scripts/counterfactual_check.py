"""Snakemake adapter: decode every deletion of the counterfactual check (heavy)."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.counterfactual.pipeline import run_check  # noqa: E402
from saliency_repro.runtime import resolve_device, seed_everything, set_threads  # noqa: E402
from saliency_repro.summarize.pipeline import load_vocab  # noqa: E402

set_threads(snakemake.threads)
seed_everything(snakemake.params.seed)
vocab, _ = load_vocab(snakemake.input.vocab)
run_check(snakemake.input.model, vocab, snakemake.input.summaries, snakemake.input.maps,
          snakemake.params.summarizer, snakemake.params.lrp, snakemake.params.cfg,
          seed=snakemake.params.seed, device=resolve_device(snakemake.params.device),
          out_articles=snakemake.output.articles, out_results=snakemake.output.results,
          out_meta=snakemake.output.meta)
