"""Is a saliency method better than RANDOM? (the paper's claim in section 4.2 Q1 / section 5).

The paper states which methods are "significantly better than the random baseline" without a
test. Three complementary checks over the same A_ijk:

- paired exact McNemar test per method vs. RANDOM over the (sample, k) pairs (both see the same
  sample with the same k), Holm-corrected over the methods;
- a logistic GEE of A_ijk on method (RANDOM as reference) and k, clustered by sample
  (exchangeable working correlation), because the five k of one sample are not independent;
- bootstrap (over samples) 95% percentile CIs of s_j and of s_j - s_RANDOM, recomputing the
  weights w_k in every replicate as equation (2) does.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd

from saliency_repro.crowd.scores import method_order, score
from saliency_repro.names import METHOD_ORDER, paper_name

LOG = logging.getLogger(__name__)


def mcnemar_vs_baseline(aggregate: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """Exact McNemar per method against ``baseline`` with Holm correction.

    ``b`` = pairs where the method is right and the baseline wrong, ``c`` the reverse.
    """
    from statsmodels.stats.contingency_tables import mcnemar
    from statsmodels.stats.multitest import multipletests

    wide = aggregate.pivot_table(index=["sample_id", "k"], columns="method", values="correct")
    if baseline not in wide:
        raise ValueError(f"no {baseline!r} method in the aggregate; cannot test against it")
    rows = []
    for m in method_order(wide.columns):
        if m == baseline:
            continue
        pair = wide[[m, baseline]].dropna()
        a, r = pair[m].to_numpy(int), pair[baseline].to_numpy(int)
        table = [[int(((a == 1) & (r == 1)).sum()), int(((a == 1) & (r == 0)).sum())],
                 [int(((a == 0) & (r == 1)).sum()), int(((a == 0) & (r == 0)).sum())]]
        res = mcnemar(table, exact=True)
        rows.append({"method": m, "pairs": len(pair), "b_method_only": table[0][1],
                     "c_baseline_only": table[1][0], "mcnemar_p": float(res.pvalue)})
    out = pd.DataFrame(rows)
    out["mcnemar_p_holm"] = multipletests(out["mcnemar_p"], method="holm")[1]
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
    return pd.DataFrame(rows)


def bootstrap_scores(aggregate: pd.DataFrame, n_boot: int, seed: int,
                     baseline: str = "random", level: float = 0.95) -> pd.DataFrame:
    """Percentile CIs of s_j (%) and of s_j - s_baseline, resampling samples with replacement."""
    p_full = aggregate.pivot_table(index="method", columns="k", values="correct")
    methods = method_order(p_full.index)
    ks = sorted(p_full.columns)
    cube = (aggregate.pivot_table(index="sample_id", columns=["method", "k"], values="correct")
            .reindex(columns=pd.MultiIndex.from_product([methods, ks])))
    A = cube.to_numpy().reshape(len(cube), len(methods), len(ks))
    rng = np.random.default_rng(seed)
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


def significance_table(aggregate: pd.DataFrame, n_boot: int, seed: int, alpha: float,
                       paper_claims: dict[str, bool] | None = None,
                       baseline: str = "random") -> pd.DataFrame:
    """One row per method: bootstrap CI, McNemar (Holm), GEE, verdict and the paper's claim."""
    boot = bootstrap_scores(aggregate, n_boot, seed, baseline)
    out = boot.merge(mcnemar_vs_baseline(aggregate, baseline), on="method", how="left")
    try:
        out = out.merge(gee_vs_baseline(aggregate, baseline), on="method", how="left")
    except Exception as exc:  # e.g. perfect separation on a tiny demo
        LOG.warning("GEE failed (%s); its columns are left empty", exc)
    better = ((out["mcnemar_p_holm"] < alpha) & (out["b_method_only"] > out["c_baseline_only"]))
    out["better_than_random"] = np.where(out["method"] == baseline, "",
                                         np.where(better, "yes", "no"))
    if paper_claims is not None:
        claim = out["method"].map(paper_claims)
        out["paper_claim"] = claim.map({True: "better", False: "not better"}).fillna("")
        holds = np.where(claim.isna(), "", np.where((claim == True) == better, "yes", "no"))  # noqa: E712
        out["claim_holds"] = holds
    out.insert(0, "Method", [paper_name(m) if m in METHOD_ORDER else m for m in out["method"]])
    return out.drop(columns=["method"])
