"""Per-worker answers from a real crowd platform.

Two layouts:

- ``long``: one row per answer with columns ``task_id, worker_id, answer`` and optionally
  ``seconds`` (the time of the worker's whole submission);
- ``mturk``: Amazon Mechanical Turk batch results, one row per submitted batch (HIT
  assignment) with ``WorkerId``, ``WorkTimeInSeconds``, ``Input.task_id_<n>`` and
  ``Answer.answer_<n>`` for the n-th task of the batch (the layout :mod:`export` writes).

An answer is a class name from ``label_names`` (case-insensitive), a class index, or
"I don't know" (also ``idk``, ``-1``). Malformed rows raise :class:`PlatformFormatError` naming
``file:line``. Then the paper's filtering (section 4.1) is applied by an explicit rule:
a worker is excluded (all answers) when (1) they saw some sample twice (breaks the design),
(2) their submission took less than ``min_seconds`` or (3) every answer is "I don't know".
The exclusions are returned and logged.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from pathlib import Path

import pandas as pd

from saliency_repro.crowd import IDK

LOG = logging.getLogger(__name__)

IDK_SPELLINGS = {"i don't know", "i dont know", "idk", "-1", "dont_know", "unknown"}


class PlatformFormatError(ValueError):
    """A platform answers file is malformed; the message names file:line."""


def parse_answer(value: str, label_names: list[str], where: str) -> int:
    v = value.strip()
    low = v.lower()
    if low in IDK_SPELLINGS:
        return IDK
    names = [n.lower() for n in label_names]
    if low in names:
        return names.index(low)
    if re.fullmatch(r"\d+", v) and int(v) < len(label_names):
        return int(v)
    raise PlatformFormatError(
        f"{where}: answer {value!r} is not one of {label_names}, a class index or \"I don't know\"")


def _rows(path: Path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise PlatformFormatError(f"{path}:1: empty file or missing header")
        start = reader.line_num + 1
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise PlatformFormatError(f"{path}:{start}: wrong number of fields")
            yield start, reader.fieldnames, row
            start = reader.line_num + 1


def _seconds(row: dict, column: str, where: str) -> float | None:
    """The submission's duration, when the file has one (used by the too-fast rule)."""
    value = row.get(column, "")
    if value in ("", None):
        return None
    try:
        return float(value)
    except ValueError:
        raise PlatformFormatError(f"{where}: {column} {value!r} is not a number") from None


def read_long(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str]) -> pd.DataFrame:
    """Long layout -> answers (task_id, sample_id, method, k, worker_id, answer, seconds, line)."""
    path = Path(path)
    known = tasks.set_index("task_id")
    out = []
    for line, header, row in _rows(path):
        where = f"{path}:{line}"
        missing = {"task_id", "worker_id", "answer"} - set(header)
        if missing:
            raise PlatformFormatError(f"{path}:1: missing columns {sorted(missing)}")
        tid, wid = row["task_id"].strip(), row["worker_id"].strip()
        if not wid:
            raise PlatformFormatError(f"{where}: empty worker_id")
        if tid not in known.index:
            raise PlatformFormatError(f"{where}: unknown task_id {tid!r}")
        seconds = _seconds(row, "seconds", where)
        out.append({"task_id": tid, "worker_id": wid,
                    "answer": parse_answer(row["answer"], label_names, where),
                    "seconds": seconds, "line": line})
    return _attach(out, known, path)


def read_mturk(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str]) -> pd.DataFrame:
    """MTurk batch-results layout -> answers (same columns as :func:`read_long`)."""
    path = Path(path)
    known = tasks.set_index("task_id")
    out = []
    for line, header, row in _rows(path):
        where = f"{path}:{line}"
        if "WorkerId" not in header:
            raise PlatformFormatError(f"{path}:1: no WorkerId column (not an MTurk batch results file?)")
        slots = sorted(int(m.group(1)) for h in header if (m := re.fullmatch(r"Input\.task_id_(\d+)", h)))
        if not slots:
            raise PlatformFormatError(f"{path}:1: no Input.task_id_<n> columns")
        wid = row["WorkerId"].strip()
        if not wid:
            raise PlatformFormatError(f"{where}: empty WorkerId")
        seconds = _seconds(row, "WorkTimeInSeconds", where)
        for n in slots:
            tid = row[f"Input.task_id_{n}"].strip()
            if not tid:
                continue  # a short last batch leaves trailing slots empty
            if tid not in known.index:
                raise PlatformFormatError(f"{where}: Input.task_id_{n} {tid!r} is not a known task")
            col = f"Answer.answer_{n}"
            if col not in row:
                raise PlatformFormatError(f"{path}:1: no {col} column for Input.task_id_{n}")
            if not row[col].strip():
                raise PlatformFormatError(f"{where}: {col} is empty")
            out.append({"task_id": tid, "worker_id": wid,
                        "answer": parse_answer(row[col], label_names, f"{where} ({col})"),
                        "seconds": seconds, "line": line})
    return _attach(out, known, path)


