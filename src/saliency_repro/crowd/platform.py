"""Per-worker answers from a real crowd platform.

Two layouts:

- ``long``: one row per answer with columns ``task_id, worker_id, answer`` and optionally
  ``seconds`` (the time of the worker's whole submission);
- ``mturk``: Amazon Mechanical Turk batch results, one row per submitted batch (HIT
  assignment) with ``WorkerId``, ``WorkTimeInSeconds``, ``Input.task_id_<n>`` and
  ``Answer.answer_<n>`` for the n-th task of the batch (the layout :mod:`export` writes).

An answer is a class name from ``label_names`` (case-insensitive), a class index, or
"I don't know" (also ``idk``, ``-1``). Malformed rows raise :class:`PlatformFormatError` naming
``file:line``; so does an MTurk row that names tasks but leaves an answer empty. An MTurk row
whose ``Input.task_id_<n>`` slots are all empty is a submission with no answer: it is not an
error, but it is dropped and counted (:func:`read_answers` returns it beside the answers).
Then the paper's filtering (section 4.1) is applied by an explicit rule:
a worker is excluded (all answers) when (1) they saw some sample twice (breaks the design),
(2) their submission took less than ``min_seconds`` or (3) every answer is "I don't know".
:func:`exclusion_rule` returns one row per worker with anything dropped (every reason, the
rows and answers dropped, their ``file:line``), and :func:`exclusions_table` adds the counts
that make the accounting close: answers read = kept + dropped, workers seen = kept + excluded.
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

#: submissions (file rows) that hold no answer: MTurk rows whose task slots are all empty
EMPTY_COLUMNS = ["worker_id", "line", "seconds"]
#: one row per worker with anything dropped; ``excluded``: none of the worker's answers is kept
EXCLUSION_COLUMNS = ["worker_id", "excluded", "rows", "empty", "answers", "reason", "lines"]
#: the per-crowd-source exclusions table (rows per worker, then an ``all`` row per sample set)
TABLE_COLUMNS = ["sample_set", "worker_id", "excluded", "rows_dropped", "empty_submissions",
                 "answers_dropped", "reason", "lines", "workers_seen", "workers_excluded",
                 "answers_read", "answers_kept"]
EMPTY_REASON = "submitted with no answer (all Input.task_id slots empty)"


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


def read_answers(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str],
                 layout: str = "long") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers, submissions with no answer) of a platform file in ``layout`` (long or mturk).

    The second frame (columns :data:`EMPTY_COLUMNS`) lists the MTurk rows whose task slots are
    all empty; the long layout has one row per answer, so it is always empty there."""
    if layout == "mturk":
        return _read_mturk(path, tasks, label_names)
    if layout == "long":
        return read_long(path, tasks, label_names), pd.DataFrame(columns=EMPTY_COLUMNS)
    raise ValueError(f"unknown platform layout {layout!r} (long or mturk)")


def read_mturk(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str]) -> pd.DataFrame:
    """MTurk batch-results layout -> answers (same columns as :func:`read_long`).

    Rows with every task slot empty are logged only; :func:`read_answers` returns them too."""
    return _read_mturk(path, tasks, label_names)[0]


