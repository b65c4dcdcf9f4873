"""Is a saliency method better than RANDOM? (the paper's claim in section 4.2 Q1 / section 5).

The paper states which methods are "significantly better than the random baseline" without a
test. The unit of independence is the *sample*: the five k of one sample are judged on nested
displays of the same text and are strongly dependent (on IMDB, RANDOM is right at all five k
for 12 of 100 samples where independence predicts about 1). Every test here is therefore at
the sample level or clustered by sample:

- **primary**: a paired sign-flip permutation test over samples of the per-sample difference
  d_i = x_i(method) - x_i(RANDOM), where x_i is the equation-(2)-weighted per-sample score
  ``sum_k w_k A_ijk`` (so that mean_i x_i is exactly s_j; ``statistic: correct_count`` uses
  the plain number of correct k instead). Under the null that a sample's method and RANDOM
  results are exchangeable, every sign pattern of d is equally likely. The p-value is
  **exact**: the distribution of sum_i s_i d_i over all 2^n sign patterns is computed by
  dynamic programming (``inference.sign_flip_exact``), so no seed and no permutation count can
  move it. The weighted statistic's weights are put on an integer grid for this (1/Q of the
  largest weight, Q in the thousands; ``integer_difference``): the test is exact for that
  statistic. The weights w_k do not change under such a swap (they depend on the sum over
  methods at each k), so they are held fixed.
  Which weights: equation (2)'s w_k = P / (K^2 p_k) computed from the data, so that the mean of
  the per-sample statistic is exactly the s_j of the tables. (The paper's printed weights sum
  to 1.011, not 1, so its s_j is not exactly a weighted mean of the p_jk; the paper tables keep
  the paper's s_j as the paper defines it, and the per-sample statistic uses the same w_k.)
- the clustered McNemar test of Durkalski et al. (2003): X^2 = (sum_i (b_i - c_i))^2 /
  sum_i (b_i - c_i)^2, chi-square with 1 df, where b_i / c_i count the k of sample i on which
  only the method / only RANDOM is right;
- a logistic GEE of A_ijk on method (RANDOM as reference) and k, clustered by sample
  (exchangeable working correlation);
- for comparison only, the *naive* exact McNemar over the (sample, k) pairs as if they were
  independent (this package's earlier primary test): it rejects a true null far too often,
  which the ``*_swap_null_rate`` columns measure on each dataset's own data.

All p-values are Holm-adjusted over the methods. Bootstrap (over samples) 95% percentile CIs
of s_j and of s_j - s_RANDOM recompute the weights w_k in every replicate as equation (2) does.

Calibration columns, each from a random stream of its own per (method, test):

- ``*_swap_null_rate``: rejection rates at ``alpha`` of the McNemar tests under the swap null
  (each sample's method and RANDOM results swapped with probability 1/2, keeping the
  within-sample dependence). This null is the sign-flip test's own reference distribution, so
  it is not reported for the primary test (its rate is at most alpha whatever the data);
- ``perm_centred_null_rate`` (95% Wilson CI): the primary test's rejection rate when the data
  sets are resampled from the centred per-sample differences, a null with mean zero that the
  sign-flip test does not assume (it need not be symmetric).

Whether a paper's claim holds, with a pre-declared sensitivity analysis and a three-level
verdict, is decided in ``saliency_repro.claims``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from saliency_repro import inference
from saliency_repro.crowd.scores import method_order, score
from saliency_repro.names import display_name

LOG = logging.getLogger(__name__)

STATISTICS = ("weighted_score", "correct_count")


@dataclass(frozen=True)
class SignificanceSettings:
    """How the tests run; ``from_config`` reads the ``crowd`` section's keys."""

    alpha: float = 0.05
    n_boot: int = 1000
    null_simulations: int = 1000
    statistic: str = "weighted_score"
    equivalence_margin_pp: float = 5.0

    @classmethod
    def from_config(cls, crowd: dict) -> SignificanceSettings:
        sig = crowd.get("significance", {}) or {}
        return cls(alpha=float(crowd.get("alpha", 0.05)), n_boot=int(crowd.get("bootstrap", 1000)),
                   null_simulations=int(sig.get("null_simulations", 1000)),
                   statistic=str(sig.get("statistic", "weighted_score")),
                   equivalence_margin_pp=float(sig.get("equivalence_margin_pp", 5.0)))

    def describe(self) -> str:
        what = ("eq. (2)-weighted per-sample score" if self.statistic == "weighted_score"
                else "per-sample number of correct k")
        return (f"primary test: paired sign-flip permutation test over samples of the {what}, "
                f"exact p (all 2^n sign patterns, by dynamic programming; no Monte-Carlo error), "
                f"Holm over methods, alpha {self.alpha:g}")


