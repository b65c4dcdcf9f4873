"""The classifier steps of the workflow, file in / file out (called by ``scripts/classify_*.py``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from saliency_repro.io import read_json, write_json, write_parquet

LOG = logging.getLogger(__name__)

SAMPLE_COLUMNS = ["id", "text", "label", "pred", "rationale", "distractors"]


def train_step(train: str, validation: str, out_dir: str, checkpoint_dir: str,
               cfg: dict[str, Any], label_names: list[str], seed: int, device: str) -> None:
    """``train_classifier``: fine-tune on the train split, validate each epoch, save."""
    from saliency_repro.classify.train import train_classifier

    train_df = pd.read_parquet(train)
    val_df = pd.read_parquet(validation) if validation and Path(validation).exists() else None
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    train_classifier(train_df, val_df, label_names, cfg, out_dir, checkpoint_dir, device, seed)


def evaluate_step(model_dir: str, test: str, predictions: str, metrics_path: str,
                  cfg: dict[str, Any], label_names: list[str], device: str) -> dict[str, Any]:
    """``evaluate_classifier``: predictions and accuracy / macro-F1 on the test split."""
    from saliency_repro.classify.evaluate import evaluate_classifier

    test_df = pd.read_parquet(test)
    pred_df, m = evaluate_classifier(model_dir, test_df, label_names, int(cfg.get("max_length", 256)), device)
    model = cfg.get("model", {})
    m["model"] = model.get("name_or_path", "") if model.get("type") == "pretrained" else "scratch tiny BERT"
    m["model_revision"] = model.get("revision", "")
    m["label_names"] = label_names
    state = Path(model_dir) / "trainer_state.json"
    if state.exists():
        m["training"] = read_json(state).get("history", [])
    write_parquet(pred_df, predictions)
    write_json(metrics_path, m)
    return m


def select_step(predictions: str, test: str, out: str, sample_set: str, n: int, seed: int) -> pd.DataFrame:
    """``select_samples``: the balanced correct / misclassified evaluation samples.

    An empty pool gives an empty file with the full schema, so downstream steps still run.
    """
    from saliency_repro.data.selection import select_eval_samples

    pred = pd.read_parquet(predictions)
    test_df = pd.read_parquet(test)
    chosen = select_eval_samples(pred[["id", "label", "pred"]], n, seed, correct=sample_set == "correct") \
        if len(pred) else pred.iloc[0:0]
    if len(chosen) == 0:
        LOG.warning("no %s samples: writing an empty sample set", sample_set)
        df = pd.DataFrame({"id": pd.Series(dtype="str"), "text": pd.Series(dtype="str"),
                           "label": pd.Series(dtype="int64"), "pred": pd.Series(dtype="int64"),
                           "rationale": pd.Series(dtype="object"),
                           "distractors": pd.Series(dtype="object")})
    else:
        cols = [c for c in ["id", "text", "rationale", "distractors"] if c in test_df.columns]
        df = chosen[["id", "label", "pred"]].merge(test_df[cols], on="id", how="left", validate="1:1")
        for c in ("rationale", "distractors"):
            if c not in df:
                df[c] = [[] for _ in range(len(df))]
        df = df[SAMPLE_COLUMNS]
    write_parquet(df, out)
    return df


def metrics_table_step(metrics_path: str, samples: dict[str, str], dataset: str, stem: str,
                       caption: str, n_samples: int, meta_path: str | None = None) -> None:
    """``classifier_metrics``: the test metrics of one dataset's classifier as a table, with the
    evaluation sample sets drawn from its predictions; short or class-less sets are warned
    about in the caption, and so are test texts shared with the training file (``meta_path``:
    the dataset's meta.json)."""
    from saliency_repro.classify.evaluate import (
        metrics_table,
        sample_set_summary,
        sample_set_warnings,
    )
    from saliency_repro.reporting import write_table

    m = read_json(metrics_path)
    summaries = {name: sample_set_summary(pd.read_parquet(path), n_samples, m["label_names"])
                 for name, path in samples.items()}
    untested = [name for name, r in m.get("recall", {}).items() if r != r]  # NaN: no test row
    warnings = ([f"class(es) {', '.join(untested)} have no test row (no recall; macro-F1 counts "
                 f"them as F1 0)"] if untested else []) + sample_set_warnings(summaries)
    for note in warnings:
        LOG.warning("%s: %s", dataset, note)
    if warnings:
        caption += " Warning: " + "; ".join(warnings) + "."
    if meta_path:
        from saliency_repro.data.prepare import split_overlap_note

        note = split_overlap_note(read_json(meta_path))
        caption += f" {note}" if note else ""
    write_table(metrics_table({dataset: m}, {dataset: summaries}), stem, caption)


def ensure_dir(path: str | os.PathLike) -> None:
    Path(path).mkdir(parents=True, exist_ok=True)
