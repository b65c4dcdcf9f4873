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
from saliency_repro.crowd.simulate import Reader, WorkerModel, eq1_from_matrix
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


def run_fit_reader(train: PathLike, label_names: list[str], simulated_cfg: dict, seed: int,
                   reader_out: PathLike, dataset: str = "") -> None:
    """Rule crowd_reader: the simulated crowd's reader of one dataset, fitted once on its
    training split and reused by every job that simulates workers on it (crowd_answers of
    each sample set, crowd_expert_check, simulator_validation), instead of one fit per job.
    ``<reader_out>.json`` records the settings, seed and training file it came from."""
    from saliency_repro.crowd.simulate import READER_KEYS, fit_crowd_reader, save_reader
    from saliency_repro.provenance import sha256_file

    model = WorkerModel.from_config(simulated_cfg)
    tr = read_train(train)
    reader = fit_crowd_reader(tr, label_names, model, seed)
    save_reader(reader, reader_out, {
        "produced_by": "rule crowd_reader (rules/crowd.smk)", "dataset": dataset,
        "reader": type(reader).__name__, "label_names": list(label_names), "seed": int(seed),
        "settings": {k: getattr(model, k) for k in READER_KEYS},
        "train": {"path": str(train), "sha256": sha256_file(train), "rows": len(tr)},
    })
    LOG.info("%s reader of %s fitted on %d training rows (seed %d) -> %s", model.model,
             dataset or train, len(tr), seed, reader_out)


def run_simulated_answers(tasks: PathLike, assignments: PathLike, reader: PathLike,
                          label_names: list[str], simulated_cfg: dict, seed: int,
                          answers_out: PathLike, exclusions_out: PathLike) -> None:
    """Rule crowd_answers for a simulated source: the design's (task, worker) pairs answered
    by the simulated crowd around the dataset's fitted reader (rule crowd_reader)."""
    from saliency_repro.crowd.simulate import crowd_from_reader, load_reader

    model = WorkerModel.from_config(simulated_cfg)
    crowd = crowd_from_reader(load_reader(reader, model, label_names), model)
    answers = crowd.simulate_answers(pd.read_parquet(assignments), pd.read_parquet(tasks), seed)
    LOG.info("simulated %d answers; answer distribution %s", len(answers),
             answers["answer"].value_counts().sort_index().to_dict())
    write_parquet(answers, answers_out)
    write_parquet(pd.DataFrame(columns=platform.EXCLUSION_COLUMNS), exclusions_out)


def run_platform_answers(source: dict, tasks: PathLike, label_names: list[str],
                         workers_per_task: int, tasks_per_worker: int, platform_cfg: dict,
                         answers_out: PathLike, exclusions_out: PathLike,
                         other_tasks: PathLike | list[PathLike] | tuple = (),
                         first_set: bool = True) -> None:
    """Rule crowd_answers for a platform file: one sample set's answers from a file that may
    hold every sample set's (:mod:`saliency_repro.crowd.platform`, "One file, both sample sets").

    ``tasks``: the set being imported; ``other_tasks``: the other sets' tasks (a task id in
    none raises naming file:line); ``first_set``: this is the workflow's first sample set, where
    the empty submissions of workers with no answer anywhere are counted. The exclusion rule is
    judged on each worker's whole file, the design check (R per task, B per worker) on this set.
    Writes this set's kept answers (:data:`~saliency_repro.crowd.platform.ANSWER_COLUMNS`; none,
    with a warning, when the file has answers for other sets only: its tasks are then unanswered,
    which the coverage table reports) and its exclusions, whose ``attrs`` record the number of
    answers for the other sets (neither read nor dropped here)."""
    path = source["path"]
    t = pd.read_parquet(tasks)
    others = [pd.read_parquet(p) for p in
              ([other_tasks] if isinstance(other_tasks, str | os.PathLike) else other_tasks)]
    raw, empty = platform.read_answers(path, t, label_names, source.get("format", "long"),
                                       other_tasks=others or None)
    kept, excl, other = platform.exclusion_rule_by_set(
        raw, float(platform_cfg.get("min_seconds", 120)),
        bool(platform_cfg.get("exclude_all_idk", True)), empty=empty, source=str(path),
        first_set=first_set)
    n_read = len(raw) - len(other)
    LOG.info("%s: %d answer(s) for this sample set (%d tasks), %d for the other set(s), "
             "%d submission(s) with no answer", path, n_read, len(t), len(other), len(empty))
    if not n_read:
        LOG.warning("%s has no answer for this sample set (%d for the other set(s)): writing an "
                    "empty answers table; its %d tasks are unanswered (see the coverage table)",
                    path, len(other), len(t))
    report = platform.design_report(kept, t, workers_per_task, tasks_per_worker)
    if (report["problem"] != "fewer than R answers").any():
        first = report[report["problem"] != "fewer than R answers"].iloc[0]
        raise platform.PlatformFormatError(
            f"{path}: {first['kind']} {first['id']} has {first['count']} answers: "
            f"{first['problem']} (the file does not follow the task design)")
    excl.attrs[platform.OTHER_SET_ATTR] = len(other)
    write_parquet(kept[platform.ANSWER_COLUMNS], answers_out)
    write_parquet(excl, exclusions_out)


