"""Rule fetch_released_crowd: the authors' released file (mirror first, sha256 checked) or a local path."""
from saliency_repro.runtime import setup_logging

setup_logging(snakemake.log[0], job=snakemake)

import shutil  # noqa: E402

from saliency_repro.download import fetch  # noqa: E402
from saliency_repro.io import atomic_path  # noqa: E402

src = snakemake.params.source
if src.get("path"):
    with atomic_path(snakemake.output[0]) as tmp:
        shutil.copyfile(src["path"], tmp)
else:
    fetch(src["url"], src.get("sha256", ""), snakemake.output[0],
          mirror=snakemake.params.mirror)
