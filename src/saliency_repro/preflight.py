"""Cheap checks when the workflow starts, so that ``snakemake -n`` already reports them.

A missing local file, a column the header does not have, a released crowd file that is not
there, a mirror folder that does not exist, or ``device: cuda:7`` on a machine without that GPU
used to pass the dry run and fail hours later in a job. Only what is cheap is checked here
(file existence, the header line or the parquet schema, the layout of per-class files, the CUDA
device count); the full row-by-row validation stays in data preparation, which names file and
line.
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
        check_layout(key, ds)
        if src["type"] == "local":
            for file_key, path in source_files(src).items():
                split, _, label = file_key.partition(".")
                _check_local_file(f"{key}.source.files.{file_key}", Path(path), src, ds["task"], split,
                                  per_class=bool(label))
                if ds["task"] == "classification" and not label:
                    check_label_head(key, Path(path), ds, split)
        for i, crowd in enumerate(ds.get("crowd_sources", [])):
            path = crowd.get("path")
            if path and not Path(path).is_file():
                raise ConfigError(f"config key '{key}.crowd_sources[{i}].path': {path} does not exist")
    if local_exec:
        check_device(config.get("device", "auto"))


def is_per_class(spec: Any, kind: str) -> bool:
    """Whether a split's ``files`` entry maps label names to files (local: to paths; url: to
    ``{url, sha256}`` objects, which a single download also is)."""
    return isinstance(spec, dict) and (kind == "local" or all(isinstance(v, dict) for v in spec.values()))


def source_files(src: dict) -> dict[str, Any]:
    """Every file of a local or url source by its key under ``files``: ``train``, or
    ``train.negative`` for one file per class (the workflow's inputs and digests need them flat)."""
    out: dict[str, Any] = {}
    for split, spec in (src.get("files") or {}).items():
        if is_per_class(spec, src["type"]):
            out.update({f"{split}.{label}": one for label, one in spec.items()})
        else:
            out[split] = spec
    return out


def reading_options(src: dict, split: str) -> dict[str, Any]:
    """How one split is read: the source's options with that split's ``split_options`` on
    top (a key given there replaces the source's, ``columns`` as a whole). The dry run's checks
    and data preparation read a split with the same options."""
    return {**src, **((src.get("split_options") or {}).get(split) or {})}


def check_layout(key: str, ds: dict[str, Any]) -> None:
    """Per-class files only for classification, keyed by the dataset's label names; ``format:
    lines`` only with them (a line holds a text and nothing else, so its label must come from
    the file). Checked by the dry run and again by data preparation."""
    src = ds["source"]
    if src["type"] not in ("local", "url"):
        return
    labels = ds.get("label_names") or []
    for split, spec in src["files"].items():
        where = f"{key}.source.files.{split}"
        if not is_per_class(spec, src["type"]):
            if reading_options(src, split).get("format") == "lines":
                raise ConfigError(f"config key '{where}': format lines gives texts without labels; map "
                                  f"each label name to its file, e.g. {{negative: neg.txt, positive: pos.txt}}, "
                                  f"or give this split its own format under {key}.source.split_options.{split}")
            continue
        if ds["task"] != "classification":
            raise ConfigError(f"config key '{where}': one file per class needs a classification "
                              f"dataset (this one is {ds['task']})")
        for label in spec:
            if label not in labels:
                raise ConfigError(f"config key '{where}.{label}': {label!r} is not one of "
                                  f"{key}.label_names {labels}")


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


def _check_local_file(key: str, path: Path, src: dict, task: str, split: str, per_class: bool = False) -> None:
    """The file exists and its header has the mapped columns (none for lines; no label column
    for one file per class, whose key is the label)."""
    if not path.is_file():
        raise ConfigError(f"config key '{key}': {path} does not exist")
    options = reading_options(src, split)
    header = options.get("header", True)
    if options.get("format", "auto") == "lines":
        return
    columns = {**DEFAULT_COLUMNS[task], **(options.get("columns") or {})}
    if per_class:
        columns.pop("label", None)
    wanted = [c for ref in columns.values() for c in (ref if isinstance(ref, list) else [ref])
              if isinstance(c, str)]
    if not header or not wanted:
        return
    have = header_columns(path, options.get("format", "auto"), options.get("delimiter"),
                          options.get("encoding") or "utf-8")
    if have is None:
        return
    missing = [c for c in wanted if c not in have]
    if missing:
        raise ConfigError(f"{path}:1: no column {missing[0]!r} (columns: {', '.join(map(str, have))}); "
                          f"map it under config key '{key.rsplit('.files.', 1)[0]}.columns'")


#: how much of a local file the label check reads (whole lines; parquet: the first batch)
HEAD_BYTES = 1 << 20


def check_label_head(key: str, path: Path, ds: dict, split: str) -> None:
    """The labels of a file's first rows against ``label_names``: a 1-based or renamed label
    column (AG News' 1..4, "pos"/"neg" for positive/negative) fails on its first rows, so the
    dry run says it instead of data preparation, after the jobs before it. The full check, row
    by row, stays in data preparation."""
    from saliency_repro.data import sources

    options = reading_options(ds["source"], split)
    if options.get("drop_invalid"):
        return  # unknown labels are dropped and counted by design
    try:
        table = sources.read_file(path, options, head_bytes=HEAD_BYTES)
    except sources.DataError:
        return  # data preparation names the file and line
    ref = {**DEFAULT_COLUMNS["classification"], **(options.get("columns") or {})}["label"]
    if isinstance(ref, list) or ref not in table.frame.columns:
        return
    for i, raw in enumerate(table.frame[ref]):
        if sources.label_index(raw, ds["label_names"], options.get("label_values")) is None:
            values = options.get("label_values")
            raise ConfigError(
                f"{table.where(i)}: label {raw!r} is outside config key '{key}.label_names' "
                f"{ds['label_names']}" + (f" (label_values {values})" if values else "")
                + "; labels are 0-based indices or label names, else map them with "
                f"'{key}.source.label_values'")


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
