"""The papers' claims, tested on this run: one row per claim, with statistic, test and verdict.

Prose about results drifts; tables do not. Every result the README states comes from a
``claims`` table (``paper_figures/{run}/claims_*.csv``), and the README's results block is
rendered from it by ``readme_block`` (a test checks that the two agree).

Lu et al. (2024), per dataset of one crowd source (section 4.2 Q1, Q3; section 5):
- ``better_than_random:<method>``: "<method> is (not) significantly better than RANDOM", from
  the significance table (primary test: sample-level sign-flip permutation test, Holm);
- ``ig_best``: "INTEGRATED GRADIENT performed best" (highest s_j);
- ``all_beats_last_attention``: "ALL ATTENTION performed better than LAST ATTENTION", a
  sample-level sign-flip test of s_ALL - s_LAST;
- ``flips_exist``: Flips occur for every method (Table 7).

Tuckey et al. (2019), per summarization dataset:
- ``maps_alike``: "the saliency maps of different output words look alike": mean pairwise
  Spearman of the LRP maps of one summary, with a normal 95% CI over summaries (each summary
  is one unit); the claim *holds* when the CI's lower end is at least ``ALIKE_SPEARMAN``
  (0.5, the usual threshold of a strong correlation) and above the shuffled control;
- ``deletion_changes_more:<measure>``: deleting the top-LRP words changes the summary more than
  deleting random words, by each change measure: the article-level Wilcoxon test of the
  counterfactual table at the middle k (attention free), and the fraction of articles that
  confirm the map.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from saliency_repro.crowd import paper_values
from saliency_repro.crowd.scores import accuracy, flip_counts, score
from saliency_repro.crowd.stats import SignificanceSettings, pairwise_sign_flip
from saliency_repro.names import display_name, paper_name

CLAIM_COLUMNS = ["paper", "claim_id", "claim", "dataset", "crowd_source", "paper_says",
                 "statistic", "value", "ci_low", "ci_high", "test", "p_value", "verdict"]
ALIKE_SPEARMAN = 0.5
HOLDS, FAILS = "holds", "does not hold"


def _row(**kw) -> dict:
    out = dict.fromkeys(CLAIM_COLUMNS, np.nan)
    out.update(kw)
    return out


def _verdict(ok: bool) -> str:
    return HOLDS if ok else FAILS


# ------------------------------------------------------------------------------ Lu et al.
def lu_claims(dataset: str, crowd_source: str, significance: pd.DataFrame,
              aggregate: pd.DataFrame, settings: SignificanceSettings, seed: int) -> list[dict]:
    """The Lu et al. claims on one dataset and crowd source (see the module docstring)."""
    rows = []
    base = {"paper": "lu2024", "dataset": dataset, "crowd_source": crowd_source}
    sig = significance.set_index("method")
    for method, says_better in paper_values.SIGNIFICANTLY_BETTER_THAN_RANDOM.items():
        if method not in sig.index:
            continue
        r = sig.loc[method]
        better = r["better_than_random"] == "yes"
        name = paper_name(method)
        rows.append(_row(
            **base, claim_id=f"better_than_random:{method}",
            claim=f"{name} is {'' if says_better else 'not '}significantly better than RANDOM",
            paper_says="better" if says_better else "not better",
            statistic="s_j - s_RANDOM (percentage points), bootstrap 95% CI over samples",
            value=float(r["score_%"] - sig.loc["random", "score_%"]),
            ci_low=float(r["diff_ci_low"]), ci_high=float(r["diff_ci_high"]),
            test="paired sign-flip permutation test over samples, Holm over methods",
            p_value=float(r["perm_p_holm"]), verdict=_verdict(better == says_better)))
    s = score(accuracy(aggregate)) * 100
    if "integrated_gradients" in s.index and len(s) > 1:
        others = s.drop("integrated_gradients")
        rows.append(_row(
            **base, claim_id="ig_best", claim="INTEGRATED GRADIENT performed best (highest s_j)",
            paper_says="best", statistic="s_IG - best other s_j (percentage points)",
            value=float(s["integrated_gradients"] - others.max()),
            test=f"descriptive (best other: {_display(others.idxmax())})",
            verdict=_verdict(bool(s["integrated_gradients"] >= others.max()))))
    if {"all_attention", "last_attention"} <= set(s.index):
        t = pairwise_sign_flip(aggregate, "all_attention", "last_attention", settings, seed)
        better = t["p"] < settings.alpha and t["mean_difference"] > 0
        rows.append(_row(
            **base, claim_id="all_beats_last_attention",
            claim="ALL ATTENTION performed better than LAST ATTENTION", paper_says="better",
            statistic="s_ALL - s_LAST (percentage points)",
            value=float(s["all_attention"] - s["last_attention"]),
            test="paired sign-flip permutation test over samples (two-sided)",
            p_value=float(t["p"]), verdict=_verdict(bool(better))))
    fc = flip_counts(aggregate)
    rows.append(_row(
        **base, claim_id="flips_exist", claim="Flips occur for every saliency method (Table 7)",
        paper_says="every method", statistic="fewest Flips of any method (samples)",
        value=float(fc["Flips"].min()), test=f"count over {int(fc['N'].iloc[0])} samples",
        verdict=_verdict(bool((fc["Flips"] > 0).all()))))
    return rows


def _display(method: str) -> str:
    return display_name(method)


# ------------------------------------------------------------------------------ Tuckey et al.
def tuckey_claims(dataset: str, similarity: pd.DataFrame, counterfactual: pd.DataFrame,
                  alpha: float) -> list[dict]:
    """The Tuckey et al. claims on one summarization dataset (see the module docstring)."""
    base = {"paper": "tuckey2019", "dataset": dataset, "crowd_source": ""}
    rows = []
    sim = similarity.set_index("maps")
    if "lrp" in sim.index:
        r = sim.loc["lrp"]
        half = 1.96 * float(r["spearman_sd"]) / math.sqrt(max(int(r["summaries"]), 1))
        lo, hi = float(r["spearman_mean"]) - half, float(r["spearman_mean"]) + half
        control_hi = np.inf
        if "lrp_shuffled" in sim.index:
            c = sim.loc["lrp_shuffled"]
            control_hi = float(c["spearman_mean"]) + 1.96 * float(c["spearman_sd"]) / math.sqrt(
                max(int(c["summaries"]), 1))
        rows.append(_row(
            **base, claim_id="maps_alike",
            claim="the LRP maps of different output words look alike", paper_says="alike",
            statistic="mean pairwise Spearman of one summary's word maps, mean over summaries",
            value=float(r["spearman_mean"]), ci_low=lo, ci_high=hi,
            test=f"normal 95% CI over {int(r['summaries'])} summaries; holds if CI low >= "
                 f"{ALIKE_SPEARMAN} and above the shuffled control",
            verdict=_verdict(lo >= ALIKE_SPEARMAN and lo > control_hi)))
    cf = counterfactual
    if not cf.empty:
        cf = cf[(cf["variant"] == "free") & (cf["method"] == "lrp")]
    for measure, g in (cf.groupby("measure", sort=True) if not cf.empty else []):
        ks = sorted(g["k"].unique())
        r = g[g["k"] == ks[len(ks) // 2]].iloc[0]
        ok = bool(r["wilcoxon_p"] < alpha and r["median_difference"] > 0)
        rows.append(_row(
            **base, claim_id=f"deletion_changes_more:{measure}",
            claim=f"deleting the top-LRP words changes the summary more than random deletion ({measure})",
            paper_says="sometimes",
            statistic=f"fraction of articles confirming the map at k = {r['k']:g} (95% CI)",
            value=float(r["confirmed_fraction"]), ci_low=float(r["ci_low"]),
            ci_high=float(r["ci_high"]),
            test=f"Wilcoxon signed-rank over {int(r['articles'])} articles (important vs mean random change)",
            p_value=float(r["wilcoxon_p"]), verdict=_verdict(ok)))
    return rows


def claims_frame(rows: Sequence[dict]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=CLAIM_COLUMNS)


# ------------------------------------------------------------------------------ README block
README_BEGIN = "<!-- claims:{name}:begin (generated from {path}; do not edit by hand) -->"
README_END = "<!-- claims:{name}:end -->"


def readme_block(claims: pd.DataFrame, name: str, path: str | os.PathLike) -> str:
    """The README's results block for one claims table, between its markers."""
    lines = [README_BEGIN.format(name=name, path=path), "",
             "| dataset | claim | statistic | value [95% CI] | test, p | verdict |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in claims.itertuples(index=False):
        ci = "" if pd.isna(r.ci_low) else f" [{r.ci_low:.3g}, {r.ci_high:.3g}]"
        p = "" if pd.isna(r.p_value) else f", p = {r.p_value:.3g}"
        lines.append(f"| {r.dataset} | {r.claim} | {r.statistic} | {r.value:.3g}{ci} | "
                     f"{r.test}{p} | **{r.verdict}** |")
    lines += ["", README_END.format(name=name)]
    return "\n".join(lines)


def replace_readme_block(readme: str, block: str, name: str) -> str:
    """``readme`` with its block ``name`` replaced by ``block`` (which carries the markers)."""
    begin = README_BEGIN.format(name=name, path="").split(" (generated")[0]
    end = README_END.format(name=name)
    a, b = readme.find(begin), readme.find(end)
    if a < 0 or b < 0:
        raise ValueError(f"README has no block {name!r} (markers {begin!r} ... {end!r})")
    return readme[:a] + block + readme[b + len(end):]


# ------------------------------------------------------------------------------ workflow steps
def lu_claims_step(significance: Sequence[str], aggregates: Sequence[str], datasets: Sequence[str],
                   crowd_source: str, crowd_cfg: dict, seed: int, stem: str, caption: str) -> None:
    """``claims_lu2024``: the claims of Lu et al. on every dataset of one crowd source."""
    from saliency_repro.reporting import write_table

    settings = SignificanceSettings.from_config(crowd_cfg)
    rows: list[dict] = []
    for sig, agg, ds in zip(significance, aggregates, datasets, strict=True):
        rows += lu_claims(ds, crowd_source, pd.read_csv(sig), pd.read_parquet(agg), settings, seed)
    write_table(claims_frame(rows), stem, caption, float_format="{:.4g}")


def tuckey_claims_step(similarity: Sequence[str], counterfactual: Sequence[str],
                       datasets: Sequence[str], alpha: float, stem: str, caption: str) -> None:
    """``claims_tuckey2019``: the claims of Tuckey et al. on every summarization dataset."""
    from saliency_repro.reporting import write_table

    rows: list[dict] = []
    for sim, cf, ds in zip(similarity, counterfactual, datasets, strict=True):
        rows += tuckey_claims(ds, pd.read_csv(sim), pd.read_csv(cf), alpha)
    write_table(claims_frame(rows), stem, caption, float_format="{:.4g}")
