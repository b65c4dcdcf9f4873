"""Snakemake adapter: rule faithfulness_compare."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.faithfulness.steps import compare_step  # noqa: E402

p = snakemake.params
compare_step(
    snakemake.input.per_sample, list(snakemake.input.aggregates), list(p.crowd_sources),
    dict(p.crowd_types), snakemake.wildcards.dataset, p.cfg, p.seed, p.with_paper, p.model_label,
    snakemake.output.values, snakemake.output.agreement, p.comparison, p.tau, p.figure, p.claims,
    p.captions,
)
