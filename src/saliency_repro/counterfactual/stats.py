"""Verdicts (Monte-Carlo p-values), confirmed fractions with binomial CIs, Wilcoxon tests and
example selection.

Verdict (per article, method, k, variant and measure): with R random deletions of k words, the
Monte-Carlo p-value of the important deletion's change c is

    p = (1 + #{random draws with change >= c}) / (R + 1)

and the map is **confirmed** iff p <= alpha. Why this rule: under the null hypothesis that the
important words are no different from random ones, c and the R random changes are
exchangeable, so the rank of c among the R + 1 values is uniform and P(p <= alpha) <= alpha for
every R, with or without ties (ties count against the map: ``>=``, so an article where nothing
changes has p = 1). Without ties the level is exactly floor(alpha (R + 1)) / (R + 1)
(:func:`exact_level`). The rule used before, "c exceeds the numpy ``higher`` (1 - alpha)
quantile of the random changes", keeps its level only for some R: at alpha = 0.05 it confirms
when c beats the second-largest of R = 21 draws, a false-positive rate of 2/22 = 9 %.

When 1 / (R + 1) > alpha no article can be confirmed (:func:`never_confirmable`); the table
note and the log say so.

``threshold`` is the critical random change of the same rule: the j-th largest random change,
j = the largest count of draws >= c that still gives p <= alpha (plus one), so that confirmed
<=> c > threshold, and ``margin`` = c - threshold (nan when no article can be confirmed). The
margin only orders the worked examples; the verdict is the p-value.

A calibration control, ``random_control``, judges random draw 0 against draws 1..R-1 with the
same p-value (R - 1 draws): draw 0 is exactly exchangeable with the others, so its confirmed
fraction estimates the rule's false-positive rate (at most alpha) in the same table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon
from statsmodels.stats.proportion import proportion_confint

LOG = logging.getLogger(__name__)

KEYS = ["id", "k", "variant"]


def mc_p_value(important: float | np.ndarray, random_changes: Sequence[float] | np.ndarray) -> float | np.ndarray:
    """Monte-Carlo p-value (1 + #{random >= important}) / (R + 1), over the last axis of
    ``random_changes`` (so arrays of articles work too). nan when ``important`` or any random
    change is nan: a missing value must not pass for "beaten"."""
    imp = np.asarray(important, dtype=float)
    rnd = np.asarray(random_changes, dtype=float)
    n = rnd.shape[-1]
    p = (1.0 + np.count_nonzero(rnd >= imp[..., None], axis=-1)) / (n + 1)
    bad = np.isnan(imp) | np.isnan(rnd).any(axis=-1)
    p = np.where(bad, np.nan, p)
    return float(p) if p.ndim == 0 else p


def _max_count(n_draws: int, alpha: float) -> int:
    """The largest number c of random draws >= the important change with (1 + c)/(n + 1) <= alpha
    (-1 when even c = 0 fails); the same float comparison as the verdict, so they cannot disagree."""
    c = -1
    while c + 1 < n_draws + 1 and (c + 2) / (n_draws + 1) <= alpha:
        c += 1
    return c


def exact_level(n_draws: int, alpha: float) -> float:
    """P(confirmed) under the null with no ties: floor(alpha (n + 1)) / (n + 1)."""
    return (_max_count(n_draws, alpha) + 1) / (n_draws + 1)


def never_confirmable(n_draws: int, alpha: float) -> bool:
    """True when 1 / (n + 1) > alpha: with so few draws p can never be <= alpha."""
    return _max_count(n_draws, alpha) < 0


def verdict(important: float, random_changes: Sequence[float], alpha: float) -> tuple[bool, float, float, float]:
    """(confirmed, p, threshold, margin) for one article (see the module docstring)."""
    rv = np.asarray(random_changes, dtype=float)
    p = mc_p_value(important, rv)
    c = _max_count(len(rv), alpha)
    q = float(np.sort(rv)[::-1][c]) if c >= 0 else float("nan")
    ok = bool(p <= alpha)  # False for nan p
    return ok, float(p), q, float(important - q)


def verdicts(results: pd.DataFrame, measures: Sequence[str], alpha: float) -> pd.DataFrame:
    """One row per (article, k, variant, measure, method) from the long results table.

    ``results`` has ``id, k, k_words, variant, method, draw`` (draw -1 for a method's own
    deletion, 0..R-1 for the random draws) and one column per measure. Output columns: ``id, k,
    k_words, variant, measure, method, important, random_mean, draws`` (random draws compared
    against), ``p_value, threshold, margin, confirmed`` (p_value <= alpha).
    """
    rows = []
    method = results["method"].to_numpy()
    draw = results["draw"].to_numpy()
    k_words_all = results["k_words"].to_numpy()
    values = {m: results[m].to_numpy(dtype=float) for m in measures}
    for (id_, k, variant), idx in sorted(results.groupby(KEYS, sort=True).indices.items()):
        is_rnd = method[idx] == "random"
        rnd_idx = idx[is_rnd][np.argsort(draw[idx[is_rnd]], kind="stable")]
        meth_idx = idx[~is_rnd]
        k_words = int(k_words_all[idx[0]])
        for measure in measures:
            rv = values[measure][rnd_idx]
            if len(rv) < 2:
                continue
            cases = [(str(method[i]), float(values[measure][i]), rv) for i in meth_idx]
            cases.append(("random_control", float(rv[0]), rv[1:]))
            for name, imp, ref in cases:
                ok, p, q, margin = verdict(imp, ref, alpha)
                rows.append({"id": id_, "k": k, "k_words": k_words, "variant": variant,
                             "measure": measure, "method": name, "important": imp,
                             "random_mean": float(ref.mean()), "draws": len(ref), "p_value": p,
                             "threshold": q, "margin": margin, "confirmed": ok})
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
                  alternative: str = "two-sided", method_order: Sequence[str] = (),
                  alpha: float | None = None) -> pd.DataFrame:
    """Confirmed fraction (p_value <= alpha, from :func:`verdicts`), CI and Wilcoxon test per
    (measure, variant, method, k). ``draws`` is the number of random draws each article was
    judged against and, when ``alpha`` is given, ``null_rate_max`` the rule's false-positive
    rate under the null without ties (:func:`exact_level`; ties only lower it), the value the
    ``random_control`` row estimates."""
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
                     "mean_difference": float((g["important"] - g["random_mean"]).mean()),
                     "difference_sd": float((g["important"] - g["random_mean"]).std(ddof=1)) if n > 1 else np.nan,
                     "wilcoxon_W": stat, "wilcoxon_p": p, "nonzero_pairs": nz})
        if "draws" in g:
            draws = int(g["draws"].min())
            rows[-1]["draws"] = draws
            rows[-1]["p_median"] = float(g["p_value"].median())
            if alpha is not None:
                rows[-1]["null_rate_max"] = exact_level(draws, alpha)
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
    go to the first id in sort order. When no article can be confirmed (R too small, margins
    nan) the unconfirmed example is the one with the largest p-value. Returns
    ``{kind: id or None, kind + "_k": k or None}``.
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
            if sub["margin"].isna().all():  # no critical value (R too small): order by p
                idx = sub["p_value"].idxmax() if "p_value" in sub else sub.index[0]
            else:
                idx = sub["margin"].idxmax() if want else sub["margin"].idxmin()
            out[kind], out[f"{kind}_k"] = str(sub.loc[idx, "id"]), float(kk)
            break
    return out


def median_draw(changes: Sequence[float]) -> int:
    """The random draw shown in a worked example: the one whose change is closest to the median
    of the draws (ties: lowest draw index), so the figure shows a typical random deletion."""
    c = np.asarray(changes, dtype=float)
    return int(np.argmin(np.abs(c - np.median(c))))
