"""Read every kind of source into one normalized, validated table per split.

Sources: ``synthetic`` (the demo), ``local`` (csv, tsv, jsonl, parquet, lines), ``url``
(downloaded with a sha256 check, then read as local) and ``huggingface`` (hub dataset, pinned
revision). A local or url split may be one file per class (label name -> file, e.g. Pang & Lee's
``rt-polarity.neg`` / ``.pos``); a missing test or validation split is carved from train, and
``max_rows`` subsamples, keeping the class proportions unless ``stratify`` is false.
Errors name the file and line: missing column, empty text, label outside the declared set,
duplicate id, undecodable bytes. Nothing is dropped silently: with ``drop_invalid`` the dropped
rows are counted per reason and logged, and the counts go to ``meta.json``.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.data import synthetic
from saliency_repro.download import fetch, url_file_name
from saliency_repro.errors import InputError
from saliency_repro.preflight import check_layout, is_per_class, reading_options

LOG = logging.getLogger(__name__)

DEFAULT_COLUMNS = {
    "classification": {"id": "id", "text": "text", "label": "label"},
    "summarization": {"id": "id", "article": "article", "summary": "summary"},
}
TEXT_FIELDS = {"classification": ("text",), "summarization": ("article", "summary")}
LINE_FIELDS = {"summary"}
OPTIONAL = {"id"}
CLASS_COLUMN = "__class__"  # per-class files: the label, from the file's key
GENERATED = "__generated_id__"  # rows whose id the package made (split-[label-]line): renamed when carved
LINES_COLUMN = "text"  # format lines: the one column
TEST_STREAM = 1  # the test carving draws from default_rng([seed, TEST_STREAM]), validation from seed


class DataError(InputError):
    """Bad input data; the message names the file and line."""


@dataclass
class RawTable:
    """Rows as read from one file, with the line each row starts on (for error messages)."""

    name: str
    frame: pd.DataFrame
    lines: list[int]
    line_word: str = "line"
    names: list[str] | None = None  # per row, when the rows come from several files
    default_ids: list[str] | None = None  # ids where the file has none (else split-rownumber)
    header: list[str] | None = None  # a delimited file's header names, by position
    delimiter: str | None = None  # what a delimited file was split on (joins spill-over columns)

    def where(self, i: int) -> str:
        name = self.names[i] if self.names else self.name
        return f"{name}:{self.lines[i]}" if self.line_word == "line" else f"{name} {self.line_word} {self.lines[i]}"


def show(name: Any) -> str:
    """A column name as it must be written, invisible characters shown (a BOM, a trailing
    space, a tab): ``'text'``, ``'\\ufefftext'``."""
    return repr(name) if isinstance(name, str) else str(name)


def resolve_column(table: RawTable, ref: Any, field_name: str = "") -> Any:
    """The frame column a ``columns`` reference names, or None when the table has none such.

    An integer is a column's 0-based position in the row, with or without a header (columns
    whose header name is empty or repeated, as spreadsheet exports write them, are reached that
    way); a name repeated in the header is refused, naming both positions."""
    header = table.header
    if isinstance(ref, str) and header is not None and header.count(ref) > 1:
        at = [i for i, name in enumerate(header) if name == ref]
        raise DataError(f"{table.name}:1: column name {show(ref)} appears {len(at)} times in the "
                        f"header (0-based positions {', '.join(map(str, at))}); refer to one by its "
                        f"position under the source's 'columns'" + (f" for {field_name!r}" if field_name else ""))
    if isinstance(ref, str) and header is not None and list(table.frame.columns[:len(header)]) != header:
        return header.index(ref) if ref in header else None  # positional frame (repeated names)
    if ref in table.frame.columns:
        return ref
    if isinstance(ref, int) and not isinstance(ref, bool) and 0 <= ref < len(table.frame.columns):
        return table.frame.columns[ref]
    return None


@dataclass
class SplitReport:
    rows_read: int = 0
    dropped: Counter = field(default_factory=Counter)


# ---------------------------------------------------------------- reading files


#: magic bytes of files that are not text: (prefix, what, what to do)
MAGIC = [(b"\x1f\x8b", "a gzip-compressed file", "decompress it first (gunzip)"),
         (b"PK\x03\x04", "a zip archive", "unpack it first (unzip)"),
         (b"BZh", "a bzip2-compressed file", "decompress it first (bunzip2)"),
         (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it first (unxz)"),
         (b"PAR1", "a parquet file", "set the source's 'format: parquet'")]
#: byte order marks of encodings a file may announce
BOMS = [(b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")]


def check_magic(path: Path, fmt: str, head: bytes) -> None:
    """Refuse a compressed or binary file before parsing it as text, and a file that is not
    parquet under format parquet, with what to do (not pyarrow's or the CSV reader's error)."""
    for prefix, what, todo in MAGIC:
        if head.startswith(prefix) and not (fmt == "parquet" and prefix == b"PAR1"):
            raise DataError(f"{path}:1: {what}, not a {fmt if fmt != 'auto' else 'text'} file; {todo}")
    if fmt == "parquet" and not head.startswith(b"PAR1"):
        start = head[:12].decode("utf-8", "replace")
        raise DataError(f"{path}:1: not a parquet file (it starts with {start!r}); a CSV or other "
                        f"text file needs the right suffix or the source's 'format'")


#: the classic mojibake of UTF-8 read as latin-1 / cp1252: a lead byte's character (Ã, Â, â)
#: followed by a continuation byte's character (e.g. "Ã©" for "é", "â€™" for "’")
_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
                       "\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def mojibake(data: bytes, encoding: str | None) -> tuple[int, str, bool] | None:
    """(line, example, fixable) when the text decoded with ``encoding`` holds the pattern of
    UTF-8 read as latin-1 (``clichÃ©s``): ``fixable`` when ``encoding`` is a single-byte one
    and the bytes are valid UTF-8 (reading them as UTF-8 fixes it); not fixable when the file
    itself holds the pattern (it was decoded wrongly once and saved so). None if neither."""
    enc = (encoding or "utf-8").lower().replace("_", "-")
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None
    single_byte = enc not in ("utf-8", "utf8", "utf-8-sig") and not enc.startswith("utf-16")
    if single_byte and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    match = _MOJIBAKE.search(text)
    if match is None:
        return None
    line = text.count("\n", 0, match.start()) + 1
    word = re.search(r"\S*$", text[:match.start()]).group() + re.match(r"\S*", text[match.start():]).group()
    return line, word[:40], single_byte


def _decode(path: Path, encoding: str | None, data: bytes | None = None) -> str:
    data = path.read_bytes() if data is None else data
    enc = encoding or "utf-8"
    for bom, name in BOMS:
        if data.startswith(bom) and not enc.lower().replace("_", "-").startswith("utf-16"):
            raise DataError(f"{path}:1: the file starts with a {name.upper()} byte order mark but is "
                            f"read as {enc!r}; set the source's 'encoding: {name}'")
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}:{line}: undecodable bytes for encoding {enc!r} "
            f"(byte {data[exc.start:exc.start + 1]!r}); set the source's 'encoding'"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise DataError(f"{path}:{text.count(chr(10), 0, nul) + 1}: NUL byte (a binary file, or "
                        f"UTF-16 read as {enc!r}: set the source's 'encoding')")
    return text.lstrip("\ufeff")


def detect_format(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    suffix = path.suffix.lower().lstrip(".")
    known = {"csv": "csv", "tsv": "tsv", "tab": "tsv", "jsonl": "jsonl", "ndjson": "jsonl",
             "json": "jsonl", "parquet": "parquet", "pq": "parquet"}
    if suffix not in known:
        raise DataError(f"{path}: cannot tell the format from the suffix {suffix!r}; set 'format'")
    return known[suffix]


def read_file(path: str | Path, options: dict[str, Any], head_bytes: int | None = None) -> RawTable:
    """Read one file as strings, remembering each row's first line; with ``head_bytes`` only
    its first rows (the whole lines within that many bytes, or the first parquet batch), for
    the cheap checks of :mod:`saliency_repro.preflight`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open(path, "rb") as fh:
        head = fh.read(16)
    try:
        fmt = detect_format(path, options.get("format", "auto"))
    except DataError:
        check_magic(path, "auto", head)  # data.csv.gz: say it is compressed, not the suffix
        raise
    check_magic(path, fmt, head)
    if fmt == "parquet":
        if head_bytes is None:
            frame = pd.read_parquet(path)
        else:
            import pyarrow.parquet as pq

            batch = next(pq.ParquetFile(path).iter_batches(batch_size=1000), None)
            frame = batch.to_pandas() if batch is not None else pd.DataFrame()
        return RawTable(str(path), frame, list(range(1, len(frame) + 1)), line_word="row")
    data = None
    encoding = (options.get("encoding") or "utf-8").lower().replace("_", "-")
    wide = encoding.startswith(("utf-16", "utf-32"))  # a newline byte may sit inside a unit
    if head_bytes is not None:
        with open(path, "rb") as fh:
            data = fh.read(head_bytes)
        if len(data) == head_bytes and not wide:
            data = data[:data.rfind(b"\n") + 1]
    truncated = data is not None and len(data) < path.stat().st_size
    if truncated and wide:  # decode what is whole, then cut at the last line break
        text = codecs.getincrementaldecoder(encoding)().decode(data, final=False)
        text = text[:text.rfind("\n") + 1].lstrip("\ufeff")
    else:
        text = _decode(path, options.get("encoding"), data)
    odd = mojibake(data if data is not None else path.read_bytes(), options.get("encoding"))
    if odd:
        LOG.warning("%s:%d: %r looks like UTF-8 read as latin-1 (mojibake; read as %r)%s", path,
                    odd[0], odd[1], options.get("encoding") or "utf-8",
                    ": the file is UTF-8, set the source's 'encoding: utf-8'" if odd[2]
                    else ": the file itself holds it; no encoding setting repairs it")
    if fmt == "jsonl":
        return _read_jsonl(path, text)
    if fmt == "lines":
        return _read_lines(path, text)
    if fmt == "regex":
        return _read_regex(path, text, options.get("line_pattern") or "")
    delimiter = options.get("delimiter")
    if delimiter is None:
        delimiter = "\t" if fmt == "tsv" else _sniff(text)
    return _read_delimited(path, text, delimiter, options.get("header", True), truncated)


