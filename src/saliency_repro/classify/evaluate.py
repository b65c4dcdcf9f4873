"""Test-set predictions and metrics of a trained classifier (accuracy and macro-F1)."""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import pandas as pd

LOG = logging.getLogger(__name__)


def predictions_frame(test_df: pd.DataFrame, probs: np.ndarray, label_names: list[str]) -> pd.DataFrame:
    """``id, label, pred, prob_<class>...``: the contract of ``predictions.parquet``."""
    df = pd.DataFrame({
        "id": test_df["id"].astype(str).to_numpy(),
        "label": test_df["label"].astype(int).to_numpy(),
        "pred": probs.argmax(1).astype(int) if len(probs) else np.zeros(0, dtype=int),
    })
    for c, name in enumerate(label_names):
        df[f"prob_{name}"] = probs[:, c] if len(probs) else np.zeros(0)
    return df


def metrics(pred_df: pd.DataFrame, label_names: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over all classes (absent classes count as F1 0, as sklearn does) and
    the recall of each class: a rare class the classifier never predicts shows as recall 0
    where accuracy alone would hide it."""
    from sklearn.metrics import accuracy_score, f1_score

    y, p = pred_df["label"].to_numpy(), pred_df["pred"].to_numpy()
    n = len(pred_df)
    recall = {name: float((p[y == c] == c).mean()) if (y == c).any() else float("nan")
              for c, name in enumerate(label_names)}
    return {
        "n_test": n,
        "accuracy": float(accuracy_score(y, p)) if n else float("nan"),
        "macro_f1": float(f1_score(y, p, average="macro", labels=list(range(len(label_names))),
                                    zero_division=0)) if n else float("nan"),
        "n_correct": int((y == p).sum()),
        "n_misclassified": int((y != p).sum()),
        "recall": recall,
    }


def evaluate_classifier(
    model_dir: str | os.PathLike, test_df: pd.DataFrame, label_names: list[str],
    max_length: int, device: str = "cpu", batch_size: int = 64,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Predict the test split with the saved model; return predictions and metrics."""
    from saliency_repro.classify.model import load_classifier
    from saliency_repro.classify.train import predict_proba

    model, tokenizer = load_classifier(model_dir, device, eager_attention=False)
    probs = predict_proba(model, tokenizer, test_df["text"].astype(str).tolist(), device=device,
                          batch_size=batch_size, max_length=max_length, progress=True)
    pred_df = predictions_frame(test_df, probs, label_names)
    m = metrics(pred_df, label_names)
    LOG.info("test metrics: %s", m)
    return pred_df, m


def metrics_table(metrics_by_dataset: dict[str, dict[str, Any]],
                  sample_sets: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """One row per dataset: the classifier-metrics artifact, with each class's recall and,
    given ``sample_sets`` (dataset -> :func:`sample_set_summary`), the evaluation samples drawn."""
    rows = []
    for ds, m in metrics_by_dataset.items():
        row = {"dataset": ds, "n_test": m["n_test"], "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
               "n_correct": m["n_correct"], "n_misclassified": m["n_misclassified"]}
        row.update({f"recall_{name}": value for name, value in m.get("recall", {}).items()})
        for set_name, summary in (sample_sets or {}).get(ds, {}).items():
            row[f"{set_name}_samples"] = f"{summary['n']}/{summary['wanted']}"
        row["model"] = m.get("model", "")
        rows.append(row)
    return pd.DataFrame(rows)


def sample_set_summary(samples: pd.DataFrame, wanted: int, label_names: list[str]) -> dict[str, Any]:
    """Size and classes of one evaluation sample set, for the table (not only the log)."""
    present = set(samples["label"].astype(int).tolist())
    return {"n": len(samples), "wanted": wanted,
            "missing_classes": [name for c, name in enumerate(label_names) if c not in present]}


def sample_set_warnings(summaries: dict[str, dict[str, Any]]) -> list[str]:
    """What a reader of Lu et al.'s tables must know about the samples they were computed on:
    a set smaller than ``saliency.n_samples`` or a class missing from a "balanced" set."""
    notes = []
    for set_name, s in summaries.items():
        if s["n"] < s["wanted"]:
            notes.append(f"the {set_name} set has {s['n']} of the {s['wanted']} samples asked for "
                         f"(saliency.n_samples)")
        if s["missing_classes"] and s["n"]:
            notes.append(f"class(es) {', '.join(s['missing_classes'])} missing from the {set_name} set")
    return notes
