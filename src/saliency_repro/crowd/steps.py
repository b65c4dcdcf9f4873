"""What the workflow's ``scripts/crowd_*.py`` call: one function per rule, paths in, files out.

Kept here (not in the scripts) so that every step can be run and tested without Snakemake.
"""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from saliency_repro.crowd import aggregate as agg_mod
from saliency_repro.crowd import compare, figures, paper_values, platform, scores, stats
from saliency_repro.crowd.design import assign_workers, build_tasks
from saliency_repro.crowd.export import export_batches
from saliency_repro.crowd.released import read_release
from saliency_repro.crowd.simulate import (
    Reader,
    WorkerModel,
    eq1_from_matrix,
    expert_model,
    simulate_answers,
    simulate_independent,
)
from saliency_repro.io import write_json, write_parquet
from saliency_repro.reporting import caption_for, save_figure, write_table

LOG = logging.getLogger(__name__)

PathLike = str | os.PathLike


def stable_seed(seed: int, *parts: str) -> int:
    """A seed per (dataset, sample set, source) that does not depend on rule order."""
    return (int(seed) + zlib.crc32("/".join(parts).encode())) % (2**32)


def question_for(label_names: list[str]) -> str:
    return ("Based on the words shown, which label does the text most likely have: "
            + ", ".join(label_names) + "?")


# ----------------------------------------------------------------------------- design / export
def run_design(displays: PathLike, tasks_out: PathLike, assignments_out: PathLike,
               workers_per_task: int, tasks_per_worker: int, seed: int) -> None:
    tasks = build_tasks(pd.read_parquet(displays))
    assignments = assign_workers(tasks, workers_per_task, tasks_per_worker, seed)
    LOG.info("%d tasks, %d workers, %d assignments", len(tasks),
             assignments["worker_id"].nunique(), len(assignments))
    write_parquet(tasks, tasks_out)
    write_parquet(assignments, assignments_out)


def run_export(tasks: PathLike, assignments: PathLike, label_names: list[str],
               out_dir: PathLike) -> None:
    written = export_batches(pd.read_parquet(assignments), pd.read_parquet(tasks), label_names,
                             out_dir, question_for(label_names))
    LOG.info("exported %d files to %s", len(written), out_dir)


# ----------------------------------------------------------------------------- answers
def read_train(path: PathLike) -> pd.DataFrame:
    """Training texts for the reader: parquet or CSV with ``text`` and ``label`` columns."""
    p = Path(path)
    df = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
    missing = {"text", "label"} - set(df.columns)
    if missing:
        raise ValueError(f"{p}: reader training file lacks columns {sorted(missing)}")
    return df


def fit_reader(train: PathLike, n_classes: int, model: WorkerModel, seed: int) -> Reader:
    """The simulated workers' word-label knowledge, learned from the training split only."""
    tr = read_train(train)
    return Reader(n_classes, C=model.reader_C).fit(
        tr["text"], tr["label"], max_rows=model.reader_max_train, seed=seed)


def run_simulated_answers(tasks: PathLike, assignments: PathLike, train: PathLike,
                          label_names: list[str], simulated_cfg: dict, seed: int,
                          answers_out: PathLike, exclusions_out: PathLike) -> None:
    model = WorkerModel.from_config(simulated_cfg)
    reader = fit_reader(train, len(label_names), model, seed)
    answers = simulate_answers(pd.read_parquet(assignments), pd.read_parquet(tasks), reader,
                               model, seed)
    LOG.info("simulated %d answers; answer distribution %s", len(answers),
             answers["answer"].value_counts().sort_index().to_dict())
    write_parquet(answers, answers_out)
    write_parquet(pd.DataFrame(columns=["worker_id", "answers", "reason"]), exclusions_out)


def run_platform_answers(source: dict, tasks: PathLike, label_names: list[str],
                         workers_per_task: int, tasks_per_worker: int, platform_cfg: dict,
                         answers_out: PathLike, exclusions_out: PathLike) -> None:
    t = pd.read_parquet(tasks)
    reader = platform.read_mturk if source.get("format", "long") == "mturk" else platform.read_long
    raw = reader(source["path"], t, label_names)
    kept, excl = platform.exclusion_rule(raw, float(platform_cfg.get("min_seconds", 120)),
                                         bool(platform_cfg.get("exclude_all_idk", True)))
    report = platform.design_report(kept, t, workers_per_task, tasks_per_worker)
    if (report["problem"] != "fewer than R answers").any():
        first = report[report["problem"] != "fewer than R answers"].iloc[0]
        raise platform.PlatformFormatError(
            f"{source['path']}: {first['kind']} {first['id']} has {first['count']} answers: "
            f"{first['problem']} (the file does not follow the task design)")
    write_parquet(kept.drop(columns=["line"]), answers_out)
    write_parquet(excl, exclusions_out)