def _sniff(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _read_delimited(path: Path, text: str, delimiter: str, header: bool,
                    truncated: bool = False) -> RawTable:
    """``truncated``: ``text`` is the head of the file (preflight); its last record may be cut
    inside a quoted field, so it is left out."""
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines = [], []
    start = 1
    for record in reader:
        if record:
            rows.append(record)
            lines.append(start)
        start = reader.line_num + 1
    if truncated and len(rows) > int(header):
        rows, lines = rows[:-1], lines[:-1]
    names = None
    if header:
        if not rows:
            raise DataError(f"{path}: empty file (no header row)")
        columns, rows, lines = rows[0], rows[1:], lines[1:]
        names = list(columns)
        if len(set(names)) < len(names):  # repeated or empty names: columns by position
            columns = list(range(len(names)))
    else:
        width = max((len(r) for r in rows), default=0)
        columns = list(range(width))
    for record, line in zip(rows, lines, strict=True):
        if len(record) != len(columns):
            # a quote that is never closed swallows the following lines into one field
            hint = "; an unclosed quote joins lines" if any("\n" in f for f in record) else ""
            raise DataError(f"{path}:{line}: {len(record)} fields, expected {len(columns)} "
                            f"(delimiter {delimiter!r}{hint})")
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return RawTable(str(path), frame, lines, header=names, delimiter=delimiter)


def _physical_lines(text: str) -> list[str]:
    r"""Lines split on ``\n`` only: ``str.splitlines`` also splits on \x85, \x0c, \u2028 and
    the like, which latin-1 text (MR polarity) and JSON strings may hold, shifting line numbers."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _read_lines(path: Path, text: str) -> RawTable:
    """``format: lines``: every non-empty line is one text (no header, no columns)."""
    numbered = [(n, line) for n, line in enumerate(_physical_lines(text), start=1) if line.strip()]
    frame = pd.DataFrame({LINES_COLUMN: [line for _, line in numbered]}, dtype=object)
    return RawTable(str(path), frame, [n for n, _ in numbered])


def _read_regex(path: Path, text: str, pattern: str) -> RawTable:
    """``format: regex``: every non-empty line is matched by ``line_pattern`` as a whole; its
    named groups are the columns (TREC's ``DESC:manner How did ...``, the label in the line)."""
    compiled = re.compile(pattern)
    records, lines = [], []
    for number, line in enumerate(_physical_lines(text), start=1):
        if not line.strip():
            continue
        match = compiled.fullmatch(line)
        if match is None:
            raise DataError(f"{path}:{number}: line {line[:60]!r} does not match the source's "
                            f"line_pattern {pattern!r}")
        records.append(match.groupdict(default=""))
        lines.append(number)
    frame = pd.DataFrame.from_records(records, columns=list(compiled.groupindex))
    return RawTable(str(path), frame, lines)


def _read_per_class(split: str, mapping: dict, options: dict, label_names: list[str]) -> RawTable:
    """One file per class, concatenated in mapping order: each row gets its file's key as label
    (as its index, so a label named "1" is not read as index 1) and keeps its own file and line
    for error messages; generated ids are split-label-line."""
    tables = [read_file(path, options) for path in mapping.values()]
    words = {t.line_word for t in tables}
    if len(words) > 1:
        raise DataError(f"{', '.join(t.name for t in tables)}: the files of one split need one format")
    columns = {**DEFAULT_COLUMNS["classification"], **(options.get("columns") or {})}
    defaults = [[f"{split}-{label}-{n:06d}" for n in t.lines] for t, label in zip(tables, mapping, strict=True)]
    some_have_ids = any(resolve_column(t, columns["id"]) is not None for t in tables)
    for table, label, ids in zip(tables, mapping, defaults, strict=True):
        for ref in columns["text"] if isinstance(columns["text"], list) else [columns["text"]]:
            _require_column(table, ref, "text")
        table.frame[CLASS_COLUMN] = label_names.index(label)
        if some_have_ids and resolve_column(table, columns["id"]) is None:
            table.frame[columns["id"]] = ids  # a file without ids beside files with them
    headers = {tuple(t.header) if t.header is not None else None for t in tables}
    delimiters = {t.delimiter for t in tables}
    return RawTable(
        ", ".join(t.name for t in tables), pd.concat([t.frame for t in tables], ignore_index=True),
        [n for t in tables for n in t.lines], words.pop(), names=[t.name for t in tables for _ in t.lines],
        default_ids=[i for ids in defaults for i in ids],
        header=list(headers.pop() or []) or None if len(headers) == 1 else None,
        delimiter=delimiters.pop() if len(delimiters) == 1 else None,
    )


def _read_jsonl(path: Path, text: str) -> RawTable:
    records, lines = [], []
    for number, line in enumerate(_physical_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise DataError(f"{path}:{number}: expected one JSON object per line, got a "
                            f"{type(record).__name__} (a JSON array file must be converted to JSON Lines)")
        records.append(record)
        lines.append(number)
    return RawTable(str(path), pd.DataFrame.from_records(records), lines)


# ---------------------------------------------------------------- normalizing


def _require_column(table: RawTable, ref: Any, field_name: str) -> Any:
    """The frame column of ``ref`` (see :func:`resolve_column`); a missing one names the file
    and every column, invisible characters shown."""
    key = resolve_column(table, ref, field_name)
    if key is None:
        names = table.header if table.header is not None else list(table.frame.columns)
        available = ", ".join(show(c) for c in names)
        raise DataError(
            f"{table.name}: missing column {show(ref)} for field {field_name!r} "
            f"(columns: {available}); map it under the source's 'columns'"
        )
    return key


def _as_text(table: RawTable, values: pd.Series, field_name: str) -> pd.Series:
    """Values as strings; a JSON object or array is refused (its Python repr is no text)."""
    for i, v in enumerate(values):
        if isinstance(v, (dict, list, np.ndarray)):
            kind = "object" if isinstance(v, dict) else "array"
            raise DataError(f"{table.where(i)}: {field_name} is a JSON {kind}, not a string; map "
                            f"a string field under the source's 'columns'")
    return values.map(lambda v: v if isinstance(v, str) else str(v))


def _column(table: RawTable, ref: Any, field_name: str) -> pd.Series:
    """One field; a list of columns is joined with a space, except a column with an empty
    header name after the first (a spreadsheet's spill-over of an unquoted delimiter), which is
    joined with the delimiter it was split on, its empty trailing fields left out."""
    refs = ref if isinstance(ref, list) else [ref]
    parts, seps = [], []
    for r in refs:
        key = _require_column(table, r, field_name)
        parts.append(_as_text(table, table.frame[key].astype(object).where(table.frame[key].notna(), ""),
                              field_name))
        position = list(table.frame.columns).index(key)
        spill = (table.header is not None and table.delimiter is not None and position < len(table.header)
                 and table.header[position] == "")
        seps.append(table.delimiter if spill else " ")
    if len(parts) == 1:
        return parts[0]
    rows = zip(*(p.tolist() for p in parts), strict=True)
    return pd.Series([_join(values, seps) for values in rows], index=parts[0].index, dtype=object)


def _join(values: tuple[str, ...], seps: list[str]) -> str:
    end = len(values)
    while end > 1 and values[end - 1] == "" and seps[end - 1] != " ":
        end -= 1  # empty trailing spill-over fields: padding, not text
    out = values[0]
    for value, sep in zip(values[1:end], seps[1:end], strict=True):
        out += sep + value
    return out


_NUMERIC_ENTITY = re.compile(r"(?<!&)#(\d+);")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def clean_text(text: str, steps: list[str], keep_lines: bool = False) -> str:
    """Source-specific cleanup; whitespace is always normalized to single spaces, within each
    line with ``keep_lines`` (empty lines dropped, lines joined by ``"\\n"``)."""
    if "html_breaks" in steps:
        text = _BREAK.sub(" ", text)
    if "html_entities" in steps:
        text = html.unescape(_NUMERIC_ENTITY.sub(lambda m: chr(int(m.group(1))), text))
        text = text.replace("\\", " ")
    if keep_lines:
        return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.split())
    return " ".join(text.split())


def label_index(raw: Any, label_names: list[str], label_values: list | None) -> int | None:
    if label_values is not None:
        as_str = [str(v) for v in label_values]
        key = str(raw).strip()
        if key in as_str:
            index = as_str.index(key)
        else:
            try:
                index = as_str.index(str(int(float(key))))
            except (ValueError, OverflowError):
                return None
        return index if index < len(label_names) else None  # a value beyond the classes
    if isinstance(raw, (int, np.integer)) and not isinstance(raw, bool):
        value = int(raw)
        return value if 0 <= value < len(label_names) else None
    key = str(raw).strip()
    if re.fullmatch(r"-?\d+(\.0+)?", key):
        value = int(float(key))
        return value if 0 <= value < len(label_names) else None
    return label_names.index(key) if key in label_names else None


def normalize(
    table: RawTable, task: str, source: dict, label_names: list[str] | None, split: str,
    report: SplitReport,
) -> pd.DataFrame:
    """Map, clean and validate one split; raise :class:`DataError` naming file and line."""
    columns = {**DEFAULT_COLUMNS[task], **(source.get("columns") or {})}
    drop = source.get("drop_invalid", False)
    cleanup = source.get("text_cleanup", [])
    n = len(table.frame)
    report.rows_read += n
    out = pd.DataFrame(index=range(n))
    use_column = source.get("ids", "column") == "column"
    if use_column and (resolve_column(table, columns["id"]) is not None or "id" in (source.get("columns") or {})):
        out["id"] = _column(table, columns["id"], "id").map(str.strip).to_numpy()
    else:
        out["id"] = table.default_ids or [f"{split}-{i:06d}" for i in range(n)]
        out[GENERATED] = True
    for name in TEXT_FIELDS[task]:
        # a summary keeps its line breaks: CNN/DM has one highlight per line, the sentence
        # boundaries ROUGE-Lsum needs (tokenization splits on any whitespace, so nothing else
        # sees them)
        keep = name in LINE_FIELDS
        out[name] = _column(table, columns[name], name).map(
            lambda t, keep=keep: clean_text(t, cleanup, keep)).to_numpy()
    keep = np.ones(n, dtype=bool)
    for name in TEXT_FIELDS[task]:
        for i in np.flatnonzero(out[name].to_numpy() == ""):
            if not drop:
                raise DataError(f"{table.where(i)}: empty {name} (set drop_invalid: true to drop such rows)")
            keep[i] = False
            report.dropped[f"empty_{name}"] += 1
        for i in np.flatnonzero([keep[j] and not any(c.isalnum() for c in t)
                                 for j, t in enumerate(out[name].to_numpy())]):
            # nothing a reader (or the crowd display) could be shown
            if not drop:
                raise DataError(f"{table.where(i)}: {name} {out[name].iloc[i][:40]!r} has no letter or "
                                f"digit (set drop_invalid: true to drop such rows)")
            keep[i] = False
            report.dropped[f"no_word_{name}"] += 1
    if task == "classification":
        raw = _column_raw(table, columns["label"])
        labels = np.full(n, -1, dtype=np.int64)
        for i, value in enumerate(raw):
            idx = label_index(value, label_names, source.get("label_values"))
            if idx is None:
                if not drop:
                    raise DataError(
                        f"{table.where(i)}: label {value!r} is outside the declared label set "
                        f"{label_names}" + (f" (label_values {source['label_values']})" if source.get("label_values") else "")
                    )
                if keep[i]:
                    report.dropped["unknown_label"] += 1
                keep[i] = False
            else:
                labels[i] = idx
        out["label"] = labels
    ids = out["id"].to_numpy()
    for i in np.flatnonzero(ids == ""):
        raise DataError(f"{table.where(i)}: empty id")
    seen: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if not keep[i]:
            continue
        if ident in seen:
            raise DataError(f"{table.where(i)}: duplicate id {ident!r} (first at {table.where(seen[ident])})")
        seen[ident] = i
    out = out[keep].reset_index(drop=True)
    if task == "classification":
        out["rationale"] = [[] for _ in range(len(out))]
        out["distractors"] = [[] for _ in range(len(out))]
    else:
        out["source_positions"] = [[] for _ in range(len(out))]
    return out


def _column_raw(table: RawTable, ref: Any) -> list:
    if isinstance(ref, list):
        raise DataError(f"{table.name}: the label must come from a single column")
    return list(table.frame[_require_column(table, ref, "label")])


# ---------------------------------------------------------------- per source type


def load_source(
    name: str, dataset: dict, seed: int, downloads_dir: str | Path | None = None,
    mirror: str | None = None,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """All splits of a dataset as normalized frames, plus provenance and drop counts."""
    source, task = dataset["source"], dataset["task"]
    label_names = dataset.get("label_names")
    kind = source["type"]
    provenance: dict[str, Any] = {"type": kind}
    reports: dict[str, SplitReport] = {}
    files: dict = {}
    if kind == "synthetic":
        splits = synthetic.generate(source, seed)
        provenance["generator"] = source["generator"]
        for split, frame in splits.items():
            reports[split] = SplitReport(rows_read=len(frame))
    elif kind in ("local", "url"):
        check_layout(f"datasets.{name}", dataset)
        files = dict(source["files"])
        if kind == "url":
            files, provenance["files"] = _download(name, files, downloads_dir, mirror)
        else:
            provenance["files"] = {s: _as_strings(p) for s, p in files.items()}
        splits = {s: _read_local_split(s, p, dataset, reports) for s, p in files.items()}
    elif kind == "huggingface":
        splits, provenance["hub"] = _load_hub(source, task, label_names, reports)
    else:  # the schema makes this unreachable
        raise ValueError(f"unknown source type {kind!r}")
    stratify = _stratified(dataset)
    if "test" not in splits:  # first, so that validation comes from what is left
        n_test = max(1, int(len(splits["train"]) * source.get("test_fraction", 0.2) + 0.5))
        _carve_split(name, "test", splits, n_test, np.random.default_rng([seed, TEST_STREAM]), stratify, provenance)
    _check_splits(name, dataset, splits, files)
    provenance["split_overlap"], provenance["split_shared_ids"] = _split_overlap(name, dataset, splits, files)
    if dataset.get("split_overlap") == "drop":
        provenance["split_overlap_dropped"] = _drop_overlap(name, dataset, splits, files)
    if "validation" not in splits:
        n_val = max(1, min(1000, len(splits["train"]) // 10))
        _carve_split(name, "validation", splits, n_val, np.random.default_rng(seed), stratify, provenance)
    if source.get("max_rows"):
        splits = {s: _subsample(f, source["max_rows"], seed, stratify) for s, f in splits.items()}
    splits = {s: f.drop(columns=[GENERATED], errors="ignore") for s, f in splits.items()}
    dropped = {s: dict(r.dropped) for s, r in reports.items() if r.dropped}
    for split, counts in dropped.items():
        LOG.warning("%s/%s: dropped rows %s (drop_invalid is on)", name, split, counts)
    meta = {
        "dataset": name, "task": task, "label_names": label_names, "source": source,
        "rows": {s: len(f) for s, f in splits.items()},
        "rows_read": {s: r.rows_read for s, r in reports.items()},
        "dropped": dropped, "provenance": provenance,
    }
    return splits, meta


def _read_local_split(split: str, spec: Any, dataset: dict, reports: dict[str, SplitReport]) -> pd.DataFrame:
    """One local (or downloaded) split: a file, or one file per class (``spec`` a mapping)."""
    source = dataset["source"]
    options = reading_options(source, split)
    reports[split] = SplitReport()
    if isinstance(spec, dict):
        # the label is the file's key; lines have one column and ids from file and line
        lines = options.get("format") == "lines"
        columns = {} if lines else {k: v for k, v in (options.get("columns") or {}).items() if k != "label"}
        options.update(columns={**columns, "label": CLASS_COLUMN}, label_values=None,
                       ids="row" if lines else options.get("ids", "column"))
        table = _read_per_class(split, spec, options, dataset["label_names"])
    else:
        table = read_file(spec, options)
    return normalize(table, dataset["task"], options, dataset.get("label_names"), split, reports[split])


def _as_strings(spec: Any) -> Any:
    return {k: str(v) for k, v in spec.items()} if isinstance(spec, dict) else str(spec)


def _where(name: str, split: str, files: dict) -> str:
    if split not in files:
        return f"dataset {name!r}, split {split}"
    spec = files[split]
    return ", ".join(str(p) for p in spec.values()) if isinstance(spec, dict) else str(spec)


def _check_splits(name: str, dataset: dict, splits: dict[str, pd.DataFrame], files: dict) -> None:
    """What every later step needs: rows in each split, two classes to learn from."""
    for split, frame in splits.items():
        if frame.empty:
            raise DataError(f"{_where(name, split, files)}: no data rows in the {split} split "
                            f"(a header-only file, or every row dropped by drop_invalid)")
    if dataset["task"] == "classification" and "train" in splits:
        present = sorted(set(splits["train"]["label"].tolist()))
        if len(present) < 2:
            label_names = dataset.get("label_names") or []
            only = label_names[present[0]] if present and present[0] < len(label_names) else present
            raise DataError(f"{_where(name, 'train', files)}: every training row has the label "
                            f"{only!r}; a classifier needs at least two classes")
        used = {int(v) for frame in splits.values() for v in frame["label"].tolist()}
        for i, label in enumerate(dataset.get("label_names") or []):
            if i not in used:
                raise DataError(f"{_where(name, 'train', files)}: no row of any split has the label "
                                f"{label!r} of datasets.{name}.label_names; remove it (or fix "
                                f"label_values), else macro-F1 averages over an empty class")
            if i not in present:
                LOG.warning("%s: no training row has the label %r: the classifier cannot learn it",
                            name, label)


def _split_overlap(name: str, dataset: dict, splits: dict[str, pd.DataFrame],
                   files: dict) -> tuple[dict[str, int], dict[str, int]]:
    """Rows of an evaluation split that share their text, or their id, with a training row:
    counted (texts, ids) per split, and refused unless ``split_overlap: warn``. Train given
    again as test, or a test set leaking into train, otherwise passes unnoticed; IMDB has
    duplicate reviews across its splits and is configured with ``warn``."""
    field = "text" if dataset["task"] == "classification" else "article"
    if "train" not in splits:
        return {}, {}
    train_texts = set(splits["train"][field].tolist())
    train_ids = set(splits["train"]["id"].tolist())
    texts, ids = {}, {}
    for split in ("validation", "test"):
        if split not in splits:
            continue
        frame = splits[split]
        same_text, same_id = frame[field].isin(train_texts), frame["id"].isin(train_ids)
        texts[split], ids[split] = int(same_text.sum()), int(same_id.sum())
        if not (texts[split] or ids[split]):
            continue
        what = f"{texts[split]} {field}s and {ids[split]} ids also occur in train"
        mode = dataset.get("split_overlap", "error")
        if mode == "error":
            first = frame.loc[same_text | same_id, "id"].iloc[0]
            raise DataError(f"{_where(name, split, files)}: {what} (first: id {first!r}); set "
                            f"datasets.{name}.split_overlap: warn to accept them, or drop to "
                            f"remove them from the {split} split")
        if mode == "warn":
            LOG.warning("%s/%s: %s (split_overlap: warn)", name, split, what)
    return texts, ids


def _drop_overlap(name: str, dataset: dict, splits: dict[str, pd.DataFrame], files: dict) -> dict[str, int]:
    """``split_overlap: drop``: remove the evaluation rows that share their text or id with a
    training row; the rows removed per split go to meta.json and the log."""
    field = "text" if dataset["task"] == "classification" else "article"
    train = splits["train"]
    dropped = {}
    for split in ("validation", "test"):
        if split not in splits:
            continue
        frame = splits[split]
        shared = frame[field].isin(set(train[field])) | frame["id"].isin(set(train["id"]))
        dropped[split] = int(shared.sum())
        if not dropped[split]:
            continue
        if shared.all():
            raise DataError(f"{_where(name, split, files)}: every row of the {split} split also "
                            f"occurs in train; split_overlap: drop would leave it empty")
        splits[split] = frame[~shared].reset_index(drop=True)
        LOG.warning("%s/%s: dropped %d of %d rows that also occur in train (split_overlap: drop)",
                    name, split, dropped[split], len(frame))
    return dropped


def _download(name: str, files: dict, downloads_dir, mirror) -> tuple[dict, dict]:
    if downloads_dir is None:
        raise ValueError("url sources need a downloads directory")
    local, record = {}, {}
    for split, spec in files.items():
        if is_per_class(spec, "url"):
            got = {label: _fetch_one(name, one, downloads_dir, mirror, f"{split}/{label}")
                   for label, one in spec.items()}
            local[split] = {label: path for label, (path, _) in got.items()}
            record[split] = {label: rec for label, (_, rec) in got.items()}
        else:
            local[split], record[split] = _fetch_one(name, spec, downloads_dir, mirror, split)
    return local, record


def _fetch_one(name: str, spec: dict, downloads_dir, mirror, where: str = "") -> tuple[Path, dict]:
    """``where``: the file's key under ``files`` (``train``, ``train/negative``): downloads are
    kept apart by it, so ``.../train/data.csv`` and ``.../test/data.csv`` do not overwrite each
    other."""
    dest = Path(downloads_dir) / name / where / url_file_name(spec["url"])
    fetched = fetch(spec["url"], spec["sha256"], dest, mirror)
    return fetched.path, {"url": spec["url"], "sha256": fetched.sha256, "origin": fetched.origin,
                          "pinned": bool(spec["sha256"])}


def _load_hub(source: dict, task: str, label_names, reports) -> tuple[dict, dict]:
    import datasets

    revision = source.get("revision") or None
    splits = {}
    for split, hub_split in source["splits"].items():
        ds = datasets.load_dataset(source["path"], source.get("name"), split=hub_split, revision=revision)
        frame = ds.to_pandas()
        table = RawTable(f"hf:{source['path']}[{hub_split}]", frame, list(range(1, len(frame) + 1)), "row")
        reports[split] = SplitReport()
        splits[split] = normalize(table, task, source, label_names, split, reports[split])
    record = {"path": source["path"], "name": source.get("name"), "requested_revision": source.get("revision", ""),
              "resolved_revision": _hub_revision(source["path"], revision)}
    if not source.get("revision"):
        LOG.warning("dataset %s is not pinned; resolved revision %s (pin it in the config)",
                    source["path"], record["resolved_revision"])
    return splits, record


def _hub_revision(path: str, revision: str | None) -> str | None:
    """The commit the hub served, for the record; None when it cannot be asked (offline)."""
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(path, revision=revision).sha
    except Exception as exc:  # noqa: BLE001 - provenance is best effort, the data are already read
        LOG.warning("could not resolve the hub revision of %s: %s", path, exc)
        return None


def _stratified(dataset: dict) -> bool:
    """Whether draws keep the class proportions: classification from files or the hub, unless
    ``stratify: false`` (a uniform draw left TREC's rarest class with 37 rows). The synthetic
    corpora are balanced by construction and keep their uniform draw."""
    source = dataset["source"]
    return (dataset["task"] == "classification" and source["type"] != "synthetic"
            and source.get("stratify", True))


def allocate(counts: np.ndarray, n: int) -> np.ndarray:
    """Rows per class for a draw of ``n`` of ``sum(counts)`` rows: largest-remainder shares of
    the proportional quotas, at least one row of every class present when ``n`` allows it."""
    counts = np.asarray(counts, dtype=np.int64)
    quota = counts * n / counts.sum()
    alloc = np.floor(quota).astype(np.int64)
    if n >= np.count_nonzero(counts):
        alloc = np.where(counts > 0, np.maximum(alloc, 1), 0)
    for c in np.argsort(-(quota - np.floor(quota)), kind="stable"):
        if alloc.sum() >= n:
            break
        if alloc[c] < np.ceil(quota[c]):
            alloc[c] += 1
    while alloc.sum() > n:  # the minimum of one row went over n: take from the most over quota
        alloc[np.argmax(np.where(alloc > 1, alloc - quota, -np.inf))] -= 1
    return alloc


def _stratified_rows(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row indices of a seeded draw of ``n`` rows with :func:`allocate`'s class counts."""
    classes, counts = np.unique(labels, return_counts=True)
    picked = [rng.choice(np.flatnonzero(labels == c), size=k, replace=False)
              for c, k in zip(classes, allocate(counts, n), strict=True)]
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, dtype=np.int64)


def _carve_split(name: str, split: str, splits: dict[str, pd.DataFrame], n: int, rng: np.random.Generator,
                 stratify: bool, provenance: dict) -> None:
    """A split the source does not have, carved off train; recorded as ``{split}_from_train`` in
    meta.json and logged, so that nobody takes it for the dataset's own split."""
    splits["train"], splits[split] = _carve(splits["train"], n, rng, stratify)
    carved = splits[split]
    if GENERATED in carved:  # train-negative-000292 carved into test: test-negative-000292
        made = carved[GENERATED].fillna(False).astype(bool)
        carved.loc[made, "id"] = [f"{split}-{i.removeprefix('train-')}" for i in carved.loc[made, "id"]]
    provenance[f"{split}_from_train"] = len(splits[split])
    LOG.info("%s: no %s split; carved %d rows from train", name, split, len(splits[split]))


def _carve(frame: pd.DataFrame, n: int, rng: np.random.Generator, stratify: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``n`` seeded rows off ``frame`` (a missing test or validation split); both parts
    keep the file order."""
    n = min(n, len(frame))
    if stratify:
        idx = _stratified_rows(frame["label"].to_numpy(), n, rng)
    else:
        idx = rng.permutation(len(frame))[:n]
    mask = np.zeros(len(frame), dtype=bool)
    mask[idx] = True
    return frame[~mask].reset_index(drop=True), frame[mask].reset_index(drop=True)


def _subsample(frame: pd.DataFrame, n: int, seed: int, stratify: bool) -> pd.DataFrame:
    """``max_rows``: a seeded subset of ``n`` rows in file order."""
    if len(frame) <= n:
        return frame
    rng = np.random.default_rng(seed)
    if stratify:
        idx = _stratified_rows(frame["label"].to_numpy(), n, rng)
    else:
        idx = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[idx].reset_index(drop=True)
