"""The one ranking rule of the package: which words (or tokens) count as the top k.

Sign policy (explicit, never implied by the method):

* ``signed`` (alias ``score``, the spelling of ``saliency.rank_by``): rank by the signed
  score, so the top words are those the explanation says *support* the explained output;
* ``abs``: rank by magnitude, so strong evidence against counts as important too.

Ties go to the earlier position (text order), so a selection never depends on sort stability
or platform; NaN scores rank last.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

SIGN_POLICIES = ("signed", "score", "abs")


def apply_sign(scores: Sequence[float] | np.ndarray, sign: str = "signed") -> np.ndarray:
    """The values a ranking sorts by under ``sign`` (float array, NaN kept)."""
    if sign not in SIGN_POLICIES:
        raise ValueError(f"unknown sign policy {sign!r}; expected one of {SIGN_POLICIES}")
    s = np.asarray(scores, dtype=float)
    return np.abs(s) if sign == "abs" else s


def rank(scores: Sequence[float] | np.ndarray, sign: str = "signed") -> np.ndarray:
    """All positions, most important first (ties: earlier position; NaN last)."""
    s = apply_sign(scores, sign)
    s = np.where(np.isnan(s), -np.inf, s)
    return np.lexsort((np.arange(len(s)), -s))


def top_k(scores: Sequence[float] | np.ndarray, k: int, sign: str = "signed") -> np.ndarray:
    """Positions of the ``k`` most important entries, most important first."""
    return rank(scores, sign)[: max(0, min(int(k), len(scores)))]
