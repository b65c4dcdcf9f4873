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

One file, both sample sets. A study exports the batches of both sample sets (correct and
misclassified), so one results file holds the answers of both, and each set is imported from
it: the readers take ``tasks`` (the set being imported) and ``other_tasks`` (the other sets'
tasks) and return every answer with ``in_set`` (False: the task belongs to another set); a task
id in no set raises naming ``file:line``. :func:`exclusion_rule_by_set` judges the rule on the
worker's whole submission, i.e. on all of the worker's answers in the file whichever set their
tasks are in: rule (2) takes the worker's longest submission anywhere in the file, so a
worker is too fast in both sets or in neither, and rule (3) is the paper's
per-worker rule (section 4.1), so a worker who answered "I don't know" to every task of one set
but something else in the other is kept (rule (1) cannot cross sets: their samples are
disjoint). It then keeps and lists this set's answers only. Answers for another set are neither
read nor dropped here (they are read and accounted for in that set's import); their number is
recorded apart (``answers_other_set`` of :func:`exclusions_table`). A file with answers for one
set only gives the other set no answers (an empty answers table and a warning, not an error);
a file with no answer at all is still an error.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from pathlib import Path

import pandas as pd

from saliency_repro.crowd import IDK
from saliency_repro.errors import InputError

LOG = logging.getLogger(__name__)

IDK_SPELLINGS = {"i don't know", "i dont know", "idk", "-1", "dont_know", "unknown"}

#: submissions (file rows) dropped whole: MTurk rows whose task slots are all empty, and rows
#: the requester rejected on the platform (``AssignmentStatus`` Rejected; ``answers``: their
#: filled task slots, dropped unread; ``rejected`` tells the two apart)
EMPTY_COLUMNS = ["worker_id", "line", "seconds", "rejected", "answers"]
#: one row per worker with anything dropped; ``excluded``: none of the worker's answers is kept
EXCLUSION_COLUMNS = ["worker_id", "excluded", "rows", "empty", "answers", "reason", "lines"]
#: the per-crowd-source exclusions table (rows per worker, then an ``all`` row per sample set)
TABLE_COLUMNS = ["sample_set", "worker_id", "excluded", "rows_dropped", "empty_submissions",
                 "answers_dropped", "reason", "lines", "workers_seen", "workers_excluded",
                 "answers_read", "answers_kept", "answers_other_set"]
#: the kept answers as written for aggregation (no file line, no set flag)
ANSWER_COLUMNS = ["task_id", "sample_id", "method", "k", "worker_id", "answer", "seconds"]
#: answers column: the task belongs to the sample set being imported (False: another set's)
IN_SET = "in_set"
#: key of ``exclusions.attrs`` (kept in the parquet file): answers in the file for other sets
OTHER_SET_ATTR = "answers_other_set"
EMPTY_REASON = "submitted with no answer (all Input.task_id slots empty)"
REJECTED_REASON = "assignment Rejected on the platform (AssignmentStatus)"


class PlatformFormatError(InputError):
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


TaskFrames = pd.DataFrame | list[pd.DataFrame] | tuple[pd.DataFrame, ...] | None


def known_tasks(tasks: pd.DataFrame, other_tasks: TaskFrames = None) -> pd.DataFrame:
    """The task ids a file may name, indexed by task_id: ``tasks`` (``in_set`` True) and those
    of the other sample set(s) (``in_set`` False). A task id in two sets raises ValueError."""
    others = [other_tasks] if isinstance(other_tasks, pd.DataFrame) else list(other_tasks or [])
    cols = ["task_id", "sample_id", "method", "k"]
    known = pd.concat([tasks[cols].assign(**{IN_SET: True})]
                      + [o[cols].assign(**{IN_SET: False}) for o in others], ignore_index=True)
    dup = known["task_id"].duplicated()
    if dup.any():
        raise ValueError(f"task {known.loc[dup, 'task_id'].iloc[0]!r} is in more than one sample set")
    return known.set_index("task_id")


def _unknown(other_tasks: TaskFrames) -> str:
    return "" if other_tasks is None else " (in no sample set's tasks)"


def read_long(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str],
              other_tasks: TaskFrames = None) -> pd.DataFrame:
    """Long layout -> answers (task_id, sample_id, method, k, worker_id, answer, seconds, line,
    in_set); ``other_tasks``: the other sample sets' tasks (see the module docstring)."""
    path = Path(path)
    known = known_tasks(tasks, other_tasks)
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
            raise PlatformFormatError(f"{where}: unknown task_id {tid!r}{_unknown(other_tasks)}")
        seconds = _seconds(row, "seconds", where)
        out.append({"task_id": tid, "worker_id": wid,
                    "answer": parse_answer(row["answer"], label_names, where),
                    "seconds": seconds, "line": line})
    return _attach(out, known, path)


