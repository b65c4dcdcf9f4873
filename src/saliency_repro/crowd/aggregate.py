"""From per-worker answers L_ijkm to task outcomes A_ijk.

:func:`majority_vote` is the paper's equation (1) exactly: A_ijk = 1 when the true label got
strictly more votes than every other answered label, "I don't know" included (in the paper
L = 0 is "I don't know" and only L = -1, "not evaluated", is excluded from the comparison);
any tie with the true label, or no vote for it, gives 0. :func:`dawid_skene` is the
confusion-matrix model of crowd-kit as an alternative aggregation, with "I don't know" as one
more class so that it is treated as information exactly like in equation (1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from saliency_repro.crowd import IDK


def majority_vote(answers: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Equation (1). ``answers``: task_id, worker_id, answer (-1 = I don't know);
    ``truth``: task_id, label (plus any task columns to keep). Returns ``truth`` with
    ``correct`` and ``n_votes``. A task that nobody answered (all its workers excluded, or its
    rows missing) is not a failure: its ``correct`` is NaN and every table leaves it out and
    reports it (``coverage_table``); a task with some answers follows equation (1) on them.
    """
    counts = answers.groupby(["task_id", "answer"]).size().unstack(fill_value=0)
    out = truth.copy()
    correct = np.full(len(out), np.nan)
    n_votes = np.zeros(len(out), dtype=int)
    index = {t: i for i, t in enumerate(counts.index)}
    values = counts.to_numpy()
    cols = list(counts.columns)
    for r, (tid, label) in enumerate(zip(out["task_id"], out["label"], strict=True)):
        i = index.get(tid)
        if i is None:
            continue
        row = values[i]
        n_votes[r] = int(row.sum())
        true_votes = int(row[cols.index(label)]) if label in cols else 0
        others = [int(v) for c, v in zip(cols, row, strict=True) if c != label]
        correct[r] = float(true_votes > 0 and all(true_votes > v for v in others))
    out["correct"] = correct
    out["n_votes"] = n_votes
    return out


def coverage_table(aggregate: pd.DataFrame, required: int | None) -> pd.DataFrame:
    """Per method and k: tasks, tasks answered by all ``required`` workers, by fewer, by none.

    Unanswered tasks are left out of every score (never counted as wrong); this table is where
    a reader sees how many there were. ``required`` is None for the released aggregates, which
    carry no vote counts.
    """
    from saliency_repro.crowd.scores import method_order
    from saliency_repro.names import display_name

    df = aggregate.copy()
    if "n_votes" not in df:
        df["n_votes"] = np.where(df["correct"].isna(), 0, required or 0)
    rows = []
    for method in method_order(df["method"].unique()):
        for k, g in df[df["method"] == method].groupby("k"):
            answered = g["correct"].notna()
            rows.append({
                "Method": display_name(method), "k": int(k),
                "tasks": len(g), "answered": int(answered.sum()),
                "full": int((g["n_votes"] >= required).sum()) if required else int(answered.sum()),
                "partial": int(((g["n_votes"] > 0) & (g["n_votes"] < required)).sum()) if required else 0,
                "unanswered": int((~answered).sum()), "required_answers": required or "",
            })
    return pd.DataFrame(rows)


def dawid_skene(answers: pd.DataFrame, truth: pd.DataFrame, n_iter: int = 100,
                seed: int = 0) -> pd.DataFrame:
    """Dawid-Skene (crowd-kit) estimate per task; ``correct`` = estimate equals the true label."""
    from crowdkit.aggregation import DawidSkene

    data = answers.rename(columns={"task_id": "task", "worker_id": "worker", "answer": "label"})
    np.random.seed(seed)  # crowd-kit's initialisation is majority vote; kept for safety
    est = DawidSkene(n_iter=n_iter).fit_predict(data[["task", "worker", "label"]])
    out = truth.copy()
    out["ds_label"] = out["task_id"].map(est)
    out["correct"] = (out["ds_label"] == out["label"]).astype(int)
    return out


def aggregation_agreement(mv: pd.DataFrame, ds: pd.DataFrame) -> pd.DataFrame:
    """How often equation (1) and Dawid-Skene disagree on A_ijk, per method and overall."""
    both = mv[["task_id", "method", "k", "correct"]].merge(
        ds[["task_id", "correct"]], on="task_id", suffixes=("_mv", "_ds"))
    both["disagree"] = (both["correct_mv"] != both["correct_ds"]).astype(int)
    rows = []
    from saliency_repro.crowd.scores import method_order
    from saliency_repro.names import display_name

    groups = [(m, both[both["method"] == m]) for m in method_order(both["method"].unique())]
    for method, grp in groups + [("all", both)]:
        rows.append({
            "method": display_name(method), "tasks": len(grp),
            "accuracy_mv": 100 * grp["correct_mv"].mean(),
            "accuracy_ds": 100 * grp["correct_ds"].mean(),
            "disagreement_%": 100 * grp["disagree"].mean(),
            "mv1_ds0": int(((grp["correct_mv"] == 1) & (grp["correct_ds"] == 0)).sum()),
            "mv0_ds1": int(((grp["correct_mv"] == 0) & (grp["correct_ds"] == 1)).sum()),
        })
    return pd.DataFrame(rows)


__all__ = ["IDK", "majority_vote", "coverage_table", "dawid_skene", "aggregation_agreement"]
