"""Snakemake adapter: train (or resume training of) the summarizer."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.runtime import resolve_device, seed_everything, set_threads  # noqa: E402
from saliency_repro.summarize.pipeline import train_summarizer  # noqa: E402

set_threads(snakemake.threads)
seed_everything(snakemake.params.seed)
train_summarizer(
    snakemake.input.train, snakemake.input.validation, snakemake.input.vocab, snakemake.params.cfg,
    snakemake.output.model, snakemake.output.history, snakemake.params.checkpoints,
    seed=snakemake.params.seed, device=resolve_device(snakemake.params.device),
)