def read_answers(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str],
                 layout: str = "long",
                 other_tasks: TaskFrames = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(answers, submissions with no answer) of a platform file in ``layout`` (long or mturk).

    The second frame (columns :data:`EMPTY_COLUMNS`) lists the MTurk rows whose task slots are
    all empty; the long layout has one row per answer, so it is always empty there. With
    ``other_tasks`` (the other sample sets' tasks) the answers for them are returned too, with
    ``in_set`` False; without, every task id must be one of ``tasks``."""
    if layout == "mturk":
        return _read_mturk(path, tasks, label_names, other_tasks)
    if layout == "long":
        return (read_long(path, tasks, label_names, other_tasks),
                pd.DataFrame(columns=EMPTY_COLUMNS))
    raise ValueError(f"unknown platform layout {layout!r} (long or mturk)")


def read_mturk(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str],
               other_tasks: TaskFrames = None) -> pd.DataFrame:
    """MTurk batch-results layout -> answers (same columns as :func:`read_long`).

    Rows with every task slot empty are logged only; :func:`read_answers` returns them too."""
    return _read_mturk(path, tasks, label_names, other_tasks)[0]


def _read_mturk(path: str | os.PathLike, tasks: pd.DataFrame, label_names: list[str],
                other_tasks: TaskFrames = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    path = Path(path)
    known = known_tasks(tasks, other_tasks)
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
        if (row.get("AssignmentStatus") or "").strip().lower() == "rejected":
            filled = sum(bool(row[f"Input.task_id_{n}"].strip()) for n in slots)
            LOG.warning("%s: worker %s %s: dropped with its %d answer(s), counted in the exclusions",
                        where, wid, REJECTED_REASON, filled)
            empty.append({"worker_id": wid, "line": line, "seconds": seconds, "rejected": True,
                          "answers": filled})
            continue
        if not any(row[f"Input.task_id_{n}"].strip() for n in slots):
            LOG.warning("%s: worker %s %s: dropped, counted in the exclusions", where, wid, EMPTY_REASON)
            empty.append({"worker_id": wid, "line": line, "seconds": seconds, "rejected": False,
                          "answers": 0})
            continue
        for n in slots:
            tid = row[f"Input.task_id_{n}"].strip()
            if not tid:
                continue  # a short last batch leaves trailing slots empty
            if tid not in known.index:
                raise PlatformFormatError(
                    f"{where}: Input.task_id_{n} {tid!r} is not a known task{_unknown(other_tasks)}")
            col = f"Answer.answer_{n}"
            if col not in row:
                raise PlatformFormatError(f"{path}:1: no {col} column for Input.task_id_{n}")
            if not row[col].strip():
                raise PlatformFormatError(f"{where}: {col} is empty")
            out.append({"task_id": tid, "worker_id": wid,
                        "answer": parse_answer(row[col], label_names, f"{where} ({col})"),
                        "seconds": seconds, "line": line})
    note = (f" ({len(empty)} submission(s) with every task slot empty or rejected, the first "
            f"at line {empty[0]['line']})" if empty else "")
    return _attach(out, known, path, note), pd.DataFrame(empty, columns=EMPTY_COLUMNS)


def _attach(rows: list[dict], known: pd.DataFrame, path: Path, note: str = "") -> pd.DataFrame:
    """The answers of a file (every sample set's) with their task columns; a file without any
    answer raises (one without answers for *this* set is the caller's case, not an error)."""
    if not rows:
        raise PlatformFormatError(f"{path}: no answers{note}")
    df = pd.DataFrame(rows)
    dup = df.duplicated(["task_id", "worker_id"], keep="first")
    if dup.any():
        r = df[dup].iloc[0]
        raise PlatformFormatError(
            f"{path}:{r['line']}: worker {r['worker_id']} answers task {r['task_id']} a second time")
    info = known.loc[df["task_id"], ["sample_id", "method", "k", IN_SET]].reset_index(drop=True)
    info[IN_SET] = info[IN_SET].astype(bool)
    return pd.concat([df[["task_id"]], info.drop(columns=[IN_SET]),
                      df[["worker_id", "answer", "seconds", "line"]], info[[IN_SET]]], axis=1)


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
    ``reason`` and the ``lines`` (``source:2-4,7``) of the dropped rows. Every answer counts,
    whatever its ``in_set``: the one-set case of :func:`exclusion_rule_by_set`."""
    kept, excl, _ = exclusion_rule_by_set(answers.assign(**{IN_SET: True}), min_seconds,
                                          exclude_all_idk, empty, source)
    return kept.drop(columns=[IN_SET]), excl


def exclusion_rule_by_set(answers: pd.DataFrame, min_seconds: float, exclude_all_idk: bool = True,
                          empty: pd.DataFrame | None = None, source: str = "",
                          first_set: bool = True) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The rule for one sample set of a file that holds several: (kept answers of this set,
    this set's exclusions, the answers for the other sets).

    ``answers``: every answer of the file (:func:`read_answers` with ``other_tasks``, column
    ``in_set``). Who is excluded is judged on the worker's whole submission (all of the
    worker's answers in the file, see the module docstring); what is kept and listed is this
    set's part: a worker excluded with answers in both sets is listed in both, with that set's
    answers, rows (file rows holding a dropped answer of the set; a row mixing sets counts in
    each) and lines. A submission with no answer names no task, so it is put in the set of the
    worker's first answered row in the file, and for a worker with no answer anywhere in the
    set with ``first_set`` True (the workflow's first sample set, ``correct``): each is listed
    in exactly one set. Per set: answers read (this set's) = kept + dropped, workers seen =
    kept + excluded; the other sets' answers are neither."""
    empty = pd.DataFrame(columns=EMPTY_COLUMNS) if empty is None else empty
    empty = empty.assign(rejected=empty["rejected"].fillna(False).astype(bool) if "rejected" in empty else False,
                         answers=empty["answers"].fillna(0).astype(int) if "answers" in empty else 0)
    timed = "seconds" in answers and answers["seconds"].notna().any()
    if min_seconds > 0 and len(answers) and not timed:
        raise PlatformFormatError(
            f"{source or 'the platform file'}: no submission times (column seconds; MTurk: "
            f"WorkTimeInSeconds), but crowd.platform.min_seconds is {min_seconds:g}: the too-fast "
            f"rule cannot be applied; add the times, or set crowd.platform.min_seconds: 0 to go "
            f"without the rule")
    in_set = answers[IN_SET].astype(bool) if IN_SET in answers else pd.Series(True, answers.index)
    mine, other = answers[in_set], answers[~in_set]
    reasons = _reasons(answers, min_seconds, exclude_all_idk)  # the whole submission
    here_workers = set(mine["worker_id"])
    in_file_order = answers.assign(**{IN_SET: in_set})
    if "line" in in_file_order:
        in_file_order = in_file_order.sort_values("line", kind="stable")
    first_row_set = in_file_order.groupby("worker_id")[IN_SET].first()
    owner = empty["worker_id"].map(first_row_set)
    empty_here = empty[owner.where(owner.notna(), first_set).astype(bool)]
    excl = _exclusion_rows(mine, empty_here,
                           {w: r for w, r in reasons.items() if w in here_workers},
                           set(answers["worker_id"]), source)
    kept = mine[~mine["worker_id"].isin(reasons)].reset_index(drop=True)
    if len(other):
        LOG.info("%d answer(s) of %d worker(s) (lines %s) are for another sample set: read with "
                 "that set, neither read nor dropped here", len(other), other["worker_id"].nunique(),
                 line_ranges(other["line"]))
    _log_rule(excl, kept, mine, empty_here, " (judged on each worker's whole file)")
    return kept, excl, other.reset_index(drop=True)


def _reasons(answers: pd.DataFrame, min_seconds: float, exclude_all_idk: bool) -> dict[str, list[str]]:
    """Why each excluded worker is excluded (rules (1)-(3) of the module docstring)."""
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
    return reasons


def _exclusion_rows(answers: pd.DataFrame, empty: pd.DataFrame, reasons: dict[str, list[str]],
                    answered: set, source: str) -> pd.DataFrame:
    """One row per worker of ``reasons`` or ``empty`` (:data:`EXCLUSION_COLUMNS`) with what
    is dropped of ``answers``; ``answered``: the workers with an answer anywhere in the file
    (one without is excluded: nothing of theirs is kept)."""
    rejected = empty["rejected"].astype(bool) if "rejected" in empty else pd.Series(False, empty.index)
    n_empty = empty[~rejected].groupby("worker_id").size()
    n_rejected = empty[rejected].groupby("worker_id").size()
    rejected_answers = empty[rejected].groupby("worker_id")["answers"].sum() if "answers" in empty else n_rejected * 0
    rows = []
    for w in sorted(set(reasons) | set(n_empty.index) | set(n_rejected.index)):
        dropped = answers[answers["worker_id"] == w] if w in reasons else answers.iloc[:0]
        lines = list(dropped["line"]) if "line" in dropped else []
        why = list(reasons.get(w, []))
        k = int(n_empty.get(w, 0))
        if k:
            why.append(EMPTY_REASON if k == 1 else f"{k} submissions {EMPTY_REASON.split(' ', 1)[1]}")
            lines += list(empty.loc[(empty["worker_id"] == w) & ~rejected, "line"])
        r = int(n_rejected.get(w, 0))
        if r:
            why.append(REJECTED_REASON if r == 1 else f"{r} assignments {REJECTED_REASON.split(' ', 1)[1]}")
            lines += list(empty.loc[(empty["worker_id"] == w) & rejected, "line"])
        n_rows = (dropped["line"].nunique() if "line" in dropped else len(dropped)) + k + r
        rows.append({"worker_id": w, "excluded": w in reasons or w not in answered,
                     "rows": int(n_rows), "empty": k,
                     "answers": len(dropped) + int(rejected_answers.get(w, 0)),
                     "reason": "; ".join(why),
                     "lines": f"{source}:{line_ranges(lines)}" if source and lines else line_ranges(lines)})
    return pd.DataFrame(rows, columns=EXCLUSION_COLUMNS).astype(
        {"excluded": bool, "rows": int, "empty": int, "answers": int})


def _log_rule(excl: pd.DataFrame, kept: pd.DataFrame, answers: pd.DataFrame,
              empty: pd.DataFrame, how: str) -> None:
    for r in excl.itertuples():
        LOG.warning("worker %s: dropping %d answer(s), %d row(s) (%s): %s", r.worker_id, r.answers,
                    r.rows, r.lines, r.reason)
    LOG.info("exclusion rule%s: %d of %d workers excluded, %d of %d answers kept, %d submission(s) "
             "with no answer dropped", how, int(excl["excluded"].sum()),
             len(set(answers["worker_id"]) | set(empty["worker_id"])), len(kept), len(answers),
             len(empty))


def exclusions_table(exclusions: pd.DataFrame, kept: pd.DataFrame, sample_set: str) -> pd.DataFrame:
    """One sample set's part of the exclusions table (columns :data:`TABLE_COLUMNS`): the
    workers of :func:`exclusion_rule`, then an ``all`` row with the dropped totals and
    ``workers_seen``/``workers_excluded``, ``answers_read``/``answers_kept``.

    ``kept`` are the answers that passed the rule; workers seen = kept workers + excluded ones
    and answers read = kept + dropped, which is checked (a mismatch raises ValueError).
    ``answers_read`` are this set's answers only: the file's answers for the other sample set
    are in ``answers_other_set`` (from ``exclusions.attrs``, which the parquet file keeps, as
    written by the platform import; blank for a source without a file, e.g. simulated)."""
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
                 "answers_read": len(kept) + dropped, "answers_kept": len(kept),
                 "answers_other_set": exclusions.attrs.get(OTHER_SET_ATTR, "")})
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
