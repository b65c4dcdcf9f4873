"""Evaluation-sample selection as in Lu et al. (2024), section 4.1.

N samples per dataset, balanced across classes, drawn with a fixed seed from the test items
the classifier predicts correctly; a second set of N from the misclassified ones (Tables 8-9).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

LOG = logging.getLogger(__name__)


def balanced_sample(
    df: pd.DataFrame, n: int, seed: int, label_col: str = "label", id_col: str = "id"
) -> pd.DataFrame:
    """Draw ``n`` rows as evenly across ``label_col`` as the data allow, deterministically.

    Each class gets ``n // C`` rows (the remainder goes to the classes with the most spare
    rows, ties by label); a class with too few rows gives all it has and the shortfall is
    filled from the others. Fewer than ``n`` rows in total is returned whole, with a warning.
    The result is ordered by label, then id, so the selection does not depend on input order.
    """
    if n <= 0:
        raise ValueError("n must be positive")
    df = df.sort_values(id_col, kind="stable").reset_index(drop=True)
    if len(df) <= n:
        if len(df) < n:
            LOG.warning("only %d rows available for a sample of %d", len(df), n)
        return df.sort_values([label_col, id_col], kind="stable").reset_index(drop=True)
    counts = df[label_col].value_counts().sort_index()
    quota = _quotas(counts, n)
    rng = np.random.default_rng(seed)
    parts = []
    for label, k in quota.items():
        group = df[df[label_col] == label]
        take = rng.choice(len(group), size=k, replace=False)
        parts.append(group.iloc[np.sort(take)])
    out = pd.concat(parts)
    return out.sort_values([label_col, id_col], kind="stable").reset_index(drop=True)


def _quotas(counts: pd.Series, n: int) -> dict:
    labels = list(counts.index)
    quota = {label: 0 for label in labels}
    remaining = n
    while remaining > 0:
        open_labels = [lab for lab in labels if quota[lab] < counts[lab]]
        share = max(1, remaining // len(open_labels))
        for label in sorted(open_labels, key=lambda lab: (-(counts[lab] - quota[lab]), lab)):
            give = min(share, counts[label] - quota[label], remaining)
            quota[label] += give
            remaining -= give
            if remaining == 0:
                break
    return quota


def select_eval_samples(
    predictions: pd.DataFrame, n: int, seed: int, correct: bool = True
) -> pd.DataFrame:
    """Balanced sample of correctly (``correct=True``) or wrongly classified test items.

    ``predictions`` needs ``id``, ``label`` and ``pred``. Misclassified items are balanced by
    their true label.
    """
    missing = {"id", "label", "pred"} - set(predictions.columns)
    if missing:
        raise ValueError(f"predictions lack columns {sorted(missing)}")
    mask = predictions["label"] == predictions["pred"]
    pool = predictions[mask if correct else ~mask]
    LOG.info("%s pool: %d of %d test items", "correct" if correct else "misclassified", len(pool), len(predictions))
    return balanced_sample(pool, n, seed)
