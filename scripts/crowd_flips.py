"""Rule crowd_flips: Flips/Aids (Table 7), Flip example (Table 6), histogram (Figure 3)."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0])

from saliency_repro.crowd.steps import run_flips  # noqa: E402

run_flips(snakemake.input[0], snakemake.params.counts, snakemake.params.example,
          snakemake.params.hist, snakemake.config["run"], snakemake.wildcards.dataset,
          snakemake.wildcards.crowd_source, snakemake.params.paper_ref,
          snakemake.config["crowd"]["compare_with_paper"])
