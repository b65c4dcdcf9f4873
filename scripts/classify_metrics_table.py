"""Snakemake adapter: rule classifier_metrics_table."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.classify.steps import metrics_table_step  # noqa: E402

metrics_table_step(snakemake.input.metrics, {name: snakemake.input[name] for name in snakemake.params.sample_sets},
                   snakemake.wildcards.dataset, snakemake.output[0], snakemake.params.caption,
                   snakemake.params.n_samples, meta_path=snakemake.input.meta)
