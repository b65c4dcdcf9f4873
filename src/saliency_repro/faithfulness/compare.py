"""Lu et al. (2024) Table 5 extended: every method ranked by each automated metric and by each
crowd, Kendall tau of each metric's ranking vs the human ranking, and the paper's Q2 claims.

Rankings
    A *ranker* gives each method one value: an automated metric its mean over samples
    (:func:`saliency_repro.faithfulness.metrics.method_means`), a crowd source its score s_j
    of equation (2) (``crowd.scores.score(accuracy(aggregate))``). Ranks are competition ranks
    (ties share the best rank) in the metric's own direction (1 = best: highest
    comprehensiveness, lowest sufficiency, ...). RANDOM takes part (``include_random``), as in
    the paper's Table 5.

Agreement
    Kendall tau-b between a metric's values, oriented so that larger is better, and the human
    s_j, over the methods both rank (at least three). Its CI is a BCa bootstrap interval over
    samples (:func:`bca_interval` says why not the percentile one): each replicate resamples
    the samples with replacement and recomputes every
    method's metric mean and every crowd's s_j (with equation (2)'s weights recomputed).
    Rankers evaluated on the same set of sample ids (the pipeline's metrics and a simulated
    crowd on the same correctly classified samples) are resampled *together* (one draw per
    replicate, paired); rankers on different samples (the released crowd labels are the
    authors' 100 texts, not this run's) are resampled independently. The p-value is scipy's
    test of tau = 0 on the point values (exact for small numbers of methods without ties).

The printed Table 5 (:mod:`.paper_values`) is shown beside this run's columns (on the dataset
that plays IMDB's role), and the tau of each printed column vs the printed "Ours" is given for
reference (no CI: no samples).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from saliency_repro.crowd.scores import accuracy, method_order, score
from saliency_repro.crowd.stats import correctness_cube
from saliency_repro.faithfulness.metrics import METRICS_BY_NAME, SUMMARY_METRICS, kendall_tau_b
from saliency_repro.faithfulness.paper_values import (
    PRINTED_COMPLETE_AGREEMENT,
    TABLE5,
    TABLE5_BY_KEY,
)
from saliency_repro.names import display_name, paper_name

HUMAN = "human"
GRADIENT_METHODS = ("vanilla_gradient", "input_x_grad", "integrated_gradients", "deeplift")
VALUE_COLUMNS = ["origin", "metric", "label", "crowd_source", "higher_is_better", "method", "value",
                 "rank", "rank_ci_low", "rank_ci_high", "n_methods", "n_samples"]
AGREEMENT_COLUMNS = ["human", "metric", "label", "higher_is_better", "n_methods", "tau", "ci_low",
                     "ci_high", "p_value", "n_boot", "bootstrap", "n_samples_metric", "n_samples_human",
                     "ci_method"]
MIN_METHODS = 3


@dataclass(frozen=True)
class CompareSettings:
    n_boot: int = 1000
    level: float = 0.95
    include_random: bool = True

    @classmethod
    def from_config(cls, cfg: Mapping) -> CompareSettings:
        return cls(n_boot=int(cfg.get("bootstrap", 1000)), level=float(cfg.get("ci_level", 0.95)),
                   include_random=bool(cfg.get("include_random", True)))


@dataclass
class Ranker:
    """Method values of one metric or crowd, with what a bootstrap replicate needs."""

    metric: str
    label: str
    crowd_source: str
    higher_is_better: bool
    sample_ids: tuple[str, ...]
    point: np.ndarray          # [methods]
    data: np.ndarray           # metric: [samples, methods]; crowd: [samples, methods, k]
    kind: str                  # "metric" or "crowd"
    n_samples: int

    def replicate(self, idx: np.ndarray) -> np.ndarray:
        """Method values of the replicates ``idx`` ``[B, samples]`` -> ``[B, methods]``."""
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.kind == "metric":
                return np.nanmean(self.data[idx], axis=1)
            p = np.nanmean(self.data[idx], axis=1)  # [B, methods, k]
            K = p.shape[2]
            w = np.nansum(p, axis=(1, 2))[:, None] / (K * K * np.nansum(p, axis=1))
            return np.nansum(p * np.nan_to_num(w, posinf=0.0)[:, None, :], axis=2)


def oriented(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    return np.asarray(values, dtype=float) * (1.0 if higher_is_better else -1.0)


def ranks_of(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Competition ranks (1 = best, ties share the best rank) along the last axis; NaN stays NaN."""
    from scipy.stats import rankdata

    v = -oriented(values, higher_is_better)
    r = rankdata(np.where(np.isnan(v), np.inf, v), method="min", axis=-1).astype(float)
    return np.where(np.isnan(v), np.nan, r)