def run_exclusions(exclusions: dict[str, PathLike], answers: dict[str, PathLike],
                   stem: PathLike, caption: str) -> None:
    """Rule crowd_exclusions: every worker and submission dropped on import, per sample set,
    with its reasons and file lines, and an ``all`` row per sample set whose counts close
    (answers read = kept + dropped, workers seen = kept + excluded); the counts go into the
    caption too."""
    parts, notes = [], []
    for sample_set in exclusions:
        part = platform.exclusions_table(pd.read_parquet(exclusions[sample_set]),
                                         pd.read_parquet(answers[sample_set]), sample_set)
        parts.append(part)
        a = part.iloc[-1]
        notes.append(f"{sample_set}: {a['workers_seen']} workers seen, {a['workers_excluded']} "
                     f"excluded; {a['answers_read']} answers read, {a['answers_kept']} kept, "
                     f"{a['answers_dropped']} dropped; {a['empty_submissions']} submission(s) "
                     f"with no answer")
        LOG.info("exclusions, %s", notes[-1])
    table = pd.concat(parts, ignore_index=True)
    if (table["worker_id"] == "all").all():
        notes.append("no worker or submission was dropped")
    write_table(table, stem, f"{caption} {'; '.join(notes)}.")


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
               compare_with_paper: bool, coverage_stem: PathLike | None = None,
               required: int | None = None, coverage_caption: str = "") -> None:
    agg = pd.read_parquet(aggregate)
    if coverage_stem is not None:
        coverage = agg_mod.coverage_table(agg, required)
        write_table(coverage, coverage_stem, coverage_caption)
        missing = int(coverage["unanswered"].sum())
        if missing:
            caption += f" {missing} unanswered task(s) left out (see the coverage table)."
    caption += scores.shown_whole_note(agg)
    long = scores.scores_frame(agg)
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


def run_expert_check(tasks: PathLike, aggregate: PathLike, reader: PathLike,
                     label_names: list[str], simulated_cfg: dict, n_tasks: int, seed: int,
                     stem: PathLike, caption: str, paper_ref: str) -> None:
    """Section 4.1: simulated experts (more skilled, no lapses) on ``n_tasks`` random tasks;
    their reader is the dataset's fitted one (rule crowd_reader)."""
    from saliency_repro.crowd.simulate import crowd_from_reader, load_reader

    model = WorkerModel.from_config(simulated_cfg)
    crowd = crowd_from_reader(load_reader(reader, model, label_names), model)
    agg = pd.read_parquet(aggregate)
    rng = np.random.default_rng(seed)
    pick = agg.iloc[np.sort(rng.choice(len(agg), min(n_tasks, len(agg)), replace=False))]
    answers = crowd.independent(pick["display"], model.experts_per_task, seed + 7, experts=True)
    expert_a = eq1_from_matrix(answers, pick["label"].to_numpy(int))
    crowd_a = pick["correct"].to_numpy(int)
    key = paper_values.EXPERT_KEY_BY_SCORES_REF.get(paper_ref)
    table = pd.DataFrame([{
        "tasks": len(pick), "experts_per_task": model.experts_per_task,
        "simulator": model.model, **crowd.describe_experts(),
        "agreement_%": 100 * float((expert_a == crowd_a).mean()),
        "both_correct_%": 100 * float(((expert_a == 1) & (crowd_a == 1)).mean()),
        "expert_accuracy_%": 100 * float(expert_a.mean()),
        "crowd_accuracy_%": 100 * float(crowd_a.mean()),
        "paper_agreement_%": paper_values.EXPERT_AGREEMENT.get(key, np.nan) if key else np.nan,
    }])
    write_table(table, stem, caption)


