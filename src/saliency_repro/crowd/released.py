"""The authors' released aggregated crowd labels (xtlu/lreccoling_evaluation).

Format (see the data README): tab-separated despite the ``.csv`` name, header
``Text Label Saliency Words Correct``; a row with ``Saliency == N/A`` and ``Words == All``
starts a sample (its full text); the next rows are that sample's displays, one per (method, k),
with ``Correct`` = the majority-vote aggregate A_ijk. Per-worker labels are not released, so
this source gives A_ijk directly and no answers table.

Every malformed row is reported as ``file:line: problem`` (line numbers count the header as
line 1), because a silently mis-parsed release would change the paper's tables.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from saliency_repro.crowd.design import task_id
from saliency_repro.errors import InputError
from saliency_repro.names import from_release

HEADER = ["Text", "Label", "Saliency", "Words", "Correct"]


class ReleasedFormatError(InputError):
    """The released file does not have the documented layout; the message names file:line."""


@dataclass(frozen=True)
class Release:
    """Parsed release: ``samples`` (sample_id, text, label) and ``aggregate``
    (sample_id, method, k, label, correct, display, task_id), in file order."""

    samples: pd.DataFrame
    aggregate: pd.DataFrame


def read_release(path: str | os.PathLike, n_classes: int | None = None,
                 sample_prefix: str = "r") -> Release:
    """Parse one released file; sample ids are ``{sample_prefix}{index:03d}`` in file order."""
    path = Path(path)
    samples: list[dict] = []
    rows: list[dict] = []
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # a byte order mark (saved by Excel) is no header text
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReleasedFormatError(f"{path}:{line}: byte {data[exc.start:exc.start + 1]!r} is not "
                                  f"UTF-8 (the release is UTF-8; was the file re-saved in another "
                                  f"encoding, e.g. cp1252?)") from None
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None:
            raise ReleasedFormatError(f"{path}:1: empty file")
        if [h.strip() for h in header] != HEADER:
            raise ReleasedFormatError(
                f"{path}:1: header {header!r}, expected the tab-separated {HEADER!r}")
        current: dict | None = None
        for lineno, fields in enumerate(reader, start=2):
            where = f"{path}:{lineno}"
            if not fields or fields == [""]:
                continue
            if [f.strip() for f in fields] == HEADER:
                raise ReleasedFormatError(f"{where}: the header again (two files joined into one?)")
            if len(fields) != len(HEADER):
                raise ReleasedFormatError(
                    f"{where}: {len(fields)} tab-separated fields, expected {len(HEADER)}")
            text, label_s, saliency, words, correct = fields
            try:
                label = int(label_s)
            except ValueError:
                raise ReleasedFormatError(f"{where}: Label {label_s!r} is not an integer") from None
            if n_classes is not None and not 0 <= label < n_classes:
                raise ReleasedFormatError(f"{where}: Label {label} outside 0..{n_classes - 1}")
            if saliency == "N/A":
                if words != "All" or correct != "N/A":
                    raise ReleasedFormatError(
                        f"{where}: a full-text row needs Words 'All' and Correct 'N/A', "
                        f"got {words!r}, {correct!r}")
                current = {"sample_id": f"{sample_prefix}{len(samples):03d}", "text": text,
                           "label": label, "line": lineno}
                samples.append(current)
                continue
            if current is None:
                raise ReleasedFormatError(f"{where}: display row before the first full-text row")
            try:
                method = from_release(saliency)
            except ValueError as exc:
                raise ReleasedFormatError(f"{where}: {exc}") from None
            try:
                k = int(words)
            except ValueError:
                raise ReleasedFormatError(f"{where}: Words {words!r} is not an integer k") from None
            if correct not in ("0", "1"):
                raise ReleasedFormatError(f"{where}: Correct {correct!r} is not 0 or 1")
            if label != current["label"]:
                raise ReleasedFormatError(
                    f"{where}: Label {label} differs from its sample's label {current['label']} "
                    f"(line {current['line']})")
            rows.append({"sample_id": current["sample_id"], "method": method, "k": k,
                         "label": label, "correct": int(correct), "display": text,
                         "line": lineno})
    if not samples:
        raise ReleasedFormatError(f"{path}: no samples")
    agg = pd.DataFrame(rows)
    _refuse_repeated_samples(path, samples, agg)
    dup = agg.duplicated(["sample_id", "method", "k"], keep="first")
    if dup.any():
        line = int(agg.loc[dup, "line"].iloc[0])
        raise ReleasedFormatError(f"{path}:{line}: second row for the same sample, method and k")
    sizes = agg.groupby("sample_id").size()
    expected = agg["method"].nunique() * agg["k"].nunique()
    short = sizes[sizes != expected]
    if len(short):
        first = next(s for s in samples if s["sample_id"] == short.index[0])
        raise ReleasedFormatError(
            f"{path}:{first['line']}: sample has {int(short.iloc[0])} display rows, expected "
            f"{expected} (every method x every k)")
    agg["task_id"] = [task_id(s, m, k) for s, m, k in
                      zip(agg["sample_id"], agg["method"], agg["k"], strict=True)]
    return Release(samples=pd.DataFrame(samples), aggregate=agg)


def _refuse_repeated_samples(path: Path, samples: list[dict], agg: pd.DataFrame) -> None:
    """A sample whose text, label and every display row repeat an earlier one: a file joined
    with itself (or a copy pasted twice) would count each sample twice and double n in every
    test and CI."""
    displays = {sid: tuple(sorted(zip(g["method"], g["k"], g["display"], g["correct"], strict=True)))
                for sid, g in agg.groupby("sample_id", sort=False)} if len(agg) else {}
    seen: dict[tuple, int] = {}
    for sample in samples:
        key = (sample["text"], sample["label"], displays.get(sample["sample_id"], ()))
        if key in seen:
            raise ReleasedFormatError(
                f"{path}:{sample['line']}: this sample (text, label and every display) repeats the "
                f"one at line {seen[key]}; is the file joined with itself?")
        seen[key] = sample["line"]


def _check_labels(release: Release, n_classes: int, origin: Any) -> None:
    labels = sorted(int(v) for v in release.samples["label"].unique())
    if labels != list(range(n_classes)):
        raise ReleasedFormatError(
            f"{origin}: labels {labels} in the file, but the dataset has {n_classes} label_names; "
            f"is this the release of another dataset?")


def check_release_file(path: str | os.PathLike, sha256: str, n_classes: int) -> None:
    """What :func:`fetch_release` checks of a local ``path``, without copying it: its pinned
    sha256 (if any), its format and its labels (the dry run calls it: a released file is small)."""
    from saliency_repro.download import ChecksumError, sha256_of

    expected = (sha256 or "").lower().strip()
    if expected:
        actual = sha256_of(path)
        if actual != expected:
            raise ChecksumError(f"{path}: sha256 differed (expected {expected}, found {actual})")
    _check_labels(read_release(path, n_classes=n_classes), n_classes, path)


def fetch_release(source: dict, dest: str | os.PathLike, n_classes: int,
                  mirror: str | os.PathLike | None = None) -> None:
    """Put a crowd source's released file at ``dest``, verified, and check it fits the dataset.

    A file given by ``path`` is checked against its pinned ``sha256`` like a download. The
    copy is parsed before it is kept: a format error names the user's file (not the copy
    under ``results/``), and a file whose labels are not exactly ``0..n_classes-1`` (e.g. the
    binary IMDB release attached to the 4-class AG News) is refused.
    """
    import shutil
    import tempfile

    from saliency_repro.download import ChecksumError, fetch, sha256_of
    from saliency_repro.io import atomic_path

    dest = Path(dest)
    expected = (source.get("sha256") or "").lower().strip()
    origin = source.get("path") or source.get("url")
    with tempfile.TemporaryDirectory(dir=dest.parent if dest.parent.exists() else None) as tmpdir:
        staged = Path(tmpdir) / dest.name
        if source.get("path"):
            shutil.copyfile(source["path"], staged)
            actual = sha256_of(staged)
            if expected and actual != expected:
                raise ChecksumError(f"{origin}: sha256 differed (expected {expected}, found {actual})")
        else:
            fetch(source["url"], expected, staged, mirror=mirror)
        try:
            release = read_release(staged, n_classes=n_classes)
        except ReleasedFormatError as exc:
            raise ReleasedFormatError(str(exc).replace(str(staged), str(origin))) from None
        _check_labels(release, n_classes, origin)
        with atomic_path(dest) as tmp:
            shutil.copyfile(staged, tmp)