def _attach(rows: list[dict], known: pd.DataFrame, path: Path) -> pd.DataFrame:
    if not rows:
        raise PlatformFormatError(f"{path}: no answers")
    df = pd.DataFrame(rows)
    dup = df.duplicated(["task_id", "worker_id"], keep="first")
    if dup.any():
        r = df[dup].iloc[0]
        raise PlatformFormatError(
            f"{path}:{r['line']}: worker {r['worker_id']} answers task {r['task_id']} a second time")
    info = known.loc[df["task_id"], ["sample_id", "method", "k"]].reset_index(drop=True)
    return pd.concat([df[["task_id"]], info, df[["worker_id", "answer", "seconds", "line"]]], axis=1)


def exclusion_rule(answers: pd.DataFrame, min_seconds: float,
                   exclude_all_idk: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the filtering rule of the module docstring; return (kept answers, exclusions)."""
    reasons: dict[str, list[str]] = {}
    twice = answers[answers.duplicated(["worker_id", "sample_id"], keep=False)]
    for w in twice["worker_id"].unique():
        reasons.setdefault(w, []).append("saw the same sample twice (breaks the design)")
    if "seconds" in answers and answers["seconds"].notna().any():
        secs = answers.groupby("worker_id")["seconds"].max()
        for w, s in secs[secs < min_seconds].items():
            reasons.setdefault(w, []).append(f"submission took {s:.0f} s < {min_seconds:.0f} s")
    if exclude_all_idk:
        all_idk = answers.groupby("worker_id")["answer"].apply(lambda a: bool((a == IDK).all()))
        for w in all_idk[all_idk].index:
            reasons.setdefault(w, []).append("answered \"I don't know\" to every task")
    n = answers.groupby("worker_id").size()
    excl = pd.DataFrame([{"worker_id": w, "answers": int(n[w]), "reason": "; ".join(r)}
                         for w, r in sorted(reasons.items())],
                        columns=["worker_id", "answers", "reason"])
    for r in excl.itertuples():
        LOG.warning("excluding worker %s (%d answers): %s", r.worker_id, r.answers, r.reason)
    kept = answers[~answers["worker_id"].isin(reasons)].reset_index(drop=True)
    LOG.info("exclusion rule: %d of %d workers excluded, %d of %d answers kept", len(excl),
             answers["worker_id"].nunique(), len(kept), len(answers))
    return kept, excl


def design_report(answers: pd.DataFrame, tasks: pd.DataFrame, workers_per_task: int,
                  tasks_per_worker: int) -> pd.DataFrame:
    """Validation on import: tasks with more or fewer than R answers, workers with more than B.

    Returns one row per problem (logged); fewer than R is expected after exclusions and is a
    warning, more than R or B is a design break the caller should treat as an error.
    """
    per_task = answers.groupby("task_id").size().reindex(tasks["task_id"], fill_value=0)
    per_worker = answers.groupby("worker_id").size()
    rows = [{"kind": "task", "id": t, "count": int(c),
             "problem": "more than R answers" if c > workers_per_task else "fewer than R answers"}
            for t, c in per_task[per_task != workers_per_task].items()]
    rows += [{"kind": "worker", "id": w, "count": int(c), "problem": "more than B tasks"}
             for w, c in per_worker[per_worker > tasks_per_worker].items()]
    rep = pd.DataFrame(rows, columns=["kind", "id", "count", "problem"])
    if len(rep):
        LOG.warning("design check on import: %s", rep["problem"].value_counts().to_dict())
    return rep
