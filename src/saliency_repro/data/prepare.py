"""Write a dataset's normalized splits and its ``meta.json`` (the ``prepare_dataset`` rule)."""

from __future__ import annotations

import logging
from pathlib import Path

from saliency_repro.data.sources import load_source
from saliency_repro.io import write_json, write_parquet

LOG = logging.getLogger(__name__)


def prepare_dataset(
    name: str, dataset: dict, seed: int, out_dir: str | Path, downloads_dir: str | Path,
    mirror: str | None = None,
) -> dict:
    """Normalize one configured dataset into ``out_dir/{train,validation,test}.parquet``."""
    splits, meta = load_source(name, dataset, seed, downloads_dir, mirror)
    out_dir = Path(out_dir)
    for split in ("train", "validation", "test"):
        write_parquet(splits[split], out_dir / f"{split}.parquet")
        LOG.info("%s/%s: %d rows", name, split, len(splits[split]))
    write_json(out_dir / "meta.json", meta)
    return meta