# ---------------------------------------------------------------------------- data layout
def correctness_cube(aggregate: pd.DataFrame) -> tuple[np.ndarray, list[str], list, list]:
    """A_ijk as an array ``[samples, methods, k]`` (NaN where a task is missing)."""
    methods = method_order(aggregate["method"].unique())
    ks = sorted(aggregate["k"].unique())
    cube = (aggregate.pivot_table(index="sample_id", columns=["method", "k"], values="correct")
            .reindex(columns=pd.MultiIndex.from_product([methods, ks])))
    A = cube.to_numpy(dtype=float).reshape(len(cube), len(methods), len(ks))
    return A, methods, ks, list(cube.index)


def per_sample_scores(A: np.ndarray, statistic: str = "weighted_score") -> np.ndarray:
    """x_ij ``[samples, methods]``: the per-sample score whose mean over samples is s_j.

    ``weighted_score``: sum_k w_k A_ijk with equation (2)'s w_k from the full data;
    ``correct_count``: sum_k A_ijk. Missing tasks count as not correct here; the sample-level
    tests only use samples where both methods have all k (see ``paired_difference``).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"config key 'crowd.significance.statistic': {statistic!r} is not one of {STATISTICS}")
    filled = np.nan_to_num(A, nan=0.0)
    if statistic == "correct_count":
        return filled.sum(axis=2)
    return filled @ equation2_weights(A)


def paired_difference(A: np.ndarray, j: int, base: int, statistic: str) -> np.ndarray:
    """d_i = x_i(method j) - x_i(baseline) over the samples complete for both."""
    complete = ~np.isnan(A[:, [j, base], :]).any(axis=(1, 2))
    x = per_sample_scores(A, statistic)
    return (x[:, j] - x[:, base])[complete]


# ---------------------------------------------------------------------------- the tests
def equation2_weights(A: np.ndarray) -> np.ndarray:
    """Equation (2)'s w_k = P / (K^2 p_k) from the data (a k nobody got right weighs 0)."""
    p = np.nanmean(A, axis=0)  # [methods, k]
    K = p.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nan_to_num(p.sum() / (K * K * p.sum(axis=0)))


def integer_difference(A: np.ndarray, j: int, base: int, statistic: str) -> np.ndarray:
    """d_i of ``paired_difference`` on an integer grid, for the exact sign-flip test.

    ``correct_count`` is an integer already. ``weighted_score`` uses the eq. (2) weights rounded
    to a grid of 1/Q of the largest weight (``inference.integer_weights``, Q >= 100, typically
    several thousand): the sign-flip test is exact for this statistic, which differs from the
    real-valued weighted score by at most 1/(2Q) of the largest weight per k.
    """
    complete = ~np.isnan(A[:, [j, base], :]).any(axis=(1, 2))
    c = np.nan_to_num(A[complete, j, :]) - np.nan_to_num(A[complete, base, :])  # in {-1, 0, 1}
    if statistic == "correct_count":
        return c.sum(axis=1).astype(np.int64)
    if statistic not in STATISTICS:
        raise ValueError(f"config key 'crowd.significance.statistic': {statistic!r} is not one of {STATISTICS}")
    w = inference.integer_weights(equation2_weights(A), float(np.abs(c).sum()))
    return (c.astype(np.int64) @ w).astype(np.int64)


def exact_sign_flip_p(A: np.ndarray, j: int, base: int, statistic: str) -> float:
    """The primary test: exact two-sided sign-flip p of method j vs ``base`` over samples."""
    return inference.sign_flip_exact(integer_difference(A, j, base, statistic))


def clustered_mcnemar_p(b: np.ndarray, c: np.ndarray) -> float:
    """Durkalski et al. (2003): McNemar for clustered pairs; b_i, c_i per cluster (sample)."""
    from scipy.stats import chi2

    diff = np.asarray(b, dtype=float) - np.asarray(c, dtype=float)
    denom = float((diff ** 2).sum())
    if denom == 0:
        return 1.0
    return float(chi2.sf(diff.sum() ** 2 / denom, df=1))


def naive_mcnemar_p(b_total: int, c_total: int) -> float:
    """Exact McNemar as if every (sample, k) pair were independent (comparison only)."""
    from statsmodels.stats.contingency_tables import mcnemar

    return float(mcnemar([[0, b_total], [c_total, 0]], exact=True).pvalue)