# ----------------------------------------------------------------------------- aggregation
def run_aggregate(source_type: str, inputs: dict, label_names: list[str],
                  aggregate_out: PathLike) -> None:
    """Equation (1) for per-worker sources; the released A_ijk as is for ``released``."""
    if source_type == "released":
        rel = read_release(inputs["released"], n_classes=len(label_names))
        out = rel.aggregate.drop(columns=["line"])
    else:
        tasks = pd.read_parquet(inputs["tasks"])
        answers = pd.read_parquet(inputs["answers"])
        out = agg_mod.majority_vote(answers, tasks[["task_id", "sample_id", "method", "k",
                                                    "label", "display"]])
    LOG.info("%d tasks aggregated, accuracy %.3f", len(out), out["correct"].mean())
    write_parquet(out, aggregate_out)


def run_aggregation_agreement(tasks: PathLike, answers: PathLike, aggregate: PathLike,
                              stem: PathLike, caption: str, seed: int) -> None:
    t = pd.read_parquet(tasks)
    ds = agg_mod.dawid_skene(pd.read_parquet(answers), t[["task_id", "label", "method", "k"]],
                             seed=seed)
    table = agg_mod.aggregation_agreement(pd.read_parquet(aggregate), ds)
    write_table(table, stem, caption)


# ----------------------------------------------------------------------------- tables
def run_scores(aggregate: PathLike, stem: PathLike, caption: str, paper_ref: str,
               compare_with_paper: bool) -> None:
    long = scores.scores_frame(pd.read_parquet(aggregate))
    printed = paper_values.BY_REF.get(paper_ref) if compare_with_paper else None
    if printed is not None:
        table = compare.scores_vs_paper(long, printed)
        n_diff = int((table["differs"] != "").sum())
        caption += f" Recomputed beside the values printed in {paper_ref}; ≠ marks a differing cell ({n_diff} methods with differences)."
        LOG.info("differences from %s: %s", paper_ref, table.loc[table["differs"] != "", ["Method", "differs"]].to_dict("records"))
    else:
        table = scores.wide_scores(long)
    write_table(table, stem, caption)


def run_flips(aggregate: PathLike, counts_stem: PathLike, example_stem: PathLike,
              hist_stem: PathLike, run: str, dataset: str, source: str, paper_ref: str,
              compare_with_paper: bool, settings_note: str = "") -> None:
    agg = pd.read_parquet(aggregate)
    counts = scores.flip_counts(agg)
    key = paper_values.TABLE7_KEY_BY_SCORES_REF.get(paper_ref)
    cap = (f"Flips and Aids per saliency method, {dataset}, crowd source {source} (cf. Table 7). "
           f"{settings_note}").strip()
    if compare_with_paper and key:
        table = compare.flips_vs_paper(counts, paper_values.TABLE7[key])
        table = table.merge(counts[["Method", "All_correct", "N"]], on="Method", how="left")
        cap += f" Paper values: Table 7, {key.upper()} columns; ≠ marks a differing cell."
        LOG.info("Table 7 differences: %s", table.loc[table["differs"] != "", ["Method", "differs"]].to_dict("records"))
    else:
        table = counts
    write_table(table, counts_stem, caption_for(run, cap))
    example = scores.flip_example(agg)
    write_table(example, example_stem, caption_for(
        run, f"A Flipped example (cf. Table 6), {dataset}, crowd source {source}: displays of one "
             f"sample by one method with the crowd outcome per k. {settings_note}".strip()))
    hist = scores.flip_histogram_counts(agg)
    fig = figures.flip_histogram(hist, caption_for(
        run, f"Flips per sample, {dataset}, {source} (cf. Figure 3)"))
    save_figure(fig, hist_stem)


