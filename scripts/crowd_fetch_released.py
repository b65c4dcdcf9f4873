"""Rules fetch_released_crowd / fetch_validation_release: the authors' released file (mirror
first, or a local path), sha256 verified and checked against the dataset's labels."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

from saliency_repro.crowd.released import fetch_release  # noqa: E402

fetch_release(snakemake.params.source, snakemake.output[0], len(snakemake.params.label_names),
              mirror=snakemake.params.mirror)
