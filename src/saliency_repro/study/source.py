"""Where a study comes from: the workflow's crowd design (``crowd_design`` rule outputs).

A study is one dataset (and one crowd source): the batches of every sample set, read from
``<results>/<run>/crowd/<dataset>/<sample_set>/design/{tasks,assignments}.parquet``. One
design worker (``w00003`` of a sample set) is one batch, i.e. one worker slot; its batch id
is ``<sample_set>/<design worker>`` because both sample sets number their workers from
``w00000``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from saliency_repro.study.db import StudyData, StudyError

TASK_NEED = {"task_id", "sample_id", "method", "k", "display", "label"}
ASSIGN_NEED = {"task_id", "sample_id", "worker_id", "position"}


def design_root(configfile: str | os.PathLike, dataset: str) -> tuple[Path, list[str]]:
    """The crowd folder of ``dataset`` for a workflow config, and the dataset's label names."""
    from saliency_repro.config import load_config

    cfg = load_config(configfile)
    if dataset not in cfg["datasets"]:
        raise StudyError(f"{configfile}: no dataset {dataset!r} (have {sorted(cfg['datasets'])})")
    ds = cfg["datasets"][dataset]
    if "label_names" not in ds:
        raise StudyError(f"{configfile}: dataset {dataset!r} has no label_names (not a classification dataset)")
    root = Path(cfg.get("results_dir", "results")) / str(cfg["run"]) / "crowd" / dataset
    return root, list(ds["label_names"])


def load_study(root: str | os.PathLike, dataset: str, label_names: list[str],
               sample_sets: list[str] | None = None) -> StudyData:
    """Read every sample set's design under ``root`` (``<set>/design/*.parquet``)."""
    root = Path(root)
    if sample_sets is None:
        sample_sets = sorted(p.parent.parent.name for p in root.glob("*/design/tasks.parquet"))
    if not sample_sets:
        raise StudyError(f"{root}: no <sample_set>/design/tasks.parquet; run the workflow's "
                         f"crowd_design rule first (e.g. snakemake ... crowd_design)")
    t_parts, b_parts, bt_parts, sources = [], [], [], []
    for s in sample_sets:
        d = root / s / "design"
        tp, ap = d / "tasks.parquet", d / "assignments.parquet"
        for p in (tp, ap):
            if not p.is_file():
                raise StudyError(f"{p}: missing (crowd_design output of sample set {s!r})")
        t, a = pd.read_parquet(tp), pd.read_parquet(ap)
        for p, df, need in ((tp, t, TASK_NEED), (ap, a, ASSIGN_NEED)):
            miss = need - set(df.columns)
            if miss:
                raise StudyError(f"{p}: lacks columns {sorted(miss)}")
        bad = t[(t["label"] < 0) | (t["label"] >= len(label_names))]
        if len(bad):
            raise StudyError(f"{tp}: task {bad['task_id'].iloc[0]!r} has label {bad['label'].iloc[0]} "
                             f"outside 0..{len(label_names) - 1} ({label_names})")
        t = t[sorted(TASK_NEED)].assign(sample_set=s)
        t["sample_id"] = t["sample_id"].astype(str)
        t_parts.append(t)
        a = a.assign(batch_id=s + "/" + a["worker_id"].astype(str), sample_id=a["sample_id"].astype(str))
        workers = sorted(a["worker_id"].unique())
        n = len(workers)
        b_parts.append(pd.DataFrame({
            "batch_id": [f"{s}/{w}" for w in workers], "sample_set": s, "design_worker": workers,
            "n_tasks": a.groupby("worker_id").size().reindex(workers).to_numpy(),
            "ord": [i / n for i in range(n)]}))
        a = a.sort_values(["batch_id", "position"])
        a["position"] = a.groupby("batch_id").cumcount()
        bt_parts.append(a[["batch_id", "position", "task_id", "sample_id"]])
        sources += [str(tp), str(ap)]
    tasks = pd.concat(t_parts, ignore_index=True)
    dup = tasks["task_id"].duplicated()
    if dup.any():
        raise StudyError(f"{root}: task {tasks.loc[dup, 'task_id'].iloc[0]!r} is in two sample sets")
    bt = pd.concat(bt_parts, ignore_index=True)
    unknown = set(bt["task_id"]) - set(tasks["task_id"])
    if unknown:
        raise StudyError(f"{root}: assignments name unknown task {sorted(unknown)[0]!r}")
    tasks = tasks[["task_id", "sample_set", "sample_id", "method", "k", "display", "label"]]
    tasks = tasks.astype({"k": int, "label": int}).reset_index(drop=True)
    batches = pd.concat(b_parts, ignore_index=True).astype({"n_tasks": int})
    return StudyData(dataset, list(label_names), tasks, batches,
                     bt.astype({"position": int}).reset_index(drop=True), sources)