def run_misclassified(aggregate: PathLike, stem: PathLike, caption: str, paper_ref: str,
                      compare_with_paper: bool) -> None:
    counts = scores.misclassified_counts(pd.read_parquet(aggregate))
    printed = paper_values.BY_REF.get(paper_ref) if compare_with_paper else None
    if printed is not None:
        table = compare.counts_vs_paper(counts, printed)
        caption += f" Paper values: {paper_ref}; ≠ marks a differing cell."
    else:
        table = counts
    write_table(table, stem, caption)


def run_significance(aggregate: PathLike, stem: PathLike, caption: str, crowd_cfg: dict,
                     seed: int, with_paper_claims: bool) -> None:
    """Significance vs RANDOM at the sample level (see ``stats``); the paper's claims beside
    the verdicts only for datasets that reproduce one of its tables."""
    settings = stats.SignificanceSettings.from_config(crowd_cfg)
    claims = paper_values.SIGNIFICANTLY_BETTER_THAN_RANDOM if with_paper_claims else None
    table = stats.significance_table(pd.read_parquet(aggregate), settings, seed, claims)
    write_table(table, stem, f"{caption} {settings.describe()}.", float_format="{:.4g}")


def run_expert_check(tasks: PathLike, aggregate: PathLike, train: PathLike,
                     label_names: list[str], simulated_cfg: dict, n_tasks: int, seed: int,
                     stem: PathLike, caption: str, paper_ref: str) -> None:
    """Section 4.1: simulated experts (more skilled, no lapses) on ``n_tasks`` random tasks."""
    model = WorkerModel.from_config(simulated_cfg)
    experts = expert_model(model)
    reader = fit_reader(train, len(label_names), model, seed)
    agg = pd.read_parquet(aggregate)
    rng = np.random.default_rng(seed)
    pick = agg.iloc[np.sort(rng.choice(len(agg), min(n_tasks, len(agg)), replace=False))]
    answers = simulate_independent(reader.proba(pick["display"]), model.experts_per_task,
                                   experts, seed + 7)
    expert_a = eq1_from_matrix(answers, pick["label"].to_numpy(int))
    crowd_a = pick["correct"].to_numpy(int)
    key = paper_values.EXPERT_KEY_BY_SCORES_REF.get(paper_ref)
    table = pd.DataFrame([{
        "tasks": len(pick), "experts_per_task": model.experts_per_task,
        "expert_skill_median": experts.skill_median, "expert_lapse_rate": experts.lapse_rate,
        "agreement_%": 100 * float((expert_a == crowd_a).mean()),
        "both_correct_%": 100 * float(((expert_a == 1) & (crowd_a == 1)).mean()),
        "expert_accuracy_%": 100 * float(expert_a.mean()),
        "crowd_accuracy_%": 100 * float(crowd_a.mean()),
        "paper_agreement_%": paper_values.EXPERT_AGREEMENT.get(key, np.nan) if key else np.nan,
    }])
    write_table(table, stem, caption)


def run_task_example(tasks: PathLike, label_names: list[str], stem: PathLike, title: str,
                     prefer_k: int = 10) -> None:
    """Figure 1-style rendering of one task (k = 10 as in the paper when available)."""
    t = pd.read_parquet(tasks)
    ks = sorted(t["k"].unique())
    k = prefer_k if prefer_k in ks else ks[0]
    row = t[t["k"] == k].sort_values("task_id").iloc[0]
    fig = figures.task_figure(row["display"], label_names,
                              f"{title} (task {row['task_id']}, top-{k} words)",
                              question_for(label_names))
    save_figure(fig, stem)


def run_validation(released: PathLike, label_names: list[str], simulated_cfg: dict,
                   validation_cfg: dict, workers_per_task: int, seed: int,
                   train: PathLike | None, stem: PathLike, caption: str,
                   grid_out: PathLike) -> None:
    from saliency_repro.crowd.validation import DEFAULT_GRID, validate_simulator

    rel = read_release(released, n_classes=len(label_names))
    summary, search = validate_simulator(
        rel.aggregate, rel.samples, len(label_names), WorkerModel.from_config(simulated_cfg),
        workers_per_task, seed, fit_fraction=float(validation_cfg.get("fit_fraction", 0.5)),
        grid=validation_cfg.get("grid") or DEFAULT_GRID,
        replicates=int(validation_cfg.get("replicates", 5)),
        train_texts=read_train(train) if train else None)
    write_table(summary, stem, caption)
    write_parquet(search, grid_out)
    write_json(Path(grid_out).with_suffix(".json"), summary.iloc[0].to_dict())
