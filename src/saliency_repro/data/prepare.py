"""Write a dataset's normalized splits and its ``meta.json`` (the ``prepare_dataset`` rule)."""

from __future__ import annotations

import logging
from pathlib import Path

from saliency_repro.data.sources import load_source
from saliency_repro.io import write_json, write_parquet

LOG = logging.getLogger(__name__)


def split_overlap_note(meta: dict) -> str:
    """The caption sentence of a dataset's evaluation split from its ``meta.json``: texts it
    shares with the training file (``split_overlap: warn``, kept) or the rows removed for that
    (``split_overlap: drop``); empty when there are none. The log alone hid 141 shared test
    texts of a spam corpus."""
    prov = meta.get("provenance", {})
    dropped = (prov.get("split_overlap_dropped") or {}).get("test", 0)
    if dropped:
        return (f"{dropped} test row(s) whose text or id also occurs in the training file were "
                f"removed from the test split (split_overlap: drop).")
    texts = (prov.get("split_overlap") or {}).get("test", 0)
    ids = (prov.get("split_shared_ids") or {}).get("test", 0)
    if texts or ids:
        return (f"{texts} test text(s) and {ids} test id(s) also occur in the training file and are "
                f"kept (split_overlap: warn); the test metrics count them.")
    return ""


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
