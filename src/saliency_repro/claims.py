"""The papers' claims, tested on this run: one row per claim, with statistic, test and verdict.

Prose about results drifts; tables do not. Every result the README states comes from a
``claims`` table (``paper_figures/{run}/claims_*.csv``), and the README's results block is
rendered from it by ``readme_block`` (a test checks that the two agree).

**Verdicts survive a second look.** Every inferential claim has a primary test, a declared
family it is adjusted in (Holm), and a pre-declared set of sensitivity variants; the verdict has
three levels (``inference.combine_verdict``): *holds* / *does not hold* only when the primary
test says so and every variant agrees, otherwise *inconclusive*, and the row names the variants
that disagree. Every p-value that enters a verdict is exact (no seed and no permutation count
can move it); were a Monte-Carlo p used, it would carry its standard error, and a p within 3
standard errors of alpha would count as undetermined (so: inconclusive), never as a decision. Each variant's p for each claim is in the
``claims_sensitivity_*`` table beside the claims table.

Lu et al. (2024), per dataset of one crowd source (section 4.2 Q1, Q3; section 5). The family
is every inferential claim on the dataset: the seven "<method> vs RANDOM" claims, "ALL
ATTENTION is better than LAST ATTENTION" and "INTEGRATED GRADIENT is best" (nine superiority
tests, Holm); the equivalence tests of the "not better" claims form a second family.
- ``better_than_random:<method>``: "<method> is (not) significantly better than RANDOM".
  Primary: exact sign-flip test over samples of the per-sample statistic
  (``crowd.significance.statistic``). A "not better" claim is never confirmed by a test that
  fails to reject: it *holds* only when equivalence within +-``equivalence_margin_pp``
  percentage points is shown (TOST over samples, Holm over the equivalence family) and no test
  shows superiority; it *does not hold* when superiority is shown consistently; otherwise it
  is *inconclusive* ("not shown").
- ``ig_best``: "INTEGRATED GRADIENT performed best": IG against the method with the next-highest
  s_j (or the highest, when IG is not); *holds* when IG is significantly better than it,
  *does not hold* when it is significantly better than IG, *inconclusive* otherwise.
- ``all_beats_last_attention``: s_ALL - s_LAST, primary test as above;
- ``flips_exist``: Flips occur for every method (Table 7), a count (no test, no family).
Sensitivity variants: the other per-sample statistic (weighted vs number of correct k), the
Wilcoxon signed-rank test, the paired percentile bootstrap (exact: its distribution of the
mean computed by FFT, no resampling error), the
clustered McNemar test, the GEE (vs RANDOM claims only), and the primary test in the narrower
family (the seven vs-RANDOM claims alone; unadjusted for the other two). Every effect is shown
with a simultaneous CI (Bonferroni over the family) and the smallest effect the design detects
with 80 % power at the family's level.

Tuckey et al. (2019), per summarization dataset (family: the tests of that dataset, Holm):
- ``maps_alike``: "the saliency maps of different output words look alike": mean pairwise
  Spearman of the LRP maps of one summary, with a normal 95% CI over summaries (each summary
  is one unit); *holds* when the CI's lower end is at least ``ALIKE_SPEARMAN`` (0.5, the usual
  threshold of a strong correlation) and above the shuffled control, *does not hold* when its
  upper end is below 0.5 or not above the control, *inconclusive* when it straddles 0.5;
- ``deletion_average:<measure>``: on average over articles, deleting the top-LRP words changes
  the summary more than deleting random words (Wilcoxon signed-rank over articles of the
  important change minus the mean random change; variant: the paired t-test);
- ``deletion_some_articles:<measure>``: "the map is confirmed for some articles and not for
  others" (the paper's "sometimes"): the fraction of articles whose own Monte-Carlo p is <=
  alpha, tested against the rule's exact null rate (one-sided binomial) and, as the variant,
  against the random-ranking control (one-sided Fisher exact test); it cannot hold when every
  article is confirmed. Both at the middle k, attention free.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from saliency_repro import inference
from saliency_repro.crowd import paper_values
from saliency_repro.crowd.scores import accuracy, flip_counts, method_order, score
from saliency_repro.crowd.stats import (
    SignificanceSettings,
    clustered_mcnemar_p,
    correctness_cube,
    discordant_counts,
    exact_sign_flip_p,
    holm,
    integer_difference,
    paired_difference,
)
from saliency_repro.inference import FAILS, HOLDS, INCONCLUSIVE
from saliency_repro.names import display_name, paper_name
from saliency_repro.saliency.pairs import MIN_OVERLAP

CLAIM_COLUMNS = ["paper", "claim_id", "claim", "dataset", "crowd_source", "paper_says",
                 "statistic", "value", "ci_low", "ci_high", "min_detectable", "test", "family",
                 "p_value", "p_mc_se", "sensitivity", "verdict"]
SENSITIVITY_COLUMNS = ["paper", "dataset", "crowd_source", "claim_id", "variant", "adjustment",
                       "p_raw", "p_adjusted", "p_mc_se", "decision", "agrees_with_primary"]
ALIKE_SPEARMAN = 0.5
__all__ = ["FAILS", "HOLDS", "INCONCLUSIVE", "lu_claims", "tuckey_claims", "readme_block"]

PRIMARY = "primary"
OTHER_STATISTIC = {"weighted_score": "correct_count", "correct_count": "weighted_score"}
STATISTIC_NAME = {"weighted_score": "eq. (2)-weighted per-sample score",
                  "correct_count": "per-sample number of correct k"}


def _row(**kw) -> dict:
    out = dict.fromkeys(CLAIM_COLUMNS, np.nan)
    out.update(kw)
    return out


def _agreement(n: int) -> str:
    return "the one variant agrees" if n == 1 else f"all {n} variants agree"


def _verdict(ok: bool) -> str:
    return HOLDS if ok else FAILS


# ------------------------------------------------------------------------------ Lu et al.
def shown_words_in_common(display_a: str, display_b: str) -> float:
    """Share of the shown words two displays of one text have in common (as multisets; 1.0 for
    two displays that show nothing)."""
    from collections import Counter

    from saliency_repro.crowd.human_model import shown_words

    a, b = Counter(shown_words(display_a)), Counter(shown_words(display_b))
    n = max(sum(a.values()), sum(b.values()))
    return sum((a & b).values()) / n if n else 1.0


def coinciding_displays(aggregate: pd.DataFrame, min_overlap: float = MIN_OVERLAP
                        ) -> list[tuple[str, str, float]]:
    """Pairs of methods whose displays share, on average over the (sample, k) tasks both have,
    at least ``min_overlap`` of their shown words, with that share: for the crowd they are one
    method, and no claim may be decided between them by crowd noise (e.g. DEEPLIFT = INPUT×GRAD
    on a backbone whose pooler does not saturate; see ``saliency.pairs``, which also says why
    the rate of identical displays is too strict a measure)."""
    if "display" not in aggregate:
        return []
    wide = aggregate.pivot_table(index=["sample_id", "k"], columns="method", values="display",
                                 aggfunc="first")
    out = []
    methods = [m for m in method_order(wide.columns) if m != "random"]
    for i, a in enumerate(methods):
        for b in methods[i + 1:]:
            both = wide[[a, b]].dropna()
            if not len(both):
                continue
            share = float(np.mean([shown_words_in_common(x, y)
                                   for x, y in zip(both[a], both[b], strict=True)]))
            if share >= min_overlap:
                out.append((a, b, share))
    return out


def _inferential_claims(methods: list[str], s: pd.Series,
                        coincide: Sequence[tuple[str, str, float]] = ()) -> list[dict]:
    """The family of one dataset: (claim_id, claim, paper_says, kind, first, second)."""
    out = []
    if "random" in methods:
        for method, says_better in paper_values.SIGNIFICANTLY_BETTER_THAN_RANDOM.items():
            if method not in methods:
                continue
            name = paper_name(method)
            out.append({"claim_id": f"better_than_random:{method}",
                        "claim": f"{name} is {'' if says_better else 'not '}significantly better than RANDOM",
                        "paper_says": "better" if says_better else "not better",
                        "kind": "better" if says_better else "not_better",
                        "first": method, "second": "random", "narrow": "vs_random"})
    if "integrated_gradients" in s.index and len(s) > 1:
        others = s.drop("integrated_gradients")
        second = others.idxmax()
        # a runner-up that coincides with another method is that method too: IG is compared
        # with each, and the weaker evidence decides (crowd noise must not pick the runner-up)
        twins = [b if a == second else a for a, b, _ in coincide if second in (a, b)]
        twins = [t for t in twins if t != "integrated_gradients"]
        out.append({"claim_id": "ig_best", "claim": "INTEGRATED GRADIENT performed best (highest s_j)",
                    "paper_says": "best", "kind": "best", "first": "integrated_gradients",
                    "second": second, "twins": twins, "narrow": "none"})
    if {"all_attention", "last_attention"} <= set(s.index):
        out.append({"claim_id": "all_beats_last_attention",
                    "claim": "ALL ATTENTION performed better than LAST ATTENTION", "paper_says": "better",
                    "kind": "better", "first": "all_attention", "second": "last_attention",
                    "narrow": "none"})
    return out


def _evidence(A: np.ndarray, methods: list[str], claim: dict, settings: SignificanceSettings,
              gee_p: dict[str, float]) -> dict:
    """Raw p-values of the primary test and of every variant for one claim."""
    j, b = methods.index(claim["first"]), methods.index(claim["second"])
    d = paired_difference(A, j, b, settings.statistic)
    bc, cc = discordant_counts(A, j, b)
    complete = ~np.isnan(A[:, [j, b], :]).any(axis=(1, 2))
    other = OTHER_STATISTIC[settings.statistic]
    raw = {PRIMARY: (exact_sign_flip_p(A, j, b, settings.statistic), 0.0),
           f"other statistic ({STATISTIC_NAME[other]})": (exact_sign_flip_p(A, j, b, other), 0.0),
           "Wilcoxon signed-rank": (inference.wilcoxon_p(d), 0.0),
           "paired bootstrap (exact, infinitely many resamples)": (
               inference.bootstrap_p_exact(integer_difference(A, j, b, settings.statistic)), 0.0),
           "clustered McNemar": (clustered_mcnemar_p(bc[complete], cc[complete]), 0.0)}
    if claim["second"] == "random":
        raw["GEE (logistic, clustered by sample)"] = (gee_p.get(claim["first"], np.nan), 0.0)
    return {"d": d, "raw": raw}


def _adjust(claims: list[dict], evidence: list[dict], alpha: float) -> None:
    """Holm over the family for every variant; the narrower family for the primary test."""
    variants = sorted({v for e in evidence for v in e["raw"]})
    for v in variants:
        p = np.array([e["raw"].get(v, (np.nan, 0))[0] for e in evidence], dtype=float)
        adj = holm(p)
        for e, pr, pa in zip(evidence, p, adj, strict=True):
            if v in e["raw"] and not np.isnan(pr):
                se = e["raw"][v][1] * (pa / pr if pr > 0 else 1.0)
                e.setdefault("adjusted", {})[v] = (float(pa), float(se), f"Holm over {int((~np.isnan(p)).sum())}")
    narrow = [i for i, c in enumerate(claims) if c["narrow"] == "vs_random"]
    if narrow:
        adj = holm(np.array([evidence[i]["raw"][PRIMARY][0] for i in narrow]))
        for i, pa in zip(narrow, adj, strict=True):
            evidence[i]["adjusted"]["primary, vs-RANDOM family only"] = (float(pa), 0.0, f"Holm over {len(narrow)}")
    for c, e in zip(claims, evidence, strict=True):
        if c["narrow"] == "none":
            e["adjusted"]["primary, unadjusted"] = (e["raw"][PRIMARY][0], 0.0, "none")
    tost = [i for i, c in enumerate(claims) if c["kind"] == "not_better"]
    if tost:
        adj = holm(np.array([evidence[i]["tost_raw"] for i in tost]))
        for i, pa in zip(tost, adj, strict=True):
            evidence[i]["tost"] = float(pa)


def _verdict_of(claim: dict, e: dict, alpha: float) -> tuple[str, str, dict]:
    """Three-level verdict and its reason; also the per-variant decisions."""
    effect = float(e["d"].mean()) if len(e["d"]) else 0.0
    decisions = {v: inference.decide(pa, effect, alpha, se) for v, (pa, se, _) in e["adjusted"].items()}
    primary = decisions.pop(PRIMARY)
    verdict, disagree = inference.combine_verdict(primary, decisions)
    agree = _agreement(len(decisions)) if not disagree else "disagree: " + "; ".join(
        f"{v} (p = {e['adjusted'][v][0]:.3g}, {decisions[v].label})" for v in disagree)
    kind = claim["kind"]
    if kind == "best":
        flipped = {v: inference.Decision(d.p, not d.positive, d.significant, d.undetermined)
                   for v, d in {PRIMARY: primary, **decisions}.items()}
        fp = flipped.pop(PRIMARY)
        against, _ = inference.combine_verdict(fp, flipped)
        lead = ("IG has the highest s_j" if effect > 0
                else f"{display_name(claim['second'])} has a higher s_j than IG")
        if verdict == HOLDS:
            return HOLDS, f"significantly above {display_name(claim['second'])}; {agree}", decisions
        if against == HOLDS:
            return FAILS, f"{display_name(claim['second'])} significantly better; all variants agree", decisions
        if not disagree and not primary.significant:
            return INCONCLUSIVE, (f"{lead}, but the difference to {display_name(claim['second'])} "
                                  f"is significant in no analysis ({agree})"), decisions
        return INCONCLUSIVE, f"{lead}; analyses {agree}", decisions
    if kind == "not_better":
        tost = e.get("tost", np.nan)
        eq = (f"equivalence within +-{e['margin']:g} pp: TOST p = {tost:.3g} (Holm over the "
              f"'not better' claims)")
        if verdict == HOLDS:
            return FAILS, f"shown better than RANDOM; {agree}", decisions
        if verdict == FAILS and tost < alpha:
            return HOLDS, f"not better and {eq}; {agree}", decisions
        if verdict == FAILS:
            return INCONCLUSIVE, f"not shown better, but equivalence not shown either ({eq}); {agree}", decisions
        return INCONCLUSIVE, f"{agree}; {eq}", decisions
    return verdict, agree, decisions


def lu_claims(dataset: str, crowd_source: str, significance: pd.DataFrame,
              aggregate: pd.DataFrame, settings: SignificanceSettings
              ) -> tuple[list[dict], list[dict]]:
    """The Lu et al. claims on one dataset and crowd source, and their sensitivity rows."""
    rows, sens = [], []
    base = {"paper": "lu2024", "dataset": dataset, "crowd_source": crowd_source}
    A, methods, _, _ = correctness_cube(aggregate)
    s = score(accuracy(aggregate)) * 100
    gee_p = dict(zip(significance["method"], significance["gee_p"], strict=True)) if "gee_p" in significance else {}
    coincide = coinciding_displays(aggregate)
    claims = _inferential_claims(methods, s, coincide)
    evidence = []
    for c in claims:
        e = _evidence(A, methods, c, settings, gee_p)
        for twin in c.get("twins", []):  # the weaker evidence of IG against each twin decides
            alt = _evidence(A, methods, {**c, "second": twin}, settings, gee_p)
            if alt["raw"][PRIMARY][0] > e["raw"][PRIMARY][0]:
                c["second"], e = twin, alt
        evidence.append(e)
    m = len(claims)
    for c, e in zip(claims, evidence, strict=True):
        e["margin"] = settings.equivalence_margin_pp
        if c["kind"] == "not_better":
            e["tost_raw"] = inference.tost_p(100 * e["d"], settings.equivalence_margin_pp)
    _adjust(claims, evidence, settings.alpha)
    family = f"lu2024/{dataset}: {m} superiority tests, Holm"
    for c, e in zip(claims, evidence, strict=True):
        verdict, reason, decisions = _verdict_of(c, e, settings.alpha)
        lo, hi = inference.simultaneous_ci(100 * e["d"], m, settings.alpha)
        first, second = display_name(c["first"]), display_name(c["second"])
        if c.get("twins"):
            second = " = ".join([second] + [display_name(t) for t in [*c["twins"], c["second"]]
                                            if t != c["second"] and display_name(t) != second])
        p_adj, _, _ = e["adjusted"][PRIMARY]
        rows.append(_row(
            **base, claim_id=c["claim_id"], claim=c["claim"], paper_says=c["paper_says"],
            statistic=(f"s_{first} - s_{second} (percentage points); simultaneous "
                       f"{100 * (1 - settings.alpha):g}% CI (Bonferroni over the family)"),
            value=float(s[c["first"]] - s[c["second"]]), ci_low=lo, ci_high=hi,
            min_detectable=inference.min_detectable_effect(100 * e["d"], m, settings.alpha),
            test=(f"exact paired sign-flip test over {len(e['d'])} samples of the "
                  f"{STATISTIC_NAME[settings.statistic]}"),
            family=family + (f"; equivalence family: TOST +-{settings.equivalence_margin_pp:g} pp, Holm"
                             if c["kind"] == "not_better" else ""),
            p_value=p_adj, p_mc_se=0.0, sensitivity=reason, verdict=verdict))
        primary = inference.decide(p_adj, float(e["d"].mean()) if len(e["d"]) else 0.0, settings.alpha)
        for v, (pa, se, how) in e["adjusted"].items():
            dec = primary if v == PRIMARY else decisions[v]
            p_raw = e["raw"][v][0] if v in e["raw"] else e["raw"][PRIMARY][0]
            sens.append({**base, "claim_id": c["claim_id"], "variant": v, "adjustment": how,
                         "p_raw": p_raw, "p_adjusted": pa, "p_mc_se": se, "decision": dec.label,
                         "agrees_with_primary": dec.label == primary.label})
        if c["kind"] == "not_better":
            sens.append({**base, "claim_id": c["claim_id"],
                         "variant": f"equivalence (TOST +-{settings.equivalence_margin_pp:g} pp)",
                         "adjustment": "Holm over the 'not better' claims", "p_raw": e["tost_raw"],
                         "p_adjusted": e.get("tost", np.nan), "p_mc_se": 0.0,
                         "decision": "equivalent" if e.get("tost", 1.0) < settings.alpha else "not shown",
                         "agrees_with_primary": np.nan})
    for a, b, rate in coincide:
        rows.append(_row(
            **base, claim_id=f"distinct_methods:{a}+{b}",
            claim=f"{paper_name(a)} and {paper_name(b)} are different methods (different displays)",
            paper_says="different",
            statistic="shown words the two displays have in common (%, mean over the sample x k tasks)",
            value=100 * rate, test="count over the tasks both methods have",
            family="descriptive (no test)",
            sensitivity=("the crowd saw one method twice: no claim is decided between the two, "
                         "and their score gap is crowd noise"),
            verdict=FAILS))
    fc = flip_counts(aggregate)
    rows.append(_row(
        **base, claim_id="flips_exist", claim="Flips occur for every saliency method (Table 7)",
        paper_says="every method", statistic="fewest Flips of any method (samples)",
        value=float(fc["Flips"].min()), test=f"count over {int(fc['N'].iloc[0])} samples",
        family="descriptive (no test)", verdict=_verdict(bool((fc["Flips"] > 0).all()))))
    return rows, sens


def _display(method: str) -> str:
    return display_name(method)


# ------------------------------------------------------------------------------ Tuckey et al.
def _maps_alike(base: dict, sim: pd.DataFrame) -> dict | None:
    if "lrp" not in sim.index:
        return None
    r = sim.loc["lrp"]
    half = 1.96 * float(r["spearman_sd"]) / math.sqrt(max(int(r["summaries"]), 1))
    lo, hi = float(r["spearman_mean"]) - half, float(r["spearman_mean"]) + half
    control_hi = -np.inf
    if "lrp_shuffled" in sim.index:
        c = sim.loc["lrp_shuffled"]
        control_hi = float(c["spearman_mean"]) + 1.96 * float(c["spearman_sd"]) / math.sqrt(
            max(int(c["summaries"]), 1))
    if lo >= ALIKE_SPEARMAN and lo > control_hi:
        verdict, why = HOLDS, "CI above 0.5 and above the shuffled control"
    elif hi < ALIKE_SPEARMAN or hi <= control_hi:
        verdict, why = FAILS, "CI below 0.5" if hi < ALIKE_SPEARMAN else "CI not above the shuffled control"
    else:
        verdict, why = INCONCLUSIVE, "CI contains 0.5"
    return _row(
        **base, claim_id="maps_alike",
        claim="the LRP maps of different output words look alike", paper_says="alike",
        statistic="mean pairwise Spearman of one summary's word maps, mean over summaries",
        value=float(r["spearman_mean"]), ci_low=lo, ci_high=hi,
        test=f"normal 95% CI over {int(r['summaries'])} summaries; holds if CI low >= "
             f"{ALIKE_SPEARMAN} and above the shuffled control",
        family="CI criterion (no test)", sensitivity=why, verdict=verdict)


def _t_test_p(r: pd.Series) -> float:
    """Paired t-test of the mean difference over articles, from the summary's mean and sd."""
    from scipy.stats import t as student_t

    if "difference_sd" not in r or pd.isna(r.get("difference_sd")) or r["articles"] < 2:
        return np.nan
    sd = float(r["difference_sd"])
    if sd == 0:
        return 0.0 if r["mean_difference"] != 0 else 1.0
    t = float(r["mean_difference"]) / (sd / math.sqrt(r["articles"]))
    return float(2 * student_t.sf(abs(t), int(r["articles"]) - 1))