def evaluation_methods(per_sample: pd.DataFrame, aggregates: Mapping[str, pd.DataFrame],
                       include_random: bool = True) -> list[str]:
    """The methods every ranker has, in the paper's order."""
    common = set(per_sample["method"].unique())
    for agg in aggregates.values():
        common &= set(agg["method"].unique())
    if not include_random:
        common.discard("random")
    return method_order(common)


def metric_rankers(per_sample: pd.DataFrame, methods: Sequence[str]) -> list[Ranker]:
    """One ranker per summary metric that has values (e.g. no AUPRC without a rationale)."""
    out = []
    present = set(per_sample["metric"].unique())
    for m in SUMMARY_METRICS:
        if m.name not in present:
            continue
        wide = (per_sample[per_sample["metric"] == m.name]
                .pivot_table(index="sample_id", columns="method", values="value", dropna=False)
                .reindex(columns=list(methods)).sort_index())
        data = wide.to_numpy(dtype=float)
        if np.isnan(data).all():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            point = np.nanmean(data, axis=0)
        n = int((~np.isnan(data)).any(axis=1).sum())
        out.append(Ranker(m.name, m.label, "", m.higher_is_better, tuple(wide.index.astype(str)),
                          point, data, "metric", n))
    return out


def crowd_ranker(aggregate: pd.DataFrame, crowd_source: str, methods: Sequence[str]) -> Ranker:
    """The human ranking of one crowd source: s_j (%) of equation (2)."""
    agg = aggregate[aggregate["method"].isin(methods)]
    A, cube_methods, _, ids = correctness_cube(agg)
    order = [cube_methods.index(m) for m in methods]
    A = A[:, order, :]
    s = score(accuracy(agg)).reindex(list(methods)).to_numpy(dtype=float)
    sort = np.argsort(np.asarray(ids, dtype=str), kind="stable")
    return Ranker(HUMAN, f"human ({crowd_source})", crowd_source, True,
                  tuple(np.asarray(ids, dtype=str)[sort]), 100.0 * s, A[sort] * 100.0, "crowd", len(ids))


def bootstrap(rankers: Sequence[Ranker], n_boot: int, seed: int) -> tuple[dict[int, np.ndarray], dict[int, str]]:
    """Replicate values ``[B, methods]`` per ranker (by position); rankers on the same sample
    ids share each replicate's draw. Also says, per ranker, which draw group it is in."""
    rng = np.random.default_rng(seed)
    universes: dict[tuple[str, ...], np.ndarray] = {}
    for key in sorted({r.sample_ids for r in rankers}):
        universes[key] = rng.integers(0, len(key), size=(n_boot, len(key))) if key else np.zeros((n_boot, 0), int)
    group_names = {key: f"group {i + 1}" for i, key in enumerate(universes)}
    boot = {i: r.replicate(universes[r.sample_ids]) for i, r in enumerate(rankers)}
    return boot, {i: group_names[r.sample_ids] for i, r in enumerate(rankers)}


def percentile_ci(x: np.ndarray, level: float) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return float("nan"), float("nan")
    lo, hi = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    return float(np.percentile(x, lo)), float(np.percentile(x, hi))


def loo_index(n: int) -> np.ndarray:
    """``[n, n - 1]``: row i holds every sample index but i (jackknife replicates)."""
    full = np.arange(n)
    return np.stack([np.delete(full, i) for i in range(n)]) if n > 1 else np.zeros((n, 0), int)


