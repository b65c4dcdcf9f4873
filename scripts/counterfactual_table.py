"""Snakemake adapter: verdicts and the table of confirmed fractions and tests."""

from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.counterfactual.pipeline import write_tables  # noqa: E402

write_tables(snakemake.input[0], snakemake.params.cfg, snakemake.params.run,
             snakemake.wildcards.dataset, snakemake.output.verdicts, snakemake.output.table[0])
