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


def _split_option(src: dict, split: str, option: str, default: Any = None) -> Any:
    return ((src.get("split_options") or {}).get(split) or {}).get(option, src.get(option, default))


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
            if _split_option(src, split, "format") == "lines":
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
    split_opts = (src.get("split_options") or {}).get(split) or {}
    header = split_opts.get("header", src.get("header", True))
    if split_opts.get("format", src.get("format", "auto")) == "lines":
        return
    columns = {**DEFAULT_COLUMNS[task], **(src.get("columns") or {}),
               **(split_opts.get("columns") or {})}
    if per_class:
        columns.pop("label", None)
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
