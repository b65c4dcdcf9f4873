"""Rule crowd_flips: Flips/Aids (Table 7), Flip example (Table 6), histogram (Figure 3)."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.steps import run_flips  # noqa: E402

run_flips(snakemake.input[0], snakemake.params.counts, snakemake.params.example,
          snakemake.params.hist, snakemake.params.run, snakemake.wildcards.dataset,
          snakemake.wildcards.crowd_source, snakemake.params.paper_ref,
          snakemake.params.compare_with_paper, snakemake.params.settings_note)
