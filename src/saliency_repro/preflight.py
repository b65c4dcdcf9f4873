"""Cheap checks when the workflow starts, so that ``snakemake -n`` already reports them.

A missing local file, a column the header does not have, a released crowd file that is not
there, a mirror folder that does not exist, or ``device: cuda:7`` on a machine without that GPU
used to pass the dry run and fail hours later in a job. Only what is cheap is checked here:
file existence; the first megabyte of every local data file read with its configured settings
(encoding, format, delimiter, line_pattern: a decoding or format error there is reported with
file and line, not thrown away), its columns, the labels of its first rows; the layout of
per-class files; a local released crowd file in full (small: its pinned sha256, its format, its
labels); the header of a platform crowd file; the CUDA device count. The full row-by-row
validation stays in data preparation, which names file and line.

:func:`preflight` returns warnings (text that looks like UTF-8 read as latin-1, unpinned
downloads taken from a mirror by name) for the caller to print.
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


def preflight(config: dict[str, Any], local_exec: bool = True) -> list[str]:
    """Raise :class:`ConfigError` for the first problem found (see the module docstring);
    return the warnings, each naming the key."""
    warnings: list[str] = []
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
                warnings += check_head(key, Path(path), ds, split, per_class=bool(label))
        if src["type"] == "url" and mirror:
            for file_key, spec in source_files(src).items():
                if not spec.get("sha256"):
                    warnings.append(
                        f"config key '{key}.source.files.{file_key}.sha256' is empty: any file named "
                        f"{Path(spec['url']).name!r} in download_mirror is used, even another "
                        f"dataset's; pin it")
        for i, crowd in enumerate(ds.get("crowd_sources", [])):
            if crowd.get("url") and not crowd.get("path") and not crowd.get("sha256") and mirror:
                warnings.append(
                    f"config key '{key}.crowd_sources[{i}].sha256' is empty: any file named "
                    f"{Path(crowd['url']).name!r} in download_mirror is used, even another "
                    f"dataset's; pin it")
            path = crowd.get("path")
            if path and not Path(path).is_file():
                raise ConfigError(f"config key '{key}.crowd_sources[{i}].path': {path} does not exist")
            if path and crowd["type"] == "released":
                check_released_file(f"{key}.crowd_sources[{i}]", crowd, len(ds.get("label_names") or []))
            if path and crowd["type"] == "platform":
                check_platform_header(f"{key}.crowd_sources[{i}]", crowd,
                                      config.get("crowd", {}).get("platform", {}).get("min_seconds", 120))
    if local_exec:
        check_device(config.get("device", "auto"))
    return warnings


def check_released_file(key: str, crowd: dict, n_classes: int) -> None:
    """A local released crowd file in full (a few hundred kB): its pinned sha256, its format and
    its labels, as the fetch job would check them after the work before it."""
    from saliency_repro.crowd.released import ReleasedFormatError, check_release_file
    from saliency_repro.download import ChecksumError

    try:
        check_release_file(crowd["path"], crowd.get("sha256") or "", n_classes)
    except (ReleasedFormatError, ChecksumError) as exc:
        raise ConfigError(f"{exc} (config key '{key}.path')") from None


def check_platform_header(key: str, crowd: dict, min_seconds: float) -> None:
    """A platform crowd file's header: not empty, comma-separated, with the columns of its
    layout, and a submission time when ``crowd.platform.min_seconds`` asks for one."""
    path = Path(crowd["path"])
    with open(path, encoding="utf-8-sig", newline="", errors="replace") as fh:
        first = fh.readline()
    if not first.strip():
        raise ConfigError(f"{path}:1: empty file or missing header (config key '{key}.path')")
    header = [h.strip() for h in next(csv.reader([first]))]
    if len(header) == 1:
        other = next((d for d in ("\t", ";", "|") if d in first), None)
        if other:
            raise ConfigError(f"{path}:1: the header is split by {other!r}; platform files are "
                              f"comma-separated CSV (config key '{key}.path')")
    layout = crowd.get("format", "long")
    if layout == "mturk":
        needed, time = ["WorkerId"], "WorkTimeInSeconds"
        if not any(h.startswith("Input.task_id_") for h in header):
            needed.append("Input.task_id_<n>")
    else:
        needed, time = ["task_id", "worker_id", "answer"], "seconds"
    missing = [c for c in needed if c not in header]
    if missing:
        raise ConfigError(f"{path}:1: no column {missing[0]!r} for format {layout} (columns: "
                          f"{', '.join(map(repr, header))}); config key '{key}.format'")
    if min_seconds > 0 and time not in header:
        raise ConfigError(f"{path}:1: no {time} column, but crowd.platform.min_seconds is "
                          f"{min_seconds:g}: the too-fast rule cannot be applied; add the times or "
                          f"set config key 'crowd.platform.min_seconds' to 0")


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
    """The file exists (its columns are checked by :func:`check_head`)."""
    try:
        path.stat()
    except FileNotFoundError:
        broken = " (a symlink to a missing file)" if path.is_symlink() else ""
        raise ConfigError(f"config key '{key}': {path} does not exist{broken}") from None
    except OSError as exc:  # a symlink loop, a path too long
        raise ConfigError(f"config key '{key}': {path}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise ConfigError(f"config key '{key}': {path} is not a file")


#: how much of a local file the label check reads (whole lines; parquet: the first batch)
HEAD_BYTES = 1 << 20


def _options_key(key: str, src: dict, split: str, option: str) -> str:
    """The config key an option of a split comes from: its split_options entry, else the source."""
    if option in ((src.get("split_options") or {}).get(split) or {}):
        return f"{key}.source.split_options.{split}.{option}"
    return f"{key}.source.{option}"


def check_head(key: str, path: Path, ds: dict, split: str, per_class: bool = False) -> list[str]:
    """The first megabyte of a local file read with its split's settings, as data preparation
    will read it: a decoding or format error (cp1252 bytes, UTF-16, a ragged row, a compressed
    file, a JSON array, a line the line_pattern does not match) is reported with file and line,
    the mapped columns must exist (names, or positions within the row), and the labels of the
    first rows must be covered. Returns a warning when the text looks like UTF-8 decoded as
    latin-1."""
    from saliency_repro.data import sources

    src = ds["source"]
    options = dict(reading_options(src, split))
    warnings = []
    if per_class:  # the label is the file's key (as data preparation reads it)
        options["columns"] = {k: v for k, v in (options.get("columns") or {}).items() if k != "label"}
    try:
        table = sources.read_file(path, options, head_bytes=HEAD_BYTES)
    except sources.DataError as exc:
        raise ConfigError(f"{exc} (config key '{key}.source')") from None
    with open(path, "rb") as fh:
        odd = sources.mojibake(fh.read(HEAD_BYTES), options.get("encoding"))
    if odd and odd[2]:
        warnings.append(f"config key '{_options_key(key, src, split, 'encoding')}' is "
                        f"{options.get('encoding') or 'utf-8'!r}, but {path}:{odd[0]} reads as "
                        f"{odd[1]!r}: UTF-8 text decoded as a single-byte encoding (mojibake); "
                        f"use encoding utf-8")
    elif odd:
        warnings.append(f"{path}:{odd[0]}: {odd[1]!r} looks like UTF-8 text once decoded as "
                        f"latin-1 and saved so (mojibake in the file itself; config key "
                        f"'{_options_key(key, src, split, 'encoding')}' cannot repair it)")
    if options.get("format") == "lines":
        return warnings
    columns = {**DEFAULT_COLUMNS[ds["task"]], **(options.get("columns") or {})}
    if per_class:
        columns.pop("label", None)
    for field, ref in columns.items():
        for one in ref if isinstance(ref, list) else [ref]:
            try:
                found = sources.resolve_column(table, one, field)
            except sources.DataError as exc:
                raise ConfigError(f"{exc} (config key '{_options_key(key, src, split, 'columns')}')") from None
            if found is None:
                names = table.header if table.header is not None else list(table.frame.columns)
                raise ConfigError(
                    f"{path}:1: no column {sources.show(one)} (columns: "
                    f"{', '.join(sources.show(c) for c in names)}); map it under config key "
                    f"'{_options_key(key, src, split, 'columns')}'")
    if ds["task"] == "classification" and not per_class:
        check_label_head(key, table, ds, split)
    return warnings


def check_label_head(key: str, table: Any, ds: dict, split: str) -> None:
    """The labels of a file's first rows against ``label_names``: a 1-based or renamed label
    column (AG News' 1..4, "pos"/"neg" for positive/negative) fails on its first rows, so the
    dry run says it instead of data preparation, after the jobs before it. The full check, row
    by row, stays in data preparation."""
    from saliency_repro.data import sources

    options = reading_options(ds["source"], split)
    if options.get("drop_invalid"):
        return  # unknown labels are dropped and counted by design
    ref = {**DEFAULT_COLUMNS["classification"], **(options.get("columns") or {})}["label"]
    column = None if isinstance(ref, list) else sources.resolve_column(table, ref)
    if column is None:
        return
    for i, raw in enumerate(table.frame[column]):
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
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowException, OSError):
            return None  # not a parquet file: check_head names it
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
        encoding = "utf-8-sig"  # Excel's "CSV UTF-8" starts with a byte order mark
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