def _some_articles_p(r: pd.Series, control: pd.Series | None) -> tuple[float, float]:
    """(binomial p against the exact null rate, Fisher p against the random control), one-sided."""
    from scipy.stats import binomtest, fisher_exact

    n, c = int(r["articles"]), int(r["confirmed"])
    rate = float(r["null_rate_max"]) if "null_rate_max" in r and pd.notna(r.get("null_rate_max")) else np.nan
    p_binom = float(binomtest(c, n, rate, alternative="greater").pvalue) if 0 < rate < 1 else np.nan
    p_fisher = np.nan
    if control is not None:
        nc, cc = int(control["articles"]), int(control["confirmed"])
        p_fisher = float(fisher_exact([[c, n - c], [cc, nc - cc]], alternative="greater")[1])
    return p_binom, p_fisher


def tuckey_claims(dataset: str, similarity: pd.DataFrame, counterfactual: pd.DataFrame,
                  alpha: float) -> tuple[list[dict], list[dict]]:
    """The Tuckey et al. claims on one summarization dataset and their sensitivity rows."""
    base = {"paper": "tuckey2019", "dataset": dataset, "crowd_source": ""}
    rows: list[dict] = []
    alike = _maps_alike(base, similarity.set_index("maps"))
    if alike is not None:
        rows.append(alike)
    cf = counterfactual
    tests: list[dict] = []  # one per (measure, kind): claim, primary raw p, variant raw p
    if not cf.empty:
        cf = cf[cf["variant"] == "free"]
    for measure, g in (cf.groupby("measure", sort=True) if not cf.empty else []):
        lrp = g[g["method"] == "lrp"]
        if lrp.empty:
            continue
        ks = sorted(lrp["k"].unique())
        k = ks[len(ks) // 2]
        r = lrp[lrp["k"] == k].iloc[0]
        ctl = g[(g["method"] == "random_control") & (g["k"] == k)]
        control = ctl.iloc[0] if len(ctl) else None
        mean_diff = float(r["mean_difference"]) if "mean_difference" in r else float(
            r["important_mean"] - r["random_mean"])
        p_binom, p_fisher = _some_articles_p(r, control)
        tests.append({"measure": measure, "kind": "average", "k": k, "r": r, "effect": mean_diff,
                      "p": float(r["wilcoxon_p"]), "variant": ("paired t-test", _t_test_p(r))})
        tests.append({"measure": measure, "kind": "some", "k": k, "r": r, "control": control,
                      "effect": 1.0, "p": p_binom,
                      "variant": ("Fisher exact vs the random-ranking control", p_fisher)})
    sens: list[dict] = []
    if tests:
        m = len(tests)
        p_adj = holm(np.array([t["p"] for t in tests]))
        v_adj = holm(np.array([t["variant"][1] for t in tests]))
        family = f"tuckey2019/{dataset}: {m} tests, Holm"
        for t, pa, va in zip(tests, p_adj, v_adj, strict=True):
            rows.append(_tuckey_test_row(base, t, float(pa), float(va), m, family, alpha, sens))
    return rows, sens


def _tuckey_test_row(base: dict, t: dict, p_adj: float, v_adj: float, m: int, family: str,
                     alpha: float, sens: list[dict]) -> dict:
    r, measure, k = t["r"], t["measure"], t["k"]
    primary = inference.decide(p_adj, t["effect"], alpha)
    vname = t["variant"][0]
    variants = {f"{vname}": inference.decide(v_adj, t["effect"], alpha)} if not np.isnan(v_adj) else {}
    variants["primary, unadjusted"] = inference.decide(t["p"], t["effect"], alpha)
    verdict, disagree = inference.combine_verdict(primary, variants)
    missing = "" if not np.isnan(v_adj) else f"; {vname}: n/a (the summary table lacks its inputs)"
    reason = (_agreement(len(variants)) if not disagree else "disagree: " + "; ".join(
        f"{v} ({variants[v].label})" for v in disagree)) + missing
    for v, dec, pr, pa in [("primary", primary, t["p"], p_adj), (vname, variants.get(vname), t["variant"][1], v_adj),
                           ("primary, unadjusted", variants["primary, unadjusted"], t["p"], t["p"])]:
        if dec is None:
            continue
        sens.append({**base, "claim_id": f"deletion_{t['kind']}:{measure}", "variant": v,
                     "adjustment": "none" if v == "primary, unadjusted" else f"Holm over {m}",
                     "p_raw": pr, "p_adjusted": pa, "p_mc_se": 0.0, "decision": dec.label,
                     "agrees_with_primary": dec.label == primary.label})
    n = int(r["articles"])
    if t["kind"] == "average":
        lo = hi = np.nan
        if "difference_sd" in r and pd.notna(r.get("difference_sd")) and n > 1:
            from scipy.stats import t as student_t

            half = student_t.ppf(1 - alpha / (2 * m), n - 1) * float(r["difference_sd"]) / math.sqrt(n)
            lo, hi = t["effect"] - half, t["effect"] + half
        return _row(
            **base, claim_id=f"deletion_average:{measure}",
            claim=f"on average, deleting the top-LRP words changes the summary more than random deletion ({measure})",
            paper_says="sometimes",
            statistic=(f"mean over articles of (top-k change - mean random change) at k = {k:g}; "
                       f"simultaneous CI (Bonferroni over the family)"),
            value=t["effect"], ci_low=lo, ci_high=hi,
            test=f"Wilcoxon signed-rank over {n} articles (important vs mean random change)",
            family=family, p_value=p_adj, p_mc_se=0.0, sensitivity=reason, verdict=verdict)
    control = t.get("control")
    ctl = ("" if control is None else
           f", random-ranking control {float(control['confirmed_fraction']):.3g}")
    if verdict == HOLDS and int(r["confirmed"]) == n:
        verdict, reason = FAILS, "every article is confirmed: not 'some and not others'"
    return _row(
        **base, claim_id=f"deletion_some_articles:{measure}",
        claim=f"the top-LRP deletion is confirmed for some articles (more than by chance) and not for others ({measure})",
        paper_says="sometimes",
        statistic=(f"fraction of articles whose own p <= {alpha:g} at k = {k:g} (95% CI); "
                   f"null rate {float(r.get('null_rate_max', np.nan)):.3g} with R = "
                   f"{int(r['draws']) if 'draws' in r and pd.notna(r.get('draws')) else 'n/a'}{ctl}"),
        value=float(r["confirmed_fraction"]), ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]),
        test=f"one-sided exact binomial test of {int(r['confirmed'])}/{n} against the null rate",
        family=family, p_value=p_adj, p_mc_se=0.0, sensitivity=reason, verdict=verdict)