def _read_mturk(path: str | os.PathLike, tasks: pd.DataFrame,
                label_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = Path(path)
    known = tasks.set_index("task_id")
    out, empty = [], []
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
        if not any(row[f"Input.task_id_{n}"].strip() for n in slots):
            LOG.warning("%s: worker %s %s: dropped, counted in the exclusions", where, wid, EMPTY_REASON)
            empty.append({"worker_id": wid, "line": line, "seconds": seconds})
            continue
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
    note = (f" ({len(empty)} submission(s) with every task slot empty, the first at line "
            f"{empty[0]['line']})" if empty else "")
    return _attach(out, known, path, note), pd.DataFrame(empty, columns=EMPTY_COLUMNS)


def _attach(rows: list[dict], known: pd.DataFrame, path: Path, note: str = "") -> pd.DataFrame:
    if not rows:
        raise PlatformFormatError(f"{path}: no answers{note}")
    df = pd.DataFrame(rows)
    dup = df.duplicated(["task_id", "worker_id"], keep="first")
    if dup.any():
        r = df[dup].iloc[0]
        raise PlatformFormatError(
            f"{path}:{r['line']}: worker {r['worker_id']} answers task {r['task_id']} a second time")
    info = known.loc[df["task_id"], ["sample_id", "method", "k"]].reset_index(drop=True)
    return pd.concat([df[["task_id"]], info, df[["worker_id", "answer", "seconds", "line"]]], axis=1)


def line_ranges(lines) -> str:
    """``[2, 3, 4, 7]`` -> ``"2-4,7"``."""
    xs = sorted({int(x) for x in lines})
    parts: list[str] = []
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        parts.append(str(xs[i]) if i == j else f"{xs[i]}-{xs[j]}")
        i = j + 1
    return ",".join(parts)


def exclusion_rule(answers: pd.DataFrame, min_seconds: float, exclude_all_idk: bool = True,
                   empty: pd.DataFrame | None = None,
                   source: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the filtering rule of the module docstring; return (kept answers, exclusions).

    ``empty``: the submissions with no answer (:func:`read_answers`); they are dropped and
    listed too, but do not exclude the worker's other answers. The exclusions have one row per
    worker with anything dropped (columns :data:`EXCLUSION_COLUMNS`): ``excluded`` (none of the
    worker's answers is kept), ``rows`` (file rows dropped: MTurk submissions, long-layout
    answers), ``empty`` (of them, submissions with no answer), ``answers`` dropped, every
    ``reason`` and the ``lines`` (``source:2-4,7``) of the dropped rows."""
    empty = pd.DataFrame(columns=EMPTY_COLUMNS) if empty is None else empty
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
    n_empty = empty.groupby("worker_id").size()
    has_answers = set(answers["worker_id"])
    rows = []
    for w in sorted(set(reasons) | set(n_empty.index)):
        dropped = answers[answers["worker_id"] == w] if w in reasons else answers.iloc[:0]
        lines = list(dropped["line"]) if "line" in dropped else []
        why = list(reasons.get(w, []))
        k = int(n_empty.get(w, 0))
        if k:
            why.append(EMPTY_REASON if k == 1 else f"{k} submissions {EMPTY_REASON.split(' ', 1)[1]}")
            lines += list(empty.loc[empty["worker_id"] == w, "line"])
        n_rows = (dropped["line"].nunique() if "line" in dropped else len(dropped)) + k
        rows.append({"worker_id": w, "excluded": w in reasons or w not in has_answers,
                     "rows": int(n_rows), "empty": k, "answers": len(dropped),
                     "reason": "; ".join(why),
                     "lines": f"{source}:{line_ranges(lines)}" if source and lines else line_ranges(lines)})
    excl = pd.DataFrame(rows, columns=EXCLUSION_COLUMNS).astype(
        {"excluded": bool, "rows": int, "empty": int, "answers": int})
    for r in excl.itertuples():
        LOG.warning("worker %s: dropping %d answer(s), %d row(s) (%s): %s", r.worker_id, r.answers,
                    r.rows, r.lines, r.reason)
    kept = answers[~answers["worker_id"].isin(reasons)].reset_index(drop=True)
    LOG.info("exclusion rule: %d of %d workers excluded, %d of %d answers kept, %d submission(s) "
             "with no answer dropped", int(excl["excluded"].sum()),
             len(has_answers | set(n_empty.index)), len(kept), len(answers), len(empty))
    return kept, excl


def exclusions_table(exclusions: pd.DataFrame, kept: pd.DataFrame, sample_set: str) -> pd.DataFrame:
    """One sample set's part of the exclusions table (columns :data:`TABLE_COLUMNS`): the
    workers of :func:`exclusion_rule`, then an ``all`` row with the dropped totals and
    ``workers_seen``/``workers_excluded``, ``answers_read``/``answers_kept``.

    ``kept`` are the answers that passed the rule; workers seen = kept workers + excluded ones
    and answers read = kept + dropped, which is checked (a mismatch raises ValueError)."""
    ex = exclusions.reindex(columns=EXCLUSION_COLUMNS)
    kept_workers = set(kept["worker_id"]) if "worker_id" in kept else set()  # an empty sample set
    seen = kept_workers | set(ex["worker_id"])
    excluded = set(ex.loc[ex["excluded"].astype(bool), "worker_id"])
    if excluded & kept_workers or seen - kept_workers != excluded:
        raise ValueError(f"{sample_set}: exclusions and kept answers disagree on which workers "
                         f"are excluded: {sorted(excluded ^ (seen - kept_workers))[:5]}")
    blank = {c: "" for c in TABLE_COLUMNS[8:]}
    rows = [{"sample_set": sample_set, "worker_id": r.worker_id, "excluded": bool(r.excluded),
             "rows_dropped": int(r.rows), "empty_submissions": int(r.empty),
             "answers_dropped": int(r.answers), "reason": r.reason, "lines": r.lines, **blank}
            for r in ex.itertuples()]
    dropped = int(ex["answers"].sum())
    rows.append({"sample_set": sample_set, "worker_id": "all", "excluded": "",
                 "rows_dropped": int(ex["rows"].sum()), "empty_submissions": int(ex["empty"].sum()),
                 "answers_dropped": dropped, "reason": "", "lines": "",
                 "workers_seen": len(seen), "workers_excluded": len(excluded),
                 "answers_read": len(kept) + dropped, "answers_kept": len(kept)})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


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