def bca_interval(estimate: float, replicates: np.ndarray, jackknife: Sequence[np.ndarray],
                 level: float, bounds: tuple[float, float] = (-1.0, 1.0)) -> tuple[float, float, str]:
    """Bias-corrected and accelerated bootstrap interval (Efron 1987; Efron & Tibshirani 1993,
    section 14.3), with a jackknife fallback where it degenerates, and which one was used.

    Why not the percentile interval: Kendall's tau between two rankings of a few methods is
    bounded and discrete, and resampling the samples adds noise to every method's value, so
    near-tied methods swap in most replicates and the replicates pile up *below* the estimate
    (an estimate of 0.93 got a percentile interval of [0.14, 0.86]). BCa corrects that bias:

    * z0 = Phi^-1(p0), p0 = (#{replicates < estimate} + #{replicates == estimate} / 2) / B (ties
      at a discrete estimate counted half), clipped to [1 / 2B, 1 - 1 / 2B];
    * a = sum U^3 / (6 (sum U^2)^(3/2)) over the jackknife values of every independently
      resampled group (``jackknife``: one array per group, leave-one-sample-out values), with
      U = mean - value (0 when every jackknife value is the same);
    * the limits are the replicates' quantiles (numpy's linear interpolation) at
      Phi(z0 + (z0 + z) / (1 - a (z0 + z))) for z = Phi^-1((1 -/+ level) / 2).

    With an estimate at the edge of a discrete replicate distribution BCa can collapse to a
    point or miss the estimate; then the jackknife interval estimate +/- z * se_J is used
    (se_J^2 = sum over groups of (n - 1) / n * sum (value - mean)^2), clipped to ``bounds``
    (``jackknife (BCa degenerate)``), and where that has no width either, the BCa interval
    widened to reach the estimate (``BCa, widened to the estimate``). Otherwise ``BCa``.
    NaN replicates are dropped; none left gives NaN."""
    from scipy.stats import norm

    reps = np.asarray(replicates, dtype=float)
    reps = reps[~np.isnan(reps)]
    if reps.size == 0 or np.isnan(estimate):
        return float("nan"), float("nan"), "BCa"
    b = reps.size
    p0 = (np.sum(reps < estimate) + 0.5 * np.sum(reps == estimate)) / b
    z0 = float(norm.ppf(np.clip(p0, 0.5 / b, 1 - 0.5 / b)))
    groups = [j[~np.isnan(j)] for j in (np.asarray(g, dtype=float) for g in jackknife)]
    num = sum(float(np.sum((g.mean() - g) ** 3)) for g in groups if g.size)
    den = sum(float(np.sum((g.mean() - g) ** 2)) for g in groups if g.size)
    a = num / (6.0 * den ** 1.5) if den > 0 else 0.0
    zs = norm.ppf([(1 - level) / 2, (1 + level) / 2])
    lo, hi = (float(np.quantile(reps, norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))))) for z in zs)
    if lo <= estimate <= hi and (lo < hi or reps.min() == reps.max()):
        return lo, hi, "BCa"
    se = float(np.sqrt(sum((g.size - 1) / g.size * np.sum((g - g.mean()) ** 2) for g in groups if g.size)))
    if se > 0:
        return (float(max(bounds[0], estimate + zs[0] * se)), float(min(bounds[1], estimate + zs[1] * se)),
                "jackknife (BCa degenerate)")
    return min(lo, estimate), max(hi, estimate), "BCa, widened to the estimate"


def _tau_jackknife(other: Ranker, h: Ranker, sel: np.ndarray, paired: bool) -> list[np.ndarray]:
    """Leave-one-sample-out taus: one group when both rankers are resampled together, else one
    group per ranker (the other held at its point values)."""
    x_point = oriented(other.point[sel], other.higher_is_better)
    if paired:
        idx = loo_index(len(other.sample_ids))
        return [kendall_tau_b(oriented(other.replicate(idx)[:, sel], other.higher_is_better),
                              h.replicate(idx)[:, sel])]
    jo = oriented(other.replicate(loo_index(len(other.sample_ids)))[:, sel], other.higher_is_better)
    jh = h.replicate(loo_index(len(h.sample_ids)))[:, sel]
    return [kendall_tau_b(jo, np.broadcast_to(h.point[sel], jo.shape)),
            kendall_tau_b(np.broadcast_to(x_point, jh.shape), jh)]