def claims_frame(rows: Sequence[dict]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=CLAIM_COLUMNS)


def sensitivity_frame(rows: Sequence[dict]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=SENSITIVITY_COLUMNS)


# ------------------------------------------------------------------------------ README block
README_BEGIN = "<!-- claims:{name}:begin (generated from {path}; do not edit by hand) -->"
README_END = "<!-- claims:{name}:end -->"


def readme_block(claims: pd.DataFrame, name: str, path: str | os.PathLike) -> str:
    """The README's results block for one claims table, between its markers."""
    lines = [README_BEGIN.format(name=name, path=path), "",
             "| dataset | claim | statistic | value [CI] | test, p | family | sensitivity | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]

    def cell(v: object) -> str:
        return "" if pd.isna(v) else str(v)

    for r in claims.itertuples(index=False):
        ci = "" if pd.isna(r.ci_low) else f" [{r.ci_low:.3g}, {r.ci_high:.3g}]"
        p = "" if pd.isna(r.p_value) else f", p = {r.p_value:.3g}"
        if not pd.isna(getattr(r, "p_mc_se", np.nan)) and getattr(r, "p_mc_se", 0) > 0:
            p += f" (MC s.e. {r.p_mc_se:.2g})"
        lines.append(f"| {r.dataset} | {r.claim} | {r.statistic} | {r.value:.3g}{ci} | "
                     f"{r.test}{p} | {cell(getattr(r, 'family', ''))} | "
                     f"{cell(getattr(r, 'sensitivity', ''))} | **{r.verdict}** |")
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
SENSITIVITY_CAPTION = (
    " Sensitivity analysis of {what}: one row per claim and pre-declared analysis variant, with "
    "its raw and adjusted p, its Monte-Carlo standard error where estimated, its decision at "
    "alpha and whether it agrees with the primary test; a claim holds or does not hold only when "
    "every variant agrees, otherwise it is inconclusive.")


def lu_claims_step(significance: Sequence[str], aggregates: Sequence[str], datasets: Sequence[str],
                   crowd_source: str, crowd_cfg: dict, stem: str, caption: str,
                   sensitivity_stem: str) -> None:
    """``claims_lu2024``: the claims of Lu et al. on every dataset of one crowd source, and
    the sensitivity table beside it."""
    from saliency_repro.reporting import write_table

    settings = SignificanceSettings.from_config(crowd_cfg)
    rows: list[dict] = []
    sens: list[dict] = []
    for sig, agg, ds in zip(significance, aggregates, datasets, strict=True):
        r, s = lu_claims(ds, crowd_source, pd.read_csv(sig), pd.read_parquet(agg), settings)
        rows += r
        sens += s
    write_table(claims_frame(rows), stem, caption, float_format="{:.4g}")
    write_table(sensitivity_frame(sens), sensitivity_stem,
                caption + SENSITIVITY_CAPTION.format(what="the claims table"), float_format="{:.4g}")


def tuckey_claims_step(similarity: Sequence[str], counterfactual: Sequence[str],
                       datasets: Sequence[str], alpha: float, stem: str, caption: str,
                       sensitivity_stem: str) -> None:
    """``claims_tuckey2019``: the claims of Tuckey et al. on every summarization dataset, and
    the sensitivity table beside it."""
    from saliency_repro.reporting import write_table

    rows: list[dict] = []
    sens: list[dict] = []
    for sim, cf, ds in zip(similarity, counterfactual, datasets, strict=True):
        r, s = tuckey_claims(ds, pd.read_csv(sim), pd.read_csv(cf), alpha)
        rows += r
        sens += s
    write_table(claims_frame(rows), stem, caption, float_format="{:.4g}")
    write_table(sensitivity_frame(sens), sensitivity_stem,
                caption + SENSITIVITY_CAPTION.format(what="the claims table"), float_format="{:.4g}")
