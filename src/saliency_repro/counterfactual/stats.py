"""Verdicts, confirmed fractions with binomial CIs, Wilcoxon tests and example selection.

Verdict (per article, method, k, variant and measure): the map is **confirmed** when the change
after deleting its top-k words is strictly greater than the (1 - alpha) quantile of the R
random-deletion changes (numpy quantile, method ``quantile_method``; strict, so an article where
nothing changes is never confirmed). ``margin`` = important change - that quantile.

Why ``higher`` by default: it makes the threshold an observed random change, the
ceil((1 - alpha)(R - 1))-th order statistic (0-based), so under the null hypothesis that the
important words are no different from random ones (exchangeable changes, no ties) the rule
confirms with probability at most alpha: with R = 20 and alpha = 0.05 the threshold is the
largest of the 20 random changes and the level is 1/21. numpy's default ``linear`` interpolates
between the two largest and confirms somewhat more often than alpha.

A calibration control, ``random_control``, applies the same rule to random draw 0 against the
quantile of draws 1..R-1: its confirmed fraction estimates the rule's false-positive rate (about
alpha or less, with ties) and shows what "no better than chance" looks like in the same table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon
from statsmodels.stats.proportion import proportion_confint

KEYS = ["id", "k", "variant"]


def verdict(important: float, random_changes: Sequence[float], alpha: float,
            method: str = "higher") -> tuple[bool, float, float]:
    """(confirmed, threshold, margin) for one article."""
    q = float(np.quantile(np.asarray(random_changes, dtype=float), 1 - alpha, method=method))
    return bool(important > q), q, float(important - q)


def verdicts(results: pd.DataFrame, measures: Sequence[str], alpha: float,
             quantile_method: str = "higher") -> pd.DataFrame:
    """One row per (article, k, variant, measure, method) from the long results table.

    ``results`` has ``id, k, k_words, variant, method, draw`` (draw -1 for a method's own
    deletion, 0..R-1 for the random draws) and one column per measure.
    """
    rows = []
    for (id_, k, variant), g in results.groupby(KEYS, sort=True):
        rnd = g[g["method"] == "random"].sort_values("draw")
        meth = g[g["method"] != "random"]
        k_words = int(g["k_words"].iloc[0])
        for measure in measures:
            rv = rnd[measure].to_numpy(dtype=float)
            if len(rv) < 2:
                continue
            cases = [(m, float(v)) for m, v in zip(meth["method"], meth[measure], strict=True)]
            for name, imp in cases:
                ok, q, margin = verdict(imp, rv, alpha, quantile_method)
                rows.append({"id": id_, "k": k, "k_words": k_words, "variant": variant,
                             "measure": measure, "method": name, "important": imp,
                             "random_mean": float(rv.mean()), "threshold": q,
                             "margin": margin, "confirmed": ok})
            ok, q, margin = verdict(rv[0], rv[1:], alpha, quantile_method)
            rows.append({"id": id_, "k": k, "k_words": k_words, "variant": variant,
                         "measure": measure, "method": "random_control", "important": float(rv[0]),
                         "random_mean": float(rv[1:].mean()), "threshold": q, "margin": margin,
                         "confirmed": ok})
    return pd.DataFrame(rows)


def binomial_ci(successes: int, n: int, level: float = 0.95, method: str = "wilson") -> tuple[float, float]:
    """Two-sided binomial CI of a proportion (statsmodels ``proportion_confint``)."""
    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(successes, n, alpha=1 - level, method=method)
    return float(lo), float(hi)


def wilcoxon_test(important: Sequence[float], random_mean: Sequence[float],
                  alternative: str = "two-sided") -> tuple[float, float, int]:
    """Wilcoxon signed-rank test of paired differences (zero differences dropped, scipy's
    default ``zero_method='wilcox'``): (statistic, p-value, non-zero pairs). nan when every
    difference is zero."""
    d = np.asarray(important, dtype=float) - np.asarray(random_mean, dtype=float)
    nz = int(np.count_nonzero(d))
    if nz == 0:
        return float("nan"), float("nan"), 0
    res = wilcoxon(d, alternative=alternative)
    return float(res.statistic), float(res.pvalue), nz


def summary_table(v: pd.DataFrame, level: float = 0.95, ci_method: str = "wilson",
                  alternative: str = "two-sided", method_order: Sequence[str] = ()) -> pd.DataFrame:
    """Confirmed fraction, CI and Wilcoxon test per (measure, variant, method, k)."""
    rows = []
    order = {m: i for i, m in enumerate(list(method_order) + ["random_control"])}
    for (measure, variant, method, k), g in v.groupby(["measure", "variant", "method", "k"], sort=True):
        n, c = len(g), int(g["confirmed"].sum())
        lo, hi = binomial_ci(c, n, level, ci_method)
        stat, p, nz = wilcoxon_test(g["important"], g["random_mean"], alternative)
        rows.append({"measure": measure, "variant": variant, "method": method, "k": k,
                     "k_words_mean": float(g["k_words"].mean()), "articles": n, "confirmed": c,
                     "confirmed_fraction": c / n if n else np.nan, "ci_low": lo, "ci_high": hi,
                     "important_mean": float(g["important"].mean()),
                     "random_mean": float(g["random_mean"].mean()),
                     "median_difference": float((g["important"] - g["random_mean"]).median()),
                     "wilcoxon_W": stat, "wilcoxon_p": p, "nonzero_pairs": nz})
    out = pd.DataFrame(rows)
    if len(out):
        out["_m"] = out["method"].map(lambda m: order.get(m, len(order)))
        out = out.sort_values(["measure", "variant", "_m", "k"], kind="stable").drop(columns="_m")
    return out.reset_index(drop=True)


def pick_examples(v: pd.DataFrame, method: str, k: float, measure: str,
                  variant: str = "free", ks: Sequence[float] = ()) -> dict[str, Any]:
    """The worked examples, by rule (never by hand), at one method, measure and variant:

    * ``confirmed``: the confirmed article with the largest margin;
    * ``unconfirmed``: the unconfirmed article with the most negative margin (random deletion
      changed the summary most relative to deleting the important words).

    Each is looked for at ``k`` first; if no article of that kind exists there, at the other
    values of ``ks`` in order of distance from ``k`` (ties: the smaller k). Ties between articles
    go to the first id in sort order. Returns ``{kind: id or None, kind + "_k": k or None}``.
    """
    g = v[(v["method"] == method) & (v["measure"] == measure)
          & (v["variant"] == variant)].sort_values("id", kind="stable")
    order = sorted(set(ks) | {k}, key=lambda x: (abs(x - k), x))
    out: dict[str, Any] = {"confirmed": None, "confirmed_k": None,
                           "unconfirmed": None, "unconfirmed_k": None}
    for kind, want in (("confirmed", True), ("unconfirmed", False)):
        for kk in order:
            sub = g[(g["k"] == kk) & (g["confirmed"] == want)]
            if sub.empty:
                continue
            idx = sub["margin"].idxmax() if want else sub["margin"].idxmin()
            out[kind], out[f"{kind}_k"] = str(sub.loc[idx, "id"]), float(kk)
            break
    return out


def median_draw(changes: Sequence[float]) -> int:
    """The random draw shown in a worked example: the one whose change is closest to the median
    of the draws (ties: lowest draw index), so the figure shows a typical random deletion."""
    c = np.asarray(changes, dtype=float)
    return int(np.argmin(np.abs(c - np.median(c))))