def compare(per_sample: pd.DataFrame, aggregates: Mapping[str, pd.DataFrame], settings: CompareSettings,
            seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Method values with ranks and rank CIs (``VALUE_COLUMNS``) and the agreement of every
    automated metric (and every other crowd) with every crowd (``AGREEMENT_COLUMNS``)."""
    from scipy.stats import kendalltau

    methods = evaluation_methods(per_sample, aggregates, settings.include_random)
    rankers = metric_rankers(per_sample, methods)
    crowds = [crowd_ranker(agg, src, methods) for src, agg in aggregates.items()]
    everyone = rankers + crowds
    boot, groups = bootstrap(everyone, settings.n_boot, seed)
    rows = []
    for i, r in enumerate(everyone):
        ok = ~np.isnan(r.point)
        point_ranks = np.full(len(methods), np.nan)
        point_ranks[ok] = ranks_of(r.point[ok], r.higher_is_better)
        rep_ranks = ranks_of(boot[i][:, ok], r.higher_is_better)
        for j_ok, j in enumerate(np.flatnonzero(ok)):
            lo, hi = percentile_ci(rep_ranks[:, j_ok], settings.level)
            rows.append({"origin": "pipeline", "metric": r.metric, "label": r.label,
                         "crowd_source": r.crowd_source, "higher_is_better": r.higher_is_better,
                         "method": methods[j], "value": float(r.point[j]), "rank": point_ranks[j],
                         "rank_ci_low": lo, "rank_ci_high": hi, "n_methods": int(ok.sum()),
                         "n_samples": r.n_samples})
    for col in TABLE5:
        for m in col.values:
            rows.append({"origin": "paper", "metric": col.key, "label": f"{col.label} (paper)",
                         "crowd_source": "", "higher_is_better": col.higher_is_better, "method": m,
                         "value": col.values[m][0], "rank": float(col.values[m][1]),
                         "rank_ci_low": np.nan, "rank_ci_high": np.nan, "n_methods": len(col.values),
                         "n_samples": np.nan})
    values = pd.DataFrame(rows, columns=VALUE_COLUMNS)

    agreement = []
    for h_i, h in enumerate(crowds, start=len(rankers)):
        for o_i, other in enumerate(everyone):
            if other is h:
                continue
            sel = ~np.isnan(other.point) & ~np.isnan(h.point)
            if sel.sum() < MIN_METHODS:
                continue
            x = oriented(other.point[sel], other.higher_is_better)
            tau = float(kendall_tau_b(x, h.point[sel]))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = float(kendalltau(x, h.point[sel]).pvalue) if not np.isnan(tau) else float("nan")
            reps = kendall_tau_b(oriented(boot[o_i][:, sel], other.higher_is_better), boot[h_i][:, sel])
            paired = groups[o_i] == groups[h_i]
            lo, hi, how = bca_interval(tau, reps, _tau_jackknife(other, h, sel, paired), settings.level)
            agreement.append({
                "human": h.crowd_source, "metric": other.metric if other.kind == "metric" else f"{HUMAN}:{other.crowd_source}",
                "label": other.label, "higher_is_better": other.higher_is_better,
                "n_methods": int(sel.sum()), "tau": tau, "ci_low": lo, "ci_high": hi, "p_value": p,
                "n_boot": int((~np.isnan(reps)).sum()),
                "bootstrap": "paired" if paired else "independent",
                "n_samples_metric": other.n_samples, "n_samples_human": h.n_samples, "ci_method": how})
    return values, pd.DataFrame(agreement, columns=AGREEMENT_COLUMNS)


def printed_agreement() -> pd.DataFrame:
    """Kendall tau of each printed Table 5 column vs the printed "Ours", on the methods both have."""
    ours = TABLE5_BY_KEY["ours"]
    rows = []
    for col in TABLE5:
        if col.key == "ours":
            continue
        common = [m for m in ours.values if m in col.values]
        x = oriented([col.values[m][0] for m in common], col.higher_is_better)
        y = np.array([ours.values[m][0] for m in common])
        tau = float(kendall_tau_b(x, y)) if len(common) > 1 else float("nan")
        rows.append({"human": "paper (printed)", "metric": col.key, "label": f"{col.label} (paper)",
                     "higher_is_better": col.higher_is_better, "n_methods": len(common), "tau": tau,
                     "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n_boot": 0,
                     "bootstrap": f"printed values, {col.source}", "n_samples_metric": np.nan,
                     "n_samples_human": np.nan})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


# ------------------------------------------------------------------ the extended Table 5
def _cell(value: float, rank: float, digits: int) -> str:
    if pd.isna(value):
        return "-"
    text = f"{round(value, digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.000"
    return f"{text} ({int(rank)})" if not pd.isna(rank) else text


#: Decimals of a column: the printed precision for the paper's, s_j (%) with one.
DIGITS = {HUMAN: 1, "ours": 1, "racu": 1, "eff": 2, "simu": 2, "suff": 2, "comp": 2}


def _digits(metric: str) -> int:
    return DIGITS.get(metric, 3)


def comparison_table(values: pd.DataFrame, with_paper: bool, model_label: str, dataset: str,
                     crowd_types: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Table 5 layout: settings rows (source, model, dataset, human-included), then one row per
    method with ``value (rank)`` cells; the printed columns first where ``with_paper``."""
    crowd_types = crowd_types or {}
    pipe = values[values["origin"] == "pipeline"]
    methods = method_order(pipe["method"].unique())
    columns: list[tuple[str, pd.DataFrame, dict[str, str]]] = []
    arrow = {True: "↑", False: "↓"}
    if with_paper:
        methods = method_order(set(methods) | {m for c in TABLE5 for m in c.values})
        for col in TABLE5:
            sub = values[(values["origin"] == "paper") & (values["metric"] == col.key)]
            columns.append((f"{col.label}{arrow[col.higher_is_better]} (paper)", sub, {
                "Source": col.source, "Model": col.model, "Dataset": col.dataset,
                "Human-included": "✓" if col.human_included else "✗"}))
    for src in pipe.loc[pipe["metric"] == HUMAN, "crowd_source"].drop_duplicates():
        sub = pipe[(pipe["metric"] == HUMAN) & (pipe["crowd_source"] == src)]
        columns.append((f"Human s_j↑ ({src})", sub, {
            "Source": f"this run, crowd source {src} ({crowd_types.get(src, 'crowd')})",
            "Model": model_label, "Dataset": dataset, "Human-included": "✓"}))
    for m in SUMMARY_METRICS:
        sub = pipe[pipe["metric"] == m.name]
        if sub.empty:
            continue
        columns.append((f"{m.label}{arrow[m.higher_is_better]}", sub, {
            "Source": "this run", "Model": model_label, "Dataset": dataset,
            "Human-included": "✗ (planted cues)" if m.name in ("auprc", "token_f1") else "✗"}))
    rows = []
    for setting in ("Source", "Model", "Dataset", "Human-included"):
        rows.append({"Method": f"[{setting}]", **{name: meta[setting] for name, _, meta in columns}})
    for method in methods:
        row = {"Method": display_name(method)}
        for name, sub, _ in columns:
            hit = sub[sub["method"] == method]
            row[name] = "-" if hit.empty else _cell(float(hit["value"].iloc[0]), hit["rank"].iloc[0],
                                                     _digits(str(hit["metric"].iloc[0])))
        rows.append(row)
    return pd.DataFrame(rows, columns=["Method", *[c[0] for c in columns]])


def metrics_table(per_sample: pd.DataFrame, bins: Sequence[float], k_grid: Sequence[int]) -> pd.DataFrame:
    """``faithfulness_metrics``: per method, every metric's mean over samples (AOPC, each bin,
    each crowd k, tau-LOO with its number of defined samples, curves, plausibility)."""
    from saliency_repro.faithfulness.metrics import method_means

    means = method_means(per_sample)
    if means.empty:
        return pd.DataFrame({"Method": ["(no evaluation samples)"]})
    wide = means.pivot(index="method", columns="metric", values="mean")
    counts = means.pivot(index="method", columns="metric", values="n")
    names = ["comprehensiveness", "sufficiency",
             *[f"comprehensiveness@{b:g}%" for b in bins], *[f"sufficiency@{b:g}%" for b in bins],
             "comprehensiveness_kgrid", "sufficiency_kgrid",
             *[f"comprehensiveness@{k}w" for k in k_grid], *[f"sufficiency@{k}w" for k in k_grid],
             "tau_loo", "deletion_auc", "insertion_auc", "auprc", "token_f1"]
    names = [n for n in names if n in wide.columns]
    order = method_order(wide.index)
    out = wide.loc[order, names].copy()
    out.insert(0, "n_samples", counts.loc[order].max(axis=1).astype(int))
    if "tau_loo" in counts.columns:
        out.insert(out.columns.get_loc("tau_loo") + 1, "tau_loo_n", counts.loc[order, "tau_loo"].astype("Int64"))
    out.insert(0, "Method", [display_name(m) for m in order])
    return out.reset_index(drop=True).rename_axis(columns=None)


# ------------------------------------------------------------------ Q2 of section 4.2
def _claim(**kw) -> dict:
    from saliency_repro.claims import CLAIM_COLUMNS

    out = dict.fromkeys(CLAIM_COLUMNS, np.nan)
    out.update(kw)
    return out


def _verdict(ok: bool) -> str:
    from saliency_repro.claims import FAILS, HOLDS

    return HOLDS if ok else FAILS


def _lookup(values: pd.DataFrame, metric: str, crowd_source: str = "") -> pd.DataFrame:
    sub = values[(values["origin"] == "pipeline") & (values["metric"] == metric)]
    if metric == HUMAN:
        sub = sub[sub["crowd_source"] == crowd_source]
    return sub.set_index("method")


def q2_claims(dataset: str, crowd_source: str, values: pd.DataFrame, agreement: pd.DataFrame,
              top: int = 3, level: float = 0.95) -> list[dict]:
    """The paper's Q2 observations (section 4.2) tested on this run, for one dataset and crowd
    source: rows with the columns of :data:`saliency_repro.claims.CLAIM_COLUMNS`.

    ``values`` and ``agreement`` are the frames of :func:`compare` (files
    ``R/faithfulness/{dataset}/method_values.parquet`` and ``agreement.parquet``). "High" /
    "low" mean the top / bottom ``top`` ranks (the paper underlines the top 3 of Table 5).

    - ``q2_comp_suff_rank_lime_high``: comprehensiveness and sufficiency (ERASER AOPC) rank LIME
      in the top ``top`` (paper: LIME best under Comp. and Suff.);
    - ``q2_humans_rank_lime_low``: the crowd ranks LIME in the bottom ``top`` (paper: last);
    - ``q2_comp_suff_lime_opposite``: both at once ("the opposite of our results");
    - ``q2_ig_best_gradient:<ranker>``: INTEGRATED GRADIENT is the best gradient-based method
      (of VANILLA GRADIENT, INPUT×GRAD, INTEGRATED GRADIENT, DEEPLIFT) under the crowd and each
      automated metric (paper: under every metric but Simu.);
    - ``q2_vg_beats_ixg:<ranker>``: VANILLA GRADIENT is better than INPUT×GRAD (same);
    - ``q2_some_agree``: some automated metric's method ranking agrees with the crowd's (Kendall
      tau, bootstrap CI above 0);
    - ``q2_some_disagree``: some automated metric does not (CI reaching 0 or below).
    """
    base = {"paper": "lu2024", "dataset": dataset, "crowd_source": crowd_source}
    rows: list[dict] = []
    human = _lookup(values, HUMAN, crowd_source)
    if human.empty:
        return rows
    comp, suff = _lookup(values, "comprehensiveness"), _lookup(values, "sufficiency")
    pct = f"{100 * level:g}%"
    ok_high = ok_low = None
    if "lime" in comp.index and "lime" in suff.index:
        rc, rs = comp.loc["lime"], suff.loc["lime"]
        worse = rc if rc["rank"] >= rs["rank"] else rs
        ok_high = bool(max(rc["rank"], rs["rank"]) <= top)
        rows.append(_claim(
            **base, claim_id="q2_comp_suff_rank_lime_high",
            claim=f"comprehensiveness and sufficiency rank LIME high (top {top})",
            paper_says="LIME best (rank 1) under Comp. and Suff.",
            statistic=f"LIME's worse rank under comprehensiveness / sufficiency (AOPC), 1 = best of "
                      f"{int(rc['n_methods'])}; {pct} bootstrap CI of that rank",
            value=float(max(rc["rank"], rs["rank"])), ci_low=float(worse["rank_ci_low"]),
            ci_high=float(worse["rank_ci_high"]),
            test=f"descriptive: ranks comprehensiveness {int(rc['rank'])}, sufficiency {int(rs['rank'])}; "
                 f"holds if both <= {top}", verdict=_verdict(ok_high)))
    if "lime" in human.index:
        r = human.loc["lime"]
        n = int(r["n_methods"])
        ok_low = bool(r["rank"] >= n - top + 1)
        rows.append(_claim(
            **base, claim_id="q2_humans_rank_lime_low", claim=f"people rank LIME low (bottom {top})",
            paper_says="LIME last (rank 8 of 8)",
            statistic=f"LIME's rank by s_j, 1 = best of {n}; {pct} bootstrap CI over samples",
            value=float(r["rank"]), ci_low=float(r["rank_ci_low"]), ci_high=float(r["rank_ci_high"]),
            test=f"descriptive: holds if rank >= {n - top + 1}", verdict=_verdict(ok_low)))
    if ok_high is not None and ok_low is not None:
        worse_auto = max(comp.loc["lime", "rank"], suff.loc["lime", "rank"])
        rows.append(_claim(
            **base, claim_id="q2_comp_suff_lime_opposite",
            claim="comprehensiveness/sufficiency and people rank LIME oppositely (high vs low)",
            paper_says="opposite", statistic="LIME's human rank minus its worse Comp./Suff. rank",
            value=float(human.loc["lime", "rank"] - worse_auto),
            test="holds if q2_comp_suff_rank_lime_high and q2_humans_rank_lime_low both hold",
            verdict=_verdict(ok_high and ok_low)))
    rankers = [(HUMAN, f"the crowd ({crowd_source})", human)]
    rankers += [(m.name, m.label, _lookup(values, m.name)) for m in SUMMARY_METRICS]
    for key, label, sub in rankers:
        if sub.empty:
            continue
        hib = bool(sub["higher_is_better"].iloc[0])
        grad = [m for m in GRADIENT_METHODS if m in sub.index and not pd.isna(sub.loc[m, "value"])]
        if "integrated_gradients" in grad and len(grad) > 1:
            r = ranks_of(sub.loc[grad, "value"].to_numpy(dtype=float), hib)
            ig_rank = float(r[grad.index("integrated_gradients")])
            best_other = max((m for m in grad if m != "integrated_gradients"),
                             key=lambda m: oriented(sub.loc[m, "value"], hib))
            rows.append(_claim(
                **base, claim_id=f"q2_ig_best_gradient:{key}",
                claim=f"INTEGRATED GRADIENT is the best gradient-based method under {label}",
                paper_says="best (every metric but Simu.)",
                statistic=f"rank of INTEGRATED GRADIENT among {len(grad)} gradient-based methods",
                value=ig_rank, test=f"descriptive (best other: {paper_name(best_other)})",
                verdict=_verdict(ig_rank == 1)))
        if {"vanilla_gradient", "input_x_grad"} <= set(grad):
            d = float(oriented(sub.loc["vanilla_gradient", "value"] - sub.loc["input_x_grad", "value"], hib))
            rows.append(_claim(
                **base, claim_id=f"q2_vg_beats_ixg:{key}",
                claim=f"VANILLA GRADIENT is better than INPUT×GRAD under {label}",
                paper_says="better (every metric but Simu.)",
                statistic="VANILLA GRADIENT minus INPUT×GRAD (oriented: positive = VANILLA GRADIENT better)",
                value=d, test="descriptive", verdict=_verdict(d > 0)))
    agr = agreement[(agreement["human"] == crowd_source) & agreement["metric"].isin(METRICS_BY_NAME)]
    agr = agr.dropna(subset=["tau"])
    if not agr.empty:
        listing = ", ".join(f"{r.metric} {r.tau:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]" for r in agr.itertuples())
        best, worst = agr.loc[agr["tau"].idxmax()], agr.loc[agr["tau"].idxmin()]
        test = f"Kendall tau-b over methods, {pct} BCa bootstrap CI over samples: {listing}"
        rows.append(_claim(
            **base, claim_id="q2_some_agree",
            claim="some automated metrics rank the methods as people do",
            paper_says="some agree (RACU, Psi., Fait.)",
            statistic=f"largest Kendall tau of an automated metric vs the crowd ({best['metric']})",
            value=float(best["tau"]), ci_low=float(best["ci_low"]), ci_high=float(best["ci_high"]),
            p_value=float(best["p_value"]), test=test + "; holds if some CI lies above 0",
            verdict=_verdict(bool((agr["ci_low"] > 0).any()))))
        rows.append(_claim(
            **base, claim_id="q2_some_disagree",
            claim="some automated metrics do not rank the methods as people do",
            paper_says="some disagree (Eff., Simu., AUPRC, Suff., Comp.)",
            statistic=f"smallest Kendall tau of an automated metric vs the crowd ({worst['metric']})",
            value=float(worst["tau"]), ci_low=float(worst["ci_low"]), ci_high=float(worst["ci_high"]),
            p_value=float(worst["p_value"]), test=test + "; holds if some CI reaches 0 or below",
            verdict=_verdict(bool((agr["ci_low"] <= 0).any()))))
    return rows


def q2_printed_claims() -> list[dict]:
    """Q2 statements checked on the printed Table 5 itself (no run involved)."""
    base = {"paper": "lu2024", "dataset": "IMDB (printed Table 5)", "crowd_source": "paper"}
    agr = printed_agreement().set_index("metric")
    full = agr.loc[list(PRINTED_COMPLETE_AGREEMENT), "tau"]
    others = agr.drop(index=list(PRINTED_COMPLETE_AGREEMENT))["tau"]
    comp, suff, ours = (TABLE5_BY_KEY[k].values["lime"][1] for k in ("comp", "suff", "ours"))
    fmt = ", ".join(f"{TABLE5_BY_KEY[k].label} {v:.2f}" for k, v in agr["tau"].items())
    return [
        _claim(**base, claim_id="q2_printed_complete_agreement",
               claim="RACU, Psi. and Fait. completely agree with the crowd ranking (printed values)",
               paper_says="completely agree", statistic="smallest Kendall tau vs printed Ours",
               value=float(full.min()), test=f"Kendall tau-b on the common methods: {fmt}",
               verdict=_verdict(bool((full == 1).all()))),
        _claim(**base, claim_id="q2_printed_others_differ",
               claim="the other metrics do not all agree completely (printed values)",
               paper_says="not all completely the same", statistic="smallest Kendall tau vs printed Ours",
               value=float(others.min()), test=f"Kendall tau-b on the common methods: {fmt}",
               verdict=_verdict(bool((others < 1).any()))),
        _claim(**base, claim_id="q2_printed_comp_suff_lime_best",
               claim="printed Comp. and Suff. rank LIME best while the crowd ranks it last",
               paper_says="opposite", statistic="printed ranks of LIME: Comp., Suff., Ours",
               value=float(max(comp, suff)), test=f"printed ranks {comp}, {suff}, {ours}",
               verdict=_verdict(comp == 1 and suff == 1 and ours == len(TABLE5_BY_KEY["ours"].values))),
    ]


def q2_claims_from_files(values_path: str, agreement_path: str, dataset: str, crowd_source: str,
                         level: float = 0.95) -> list[dict]:
    """:func:`q2_claims` on the files the ``faithfulness_compare`` rule writes."""
    return q2_claims(dataset, crowd_source, pd.read_parquet(values_path), pd.read_parquet(agreement_path),
                     level=level)