def run_task_example(tasks: PathLike, label_names: list[str], stem: PathLike, title: str,
                     prefer_k: int = 10) -> None:
    """Figure 1-style rendering of one task (k = 10 as in the paper when available), of a
    sample with more than k words: a shorter text's display is the whole text, which is not
    what a worker of the study sees."""
    t = pd.read_parquet(tasks)
    ks = sorted(t["k"].unique())
    k = prefer_k if prefer_k in ks else ks[0]
    at_k = t[t["k"] == k].sort_values("task_id")
    longest = t.groupby("sample_id")["display"].agg(lambda shown: max(map(scores.display_words, shown)))
    longer = at_k[at_k["sample_id"].map(longest) > k]
    row = (longer if len(longer) else at_k).iloc[0]
    fig = figures.task_figure(row["display"], label_names,
                              f"{title} (task {row['task_id']}, top-{k} words)",
                              question_for(label_names))
    save_figure(fig, stem)


def run_validation(released: PathLike, label_names: list[str], simulated_cfg: dict,
                   validation_cfg: dict, workers_per_task: int, seed: int,
                   train: PathLike | None, stem: PathLike, caption: str,
                   grid_out: PathLike, methods_stem: PathLike | None = None,
                   figure_stem: PathLike | None = None, evidence_out: PathLike | None = None,
                   run: str = "", dataset: str = "", reader: PathLike | None = None) -> None:
    """Rule simulator_validation: cross-fitted validation of both simulators against the
    released human aggregates (:mod:`saliency_repro.crowd.validation`). ``reader``: the
    dataset's fitted ``human_fitted`` reader (rule crowd_reader), used with ``reader:
    train_split`` instead of a fit of its own.

    Writes the summary table (``stem``), the per-method table and the figure, the per-fold
    metrics and fitted parameters (``grid_out`` parquet, the bag-of-words grid search beside
    it, and a JSON summary), and the reader evidence per task with the human outcome
    (``evidence_out``) from which rule ``human_noise_params`` fits the transferable
    human-noise parameters."""
    from saliency_repro.crowd import validation as val

    rel = read_release(released, n_classes=len(label_names))
    settings = val.ValidationSettings.from_config(validation_cfg)
    model = WorkerModel.from_config(simulated_cfg)
    fitted = None
    if reader and model.model == "human_fitted":
        from saliency_repro.crowd.simulate import load_reader

        fitted = load_reader(reader, model, label_names)
    result = val.cross_fit(rel.aggregate, rel.samples, label_names, model, workers_per_task,
                           seed, settings, train_texts=read_train(train) if train else None,
                           reader=fitted)
    agg = rel.aggregate.reset_index(drop=True)
    methods = val.methods_table(result, agg, settings.bootstrap, seed)
    summary = val.summary_table(result)
    write_table(summary, stem, caption)
    if methods_stem:
        write_table(methods, methods_stem, caption.replace(
            "Simulated crowd vs the real crowd", "Per-method accuracy, simulated vs real crowd",
            1) + " Per method, all samples: human accuracy with its 95% bootstrap CI over "
            "samples; simulated accuracies cross-fitted (each task predicted by a fit that did "
            "not see its sample, averaged over splits).", float_format="{:.1f}")
    if figure_stem:
        fig = val.validation_figure(result, agg, caption_for(
            run, f"Simulated vs human crowd accuracy per method and k, {dataset} (cross-fitted; "
                 "human_fitted: noise model fitted on the people, reader on the training split)"),
            settings.bootstrap, seed)
        save_figure(fig, figure_stem)
    grid_out = Path(grid_out)
    write_parquet(result.folds, grid_out)
    if not result.search.empty:
        write_parquet(result.search, grid_out.with_name("bag_of_words_grid_search.parquet"))
    write_parquet(result.noise_fits, grid_out.with_name("fitted_parameters.parquet"))
    refs = {k: v for k, v in result.references.items() if k != "pairs"}
    write_json(grid_out.with_suffix(".json"), {
        "references": refs, "full_fit": result.full_fit, "notes": result.notes,
        "settings": {**settings.__dict__, "simulators": list(settings.simulators)},
        "calibration": result.calibration.to_dict("records"),
        "mean_over_folds": result.folds.drop(columns=["split_seed", "fold"])
        .groupby("simulator").mean(numeric_only=True).to_dict("index")})
    if evidence_out:
        write_parquet(_evidence_frame(result, agg), evidence_out)
    LOG.info("references: %s", refs)
    LOG.info("summary:\n%s", summary.to_string())


def _evidence_frame(result, agg: pd.DataFrame) -> pd.DataFrame:
    """Per task: ids, label, the human outcome, shown words and the reader's evidence per
    channel and label (columns ``e_<channel>_<c>``)."""
    out = agg[["task_id", "sample_id", "method", "k", "label", "correct"]].copy()
    if result.block is None:
        return out
    out["n_shown"] = result.block.n_shown
    for ch, e in result.block.evidence.items():
        for c in range(e.shape[1]):
            out[f"e_{ch}_{c}"] = e[:, c]
    return out


