"""Tasks t_ijk and the batches of tasks crowd workers get (Lu et al. 2024, section 4.1).

The paper's design: every task is labelled by R workers (5), every worker labels B tasks (100),
and no worker ever sees the same sample twice, so that a worker cannot answer a display with
few words from the memory of a display of the same sample with more words. The assignment is
deterministic under a seed, and :func:`validate_design` checks the constraints on every design
and every import of real answers.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

LOG = logging.getLogger(__name__)

TASK_COLUMNS = ["task_id", "sample_id", "method", "k"]


class DesignError(ValueError):
    """A task design or a set of answers breaks R-per-task / B-per-worker / one-sample-per-worker."""


def task_id(sample_id: str, method: str, k: int) -> str:
    """A stable, readable task id; the platform files carry it, so it must not depend on order."""
    return f"{sample_id}|{method}|{int(k)}"


def build_tasks(displays: pd.DataFrame) -> pd.DataFrame:
    """One task per (sample, method, k) of the displays table, with its display and true label."""
    need = {"sample_id", "method", "k", "display", "label"}
    missing = need - set(displays.columns)
    if missing:
        raise ValueError(f"displays table lacks columns {sorted(missing)}")
    tasks = displays.copy()
    tasks["sample_id"] = tasks["sample_id"].astype(str)
    tasks["k"] = tasks["k"].astype(int)
    tasks.insert(0, "task_id", [task_id(s, m, k) for s, m, k in
                                zip(tasks["sample_id"], tasks["method"], tasks["k"], strict=True)])
    if tasks["task_id"].duplicated().any():
        dup = tasks.loc[tasks["task_id"].duplicated(), "task_id"].iloc[0]
        raise ValueError(f"displays table has more than one row for task {dup!r}")
    return tasks.sort_values(["sample_id", "method", "k"]).reset_index(drop=True)


def assign_workers(
    tasks: pd.DataFrame, workers_per_task: int, tasks_per_worker: int, seed: int,
    worker_prefix: str = "w",
) -> pd.DataFrame:
    """Assign every task to ``workers_per_task`` workers in batches of ``tasks_per_worker``.

    Greedy construction: each new batch takes one open slot from each of the B samples with the
    most open slots left (ties broken by a seeded shuffle). Taking from the fullest samples keeps
    the samples balanced, so the last batches never run out of distinct samples when
    B <= number of samples and every sample has the same number of tasks (the paper's case:
    40 tasks x 5 workers per sample, B = N = 100). Within a sample, slots are ordered so that a
    task's R copies go to R different batches. The last batch is smaller when the number of
    slots is not a multiple of B (logged).

    Returns ``task_id, sample_id, method, k, worker_id, position`` (position within the batch).
    """
    R, B = int(workers_per_task), int(tasks_per_worker)
    n_samples = tasks["sample_id"].nunique()
    if n_samples == 0:
        LOG.warning("no tasks to assign (empty sample set)")
        return pd.DataFrame(columns=[*TASK_COLUMNS, "worker_id", "position"])
    if B > n_samples:
        # A worker sees each sample at most once, so a batch can hold at most one task per
        # sample; a smaller sample set (e.g. few misclassified items) gets smaller batches.
        LOG.warning("tasks_per_worker=%d exceeds the number of samples (%d): batches of %d tasks "
                    "instead (a worker sees each sample at most once)", B, n_samples, n_samples)
        B = n_samples
    rng = np.random.default_rng(seed)
    # open slots per sample: each task repeated R times, copies interleaved (task order shuffled
    # once per round) so that consecutive pops from one sample are different tasks
    slots: dict[str, list[int]] = {}
    for sid, grp in tasks.groupby("sample_id", sort=True):
        idx = grp.index.to_numpy()
        rounds = [rng.permutation(idx) for _ in range(R)]
        slots[str(sid)] = [int(i) for r in rounds for i in r]
    order = np.array(sorted(slots))
    tiebreak = dict(zip(order, rng.permutation(len(order)), strict=True))
    rows = []
    worker = 0
    while True:
        open_samples = [s for s in order if slots[s]]
        if not open_samples:
            break
        open_samples.sort(key=lambda s: (-len(slots[s]), tiebreak[s]))
        chosen = open_samples[:B]
        picked = [slots[s].pop() for s in chosen]
        picked = list(rng.permutation(picked))
        wid = f"{worker_prefix}{worker:05d}"
        rows.extend((int(i), wid, pos) for pos, i in enumerate(picked))
        worker += 1
        # a new round of tiebreaks so the same samples do not always lead
        tiebreak = dict(zip(order, rng.permutation(len(order)), strict=True))
    out = pd.DataFrame(rows, columns=["_row", "worker_id", "position"])
    out = tasks.loc[out["_row"], TASK_COLUMNS].reset_index(drop=True).join(
        out[["worker_id", "position"]])
    sizes = out.groupby("worker_id").size()
    if (sizes != B).any():
        LOG.warning("%d of %d batches are smaller than tasks_per_worker=%d (sizes %s): the number "
                    "of slots (%d tasks x %d) is not a multiple of B or samples ran out",
                    int((sizes != B).sum()), len(sizes), B, sorted(set(sizes)), len(tasks), R)
    validate_design(out, tasks, R, B, allow_short_batches=True)
    return out


def validate_design(
    assignments: pd.DataFrame, tasks: pd.DataFrame | None, workers_per_task: int,
    tasks_per_worker: int, allow_short_batches: bool = True,
) -> None:
    """Raise :class:`DesignError` naming the first broken constraint.

    ``assignments`` has ``task_id, sample_id, worker_id``. Checks: every task of ``tasks`` has
    exactly R distinct workers; no worker has more than B tasks (and exactly B unless
    ``allow_short_batches``, which accepts the remainder batches); no worker sees a sample twice.
    """
    R, B = int(workers_per_task), int(tasks_per_worker)
    dup = assignments.duplicated(["worker_id", "sample_id"], keep=False)
    if dup.any():
        row = assignments[dup].iloc[0]
        raise DesignError(f"worker {row['worker_id']} sees sample {row['sample_id']} more than once")
    per_task = assignments.groupby("task_id")["worker_id"].nunique()
    if tasks is not None:
        unknown = set(per_task.index) - set(tasks["task_id"])
        if unknown:
            raise DesignError(f"assignments name unknown task {sorted(unknown)[0]!r}")
        per_task = per_task.reindex(tasks["task_id"], fill_value=0)
    bad = per_task[per_task != R]
    if len(bad):
        raise DesignError(f"task {bad.index[0]!r} has {int(bad.iloc[0])} workers, expected {R}")
    per_worker = assignments.groupby("worker_id").size()
    over = per_worker[per_worker > B]
    if len(over):
        raise DesignError(f"worker {over.index[0]} has {int(over.iloc[0])} tasks, more than B={B}")
    short = per_worker[per_worker < B]
    if len(short) and not allow_short_batches:
        raise DesignError(f"worker {short.index[0]} has {int(short.iloc[0])} tasks, fewer than B={B}")
