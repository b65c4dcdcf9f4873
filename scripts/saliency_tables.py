"""Snakemake adapter: rules saliency_overlap_table, saliency_method_table, rationale_recall_table."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.saliency import steps  # noqa: E402

p = snakemake.params
if p.kind == "overlap":
    steps.overlap_step(snakemake.input.word_scores, snakemake.output.table[0], p.k, p.rank_by, p.caption,
                       p.k_key, snakemake.input.diagnostics, p.paper_ref,
                       pairs_stem=snakemake.output.pairs[0], pairs_caption=p.pairs_caption)
elif p.kind == "methods":
    steps.method_table_step(snakemake.output[0], p.cfg, p.caption)
elif p.kind == "rationale":
    steps.rationale_step(list(snakemake.input.word_scores), list(snakemake.input.samples),
                         p.sample_sets, snakemake.output[0], p.k, p.rank_by, p.caption)
else:
    raise ValueError(f"unknown table kind {p.kind!r}")