def discordant_counts(A: np.ndarray, j: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: b_i = #k only method j right, c_i = #k only the baseline right."""
    a, r = A[:, j, :], A[:, base, :]
    both = ~np.isnan(a) & ~np.isnan(r)
    b = ((a == 1) & (r == 0) & both).sum(axis=1)
    c = ((a == 0) & (r == 1) & both).sum(axis=1)
    return b, c


def swap_null_rates(A: np.ndarray, j: int, base: int, settings: SignificanceSettings,
                    rng: np.random.Generator) -> dict[str, float]:
    """Rejection rates at alpha of the two McNemar tests under the swap null (module doc).

    A swap of sample i's method and baseline results exchanges b_i with c_i. This null is the
    sign-flip test's own reference distribution, so it says nothing about that test (its rate
    is at most alpha for any data); it shows what ignoring the clustering does to the naive
    McNemar. The primary test is checked by ``centred_null_rate`` instead.
    """
    b, c = discordant_counts(A, j, base)
    complete = ~np.isnan(A[:, [j, base], :]).any(axis=(1, 2))
    b, c = b[complete], c[complete]
    n_sim = settings.null_simulations
    if n_sim == 0 or len(b) == 0:
        return {"clustered_mcnemar_swap_null_rate": np.nan, "naive_mcnemar_swap_null_rate": np.nan}
    hits = {"clustered": 0, "naive": 0}
    for _ in range(n_sim):
        s = rng.integers(0, 2, size=len(b)) == 1
        b_sim, c_sim = np.where(s, c, b), np.where(s, b, c)
        hits["clustered"] += clustered_mcnemar_p(b_sim, c_sim) <= settings.alpha
        hits["naive"] += naive_mcnemar_p(int(b_sim.sum()), int(c_sim.sum())) <= settings.alpha
    return {"clustered_mcnemar_swap_null_rate": hits["clustered"] / n_sim,
            "naive_mcnemar_swap_null_rate": hits["naive"] / n_sim}


def centred_null_rate(d: np.ndarray, settings: SignificanceSettings,
                      rng: np.random.Generator) -> dict[str, float]:
    """The primary test's false-positive rate under a null that is *not* its own reference
    distribution: data sets of n samples drawn with replacement from the centred differences
    d_i - mean(d) (mean zero, but not necessarily symmetric, which the sign-flip test assumes).
    Rejection rate at alpha with its 95% Wilson CI; each simulated p is decided sequentially
    (``inference.sign_flip_rejects``)."""
    from statsmodels.stats.proportion import proportion_confint

    d = np.asarray(d, dtype=float)
    n_sim = settings.null_simulations
    if n_sim == 0 or len(d) < 2:
        return {"perm_centred_null_rate": np.nan, "perm_centred_null_ci_low": np.nan,
                "perm_centred_null_ci_high": np.nan}
    centred = d - d.mean()
    hits = sum(inference.sign_flip_rejects(centred[rng.integers(0, len(d), len(d))],
                                           settings.alpha, rng) for _ in range(n_sim))
    lo, hi = proportion_confint(hits, n_sim, alpha=0.05, method="wilson")
    return {"perm_centred_null_rate": hits / n_sim, "perm_centred_null_ci_low": float(lo),
            "perm_centred_null_ci_high": float(hi)}


def sample_level_tests(aggregate: pd.DataFrame, settings: SignificanceSettings, seed: int,
                       baseline: str = "random") -> pd.DataFrame:
    """Exact sign-flip, clustered and naive McNemar per method vs ``baseline``, Holm-adjusted.

    Every random draw (the null simulations) comes from a stream of its own per (method, test)
    (``inference.stream``), and the primary p-value is exact: no setting of a diagnostic and no
    order of methods can move it.
    """
    A, methods, ks, _ = correctness_cube(aggregate)
    if baseline not in methods:
        raise ValueError(f"no {baseline!r} method in the aggregate; cannot test against it")
    base = methods.index(baseline)
    rows = []
    for j, m in enumerate(methods):
        if m == baseline:
            continue
        d = paired_difference(A, j, base, settings.statistic)
        b, c = discordant_counts(A, j, base)
        row = {"method": m, "samples": len(d), "mean_difference": float(d.mean()) if len(d) else np.nan,
               "samples_method_better": int((d > 0).sum()), "samples_random_better": int((d < 0).sum()),
               "perm_p": exact_sign_flip_p(A, j, base, settings.statistic),
               "clustered_mcnemar_p": clustered_mcnemar_p(b, c),
               "b_method_only": int(b.sum()), "c_baseline_only": int(c.sum()),
               "naive_mcnemar_p": naive_mcnemar_p(int(b.sum()), int(c.sum()))}
        row.update(centred_null_rate(d, settings, inference.stream(seed, m, baseline, "centred_null")))
        row.update(swap_null_rates(A, j, base, settings, inference.stream(seed, m, baseline, "swap_null")))
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("perm_p", "clustered_mcnemar_p", "naive_mcnemar_p"):
        out[f"{col}_holm"] = holm(out[col].to_numpy())
    return out


def holm(p: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values; NaN entries stay NaN and do not count as tests."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return out


def gee_vs_baseline(aggregate: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """Logistic GEE ``correct ~ method + C(k)`` clustered by sample; method coefficients."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    df = aggregate[["sample_id", "method", "k", "correct"]].copy()
    df = df.sort_values(["sample_id", "method", "k"]).reset_index(drop=True)
    formula = f"correct ~ C(method, Treatment(reference='{baseline}')) + C(k)"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = smf.gee(formula, groups="sample_id", data=df, family=sm.families.Binomial(),
                      cov_struct=sm.cov_struct.Exchangeable()).fit()
    for w in caught:
        LOG.warning("GEE: %s", w.message)
    rows = []
    for name, coef in fit.params.items():
        if not name.startswith("C(method"):
            continue
        m = name.split("[T.")[1].rstrip("]")
        lo, hi = fit.conf_int().loc[name]
        rows.append({"method": m, "gee_log_odds": float(coef), "gee_ci_low": float(lo),
                     "gee_ci_high": float(hi), "gee_p": float(fit.pvalues[name])})
    out = pd.DataFrame(rows)
    out["gee_p_holm"] = holm(out["gee_p"].to_numpy())
    return out


def bootstrap_scores(aggregate: pd.DataFrame, n_boot: int, seed: int,
                     baseline: str = "random", level: float = 0.95) -> pd.DataFrame:
    """Percentile CIs of s_j (%) and of s_j - s_baseline, resampling samples with replacement."""
    p_full = aggregate.pivot_table(index="method", columns="k", values="correct")
    A, methods, ks, _ = correctness_cube(aggregate)
    rng = inference.stream(seed, "bootstrap_scores")
    N, K = A.shape[0], len(ks)
    boot = np.empty((n_boot, len(methods)))
    for b in range(n_boot):
        p = np.nanmean(A[rng.integers(0, N, N)], axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):  # a k nobody got right: w_k undefined
            w = p.sum() / (K * K * p.sum(axis=0))
            boot[b] = np.nan_to_num(p * w).sum(axis=1)
    lo_q, hi_q = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    s = score(p_full.loc[methods, ks])
    base = methods.index(baseline) if baseline in methods else None
    rows = []
    for j, m in enumerate(methods):
        row = {"method": m, "score_%": 100 * float(s[m]),
               "score_ci_low": 100 * float(np.percentile(boot[:, j], lo_q)),
               "score_ci_high": 100 * float(np.percentile(boot[:, j], hi_q))}
        if base is not None and m != baseline:
            d = boot[:, j] - boot[:, base]
            row["diff_ci_low"] = 100 * float(np.percentile(d, lo_q))
            row["diff_ci_high"] = 100 * float(np.percentile(d, hi_q))
        rows.append(row)
    return pd.DataFrame(rows)


def significance_table(aggregate: pd.DataFrame, settings: SignificanceSettings, seed: int,
                       paper_claims: dict[str, bool] | None = None,
                       baseline: str = "random") -> pd.DataFrame:
    """One row per method: bootstrap CI, the sample-level tests (Holm), GEE, and the decision.

    ``better_than_random`` follows the primary test only: Holm-adjusted exact sign-flip p below
    alpha with a positive mean difference. ``paper_claim`` (what the paper says) appears only
    when ``paper_claims`` is given; whether the claim holds, with its sensitivity analysis and
    the three-level verdict, is the claims table's job (``claims.lu_claims``), not this one's.
    """
    boot = bootstrap_scores(aggregate, settings.n_boot, seed, baseline)
    out = boot.merge(sample_level_tests(aggregate, settings, seed, baseline), on="method", how="left")
    try:
        out = out.merge(gee_vs_baseline(aggregate, baseline), on="method", how="left")
    except Exception as exc:  # e.g. perfect separation on a tiny demo
        LOG.warning("GEE failed (%s); its columns are left empty", exc)
    better = (out["perm_p_holm"] < settings.alpha) & (out["mean_difference"] > 0)
    out["better_than_random"] = np.where(out["method"] == baseline, "", np.where(better, "yes", "no"))
    if paper_claims is not None:
        claim = out["method"].map(paper_claims)
        out["paper_claim"] = claim.map({True: "better", False: "not better"}).fillna("")
    out.insert(0, "Method", [display_name(m) for m in out["method"]])
    return out


def pairwise_sign_flip(aggregate: pd.DataFrame, first: str, second: str,
                       settings: SignificanceSettings) -> dict[str, float]:
    """Sample-level exact sign-flip test of s_first vs s_second (e.g. ALL vs LAST ATTENTION)."""
    A, methods, _, _ = correctness_cube(aggregate)
    j, base = methods.index(first), methods.index(second)
    d = paired_difference(A, j, base, settings.statistic)
    return {"samples": len(d), "mean_difference": float(d.mean()) if len(d) else np.nan,
            "p": exact_sign_flip_p(A, j, base, settings.statistic)}
