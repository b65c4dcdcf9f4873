"""Cheap checks when the workflow starts, so that ``snakemake -n`` already reports them.

A missing local file, a column the header does not have, a released crowd file that is not
there, a mirror folder that does not exist, or ``device: cuda:7`` on a machine without that GPU
used to pass the dry run and fail hours later in a job. Only what is cheap is checked here
(file existence, the header line or the parquet schema, the CUDA device count); the full
row-by-row validation stays in data preparation, which names file and line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from saliency_repro.config import ConfigError

DEFAULT_COLUMNS = {
    "classification": {"text": "text", "label": "label"},
    "summarization": {"article": "article", "summary": "summary"},
}


def preflight(config: dict[str, Any], local_exec: bool = True) -> None:
    """Raise :class:`ConfigError` for the first problem found (see the module docstring)."""
    mirror = config.get("download_mirror")
    if mirror and not Path(mirror).is_dir():
        raise ConfigError(f"config key 'download_mirror': {mirror!r} is not a directory")
    for name, ds in config.get("datasets", {}).items():
        key = f"datasets.{name}"
        src = ds["source"]
        if src["type"] == "local":
            for split, path in src["files"].items():
                _check_local_file(f"{key}.source.files.{split}", Path(path), src, ds["task"], split)
        for i, crowd in enumerate(ds.get("crowd_sources", [])):
            path = crowd.get("path")
            if path and not Path(path).is_file():
                raise ConfigError(f"config key '{key}.crowd_sources[{i}].path': {path} does not exist")
    if local_exec:
        check_device(config.get("device", "auto"))


def check_device(device: str) -> None:
    """``cuda`` / ``cuda:N`` must exist on this machine (a cluster job checks on its node)."""
    if not device.startswith("cuda"):
        return
    import torch

    if not torch.cuda.is_available():
        raise ConfigError(f"config key 'device': {device!r} but this machine has no CUDA device "
                          f"(use auto or cpu)")
    index = int(device.split(":")[1]) if ":" in device else 0
    if index >= torch.cuda.device_count():
        raise ConfigError(f"config key 'device': {device!r} but this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s)")


def _check_local_file(key: str, path: Path, src: dict, task: str, split: str) -> None:
    if not path.is_file():
        raise ConfigError(f"config key '{key}': {path} does not exist")
    split_opts = (src.get("split_options") or {}).get(split) or {}
    header = split_opts.get("header", src.get("header", True))
    columns = {**DEFAULT_COLUMNS[task], **(src.get("columns") or {}),
               **(split_opts.get("columns") or {})}
    wanted = [c for ref in columns.values() for c in (ref if isinstance(ref, list) else [ref])
              if isinstance(c, str)]
    if not header or not wanted:
        return
    have = header_columns(path, split_opts.get("format", src.get("format", "auto")),
                          split_opts.get("delimiter", src.get("delimiter")),
                          split_opts.get("encoding", src.get("encoding")) or "utf-8")
    if have is None:
        return
    missing = [c for c in wanted if c not in have]
    if missing:
        raise ConfigError(f"{path}:1: no column {missing[0]!r} (columns: {', '.join(map(str, have))}); "
                          f"map it under config key '{key.rsplit('.files.', 1)[0]}.columns'")


def header_columns(path: Path, fmt: str = "auto", delimiter: str | None = None,
                   encoding: str = "utf-8") -> list[str] | None:
    """Column names from the first line or the parquet schema; None when they cannot be read cheaply."""
    suffix = path.suffix.lower().lstrip(".")
    fmt = fmt if fmt != "auto" else {"parquet": "parquet", "jsonl": "jsonl", "json": "jsonl",
                                     "tsv": "tsv"}.get(suffix, "csv")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    try:
        with open(path, encoding=encoding, newline="") as fh:
            first = fh.readline()
            if fmt == "jsonl":
                record = json.loads(first) if first.strip() else {}
                return list(record) if isinstance(record, dict) else None
            if delimiter is None:
                delimiter = "\t" if fmt == "tsv" else _sniff(first)
            return next(csv.reader([first], delimiter=delimiter), [])
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None  # data preparation reports it with the line


def _sniff(line: str) -> str:
    try:
        return csv.Sniffer().sniff(line, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","
