"""ROUGE-1/2/L of generated against reference summaries, with the ``rouge-score`` package.

Both sides are the preprocessed token strings (lower-cased, tokenized, reference truncated as
in training), scored without stemming by default, as the pyrouge-free standard today.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from rouge_score import rouge_scorer

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


def _identity_tokenizer():
    class _Tok:
        def tokenize(self, text: str) -> list[str]:
            return text.split()

    return _Tok()


def rouge_per_pair(
    generated: Sequence[str], references: Sequence[str], use_stemmer: bool = False
) -> pd.DataFrame:
    """Per-pair precision, recall and F1 of ROUGE-1, -2 and -L (columns ``rouge1_f`` etc.).

    Texts are compared as whitespace token sequences (already tokenized by our preprocessing);
    rouge-score's own tokenizer would drop non-alphanumeric tokens and [UNK] brackets.
    """
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer,
                                      tokenizer=None if use_stemmer else _identity_tokenizer())
    rows = []
    for gen, ref in zip(generated, references, strict=True):
        scores = scorer.score(ref, gen)
        row = {}
        for rt in ROUGE_TYPES:
            s = scores[rt]
            row.update({f"{rt}_p": s.precision, f"{rt}_r": s.recall, f"{rt}_f": s.fmeasure})
        rows.append(row)
    return pd.DataFrame(rows)


def rouge_table(per_pair: pd.DataFrame, label: str, seed: int = 0, n_boot: int = 1000) -> pd.DataFrame:
    """Mean P/R/F1 per ROUGE type with a bootstrap 95% CI of the F1 mean."""
    rng = np.random.default_rng(seed)
    out = []
    n = len(per_pair)
    for rt in ROUGE_TYPES:
        f = per_pair[f"{rt}_f"].to_numpy()
        boots = f[rng.integers(0, n, size=(n_boot, n))].mean(axis=1) if n else np.array([np.nan])
        out.append({"summaries": label, "metric": rt.replace("rouge", "ROUGE-"),
                    "precision": per_pair[f"{rt}_p"].mean(), "recall": per_pair[f"{rt}_r"].mean(),
                    "f1": f.mean() if n else np.nan,
                    "f1_ci_low": np.quantile(boots, 0.025), "f1_ci_high": np.quantile(boots, 0.975),
                    "n": n})
    return pd.DataFrame(out)