def block_from_evidence(df: pd.DataFrame):
    """The :class:`~saliency_repro.crowd.human_model.TaskBlock` of an evidence frame."""
    from saliency_repro.crowd.human_model import CHANNELS, TaskBlock

    ev = {}
    for ch in CHANNELS:
        cols = sorted((c for c in df.columns if c.startswith(f"e_{ch}_")),
                      key=lambda c: int(c.rsplit("_", 1)[1]))
        if cols:
            ev[ch] = df[cols].to_numpy(float)
    return TaskBlock(ev, df["n_shown"].to_numpy(), df["label"].to_numpy(int),
                     df["correct"].to_numpy(int))


def run_human_noise_params(evidence: dict[str, PathLike], sources: dict[str, dict],
                           simulated_cfg: dict, workers_per_task: int, out: PathLike,
                           config_name: str = "") -> None:
    """Rule human_noise_params: the human-noise parameters fitted on *all* released samples of
    each validation dataset and on all of them pooled, with provenance. Copy the output to
    ``src/saliency_repro/crowd/human_noise.json`` to make it the simulator's default."""
    from saliency_repro.crowd.human_model import fit_noise

    model = WorkerModel.from_config(simulated_cfg)
    blocks = {ds: block_from_evidence(pd.read_parquet(p)) for ds, p in sorted(evidence.items())}
    fits = {}
    for ds, block in blocks.items():  # a dataset's own fit keeps its label biases
        noise, loss = fit_noise([block], workers_per_task, label_bias=True)
        fits[ds] = {**noise.as_dict(), "fit_log_loss": loss, "tasks": len(block.labels)}
    if len(blocks) > 1:
        noise, loss = fit_noise(list(blocks.values()), workers_per_task)
        fits["pooled"] = {**noise.as_dict(), "fit_log_loss": loss,
                          "tasks": sum(len(b.labels) for b in blocks.values()),
                          "datasets": sorted(blocks)}
    for f in fits.values():
        f.pop("provenance", None)
    transfer = _transfer_check(blocks, workers_per_task) if len(blocks) > 1 else []
    for row in transfer:
        LOG.info("transfer check: %s", row)
    write_json(out, {
        "description": "Human-noise parameters of the human_fitted simulated crowd "
                       "(saliency_repro.crowd.human_model), fitted on the released human "
                       "aggregates of Lu et al. 2024 by the log-loss of the majority outcome "
                       "(all samples). Only these parameters are fitted on people; the reader "
                       "is trained on each dataset's own training split. Per-dataset fits "
                       "include that dataset's label biases (by label index); the pooled fit, "
                       "the one meant for other datasets, has none.",
        "provenance": {
            "produced_by": "rule human_noise_params (rules/crowd.smk)",
            "config": config_name,
            "release": {ds: {k: v for k, v in src.items() if k in ("url", "sha256", "path")}
                        for ds, src in sorted(sources.items())},
            "reader": {k: getattr(model, k) for k in ("encoder", "fragments_per_text",
                                                      "reader_C", "reader_C_embedding",
                                                      "reader_max_train")},
            "reader_training": {ds: src.get("reader", "train_split")
                                for ds, src in sorted(sources.items())},
            "workers_per_task": workers_per_task,
        },
        "fits": fits,
        "transfer_check": transfer,
    })


def _transfer_check(blocks: dict, R: int) -> list[dict]:
    """How well the noise parameters transfer: fitted (without label biases) on every other
    dataset, scored on all tasks of this one, beside this dataset's own in-sample fit; the
    reader is always this dataset's own, as in a transferred use."""
    from saliency_repro.crowd.human_model import fit_noise, predict

    rows = []
    for target, block in blocks.items():
        others = [b for d, b in blocks.items() if d != target]
        h = block.correct
        row = {"dataset": target, "fitted_on": sorted(d for d in blocks if d != target),
               "human_accuracy_%": 100 * float(h.mean())}
        for name, fit_blocks, lb in (("transferred", others, False), ("own_in_sample", [block], True)):
            noise, _ = fit_noise(fit_blocks, R, label_bias=lb)
            P = predict(block, noise, R)
            row[f"{name}_brier"] = float(np.mean((P - h) ** 2))
            row[f"{name}_agreement_%"] = 100 * float(np.mean(P * h + (1 - P) * (1 - h)))
            row[f"{name}_accuracy_%"] = 100 * float(P.mean())
        row["constant_rate_brier"] = float(h.var())
        rows.append(row)
    return rows
