"""Scores of saliency methods from A_ijk: equation (2), ranks, Flips and Aids (Lu et al. 2024).

- p_jk = mean_i A_ijk (accuracy of method j with k shown words);
- w_k = sum_j sum_k p_jk / (K^2 sum_j p_jk): a k where all methods do worse weighs more;
- s_j = sum_k w_k p_jk.
Ranks are competition ranks (ties share the best rank, the next rank is skipped), as printed
in Tables 3 and 4 (e.g. two methods at 81 % both rank 1, the next ranks 3).

A sample is *Flipped* for method j when humans recognise its label with some k1 words but not
with some k2 > k1 (section 4.2 Q3). *Aids* follows the caption of Table 7:
Aids = N - #Flips - #(samples recognised at every k).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from saliency_repro.names import display_name, ordered


def method_order(methods) -> list[str]:
    """Methods in the paper's table order, unknown ones last."""
    return ordered(methods)


def accuracy(aggregate: pd.DataFrame) -> pd.DataFrame:
    """p_jk as a methods x k frame (fractions in [0, 1])."""
    p = aggregate.pivot_table(index="method", columns="k", values="correct", aggfunc="mean")
    return p.loc[method_order(p.index)].sort_index(axis=1)


def weights(p: pd.DataFrame) -> pd.Series:
    """w_k of equation (2)."""
    K = p.shape[1]
    return p.to_numpy().sum() / (K * K * p.sum(axis=0))


def score(p: pd.DataFrame) -> pd.Series:
    """s_j of equation (2) (same scale as p)."""
    return (p * weights(p)).sum(axis=1)


def competition_rank(values: pd.Series) -> pd.Series:
    """1 = best; ties share the smaller rank ("1224" ranking)."""
    return values.rank(method="min", ascending=False).astype(int)


def scores_frame(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Long numeric frame: method, k (or 'Score'), value_% , rank."""
    p = accuracy(aggregate) * 100
    rows = []
    for k in p.columns:
        ranks = competition_rank(p[k].round(6))
        rows += [{"method": m, "column": f"{k} Words", "value": float(p.at[m, k]),
                  "rank": int(ranks[m])} for m in p.index]
    s = score(p)
    ranks = competition_rank(s.round(6))
    rows += [{"method": m, "column": "Score", "value": float(s[m]), "rank": int(ranks[m])}
             for m in p.index]
    return pd.DataFrame(rows)


def fmt_cell(value: float, rank: int, column: str) -> str:
    """Cell as printed in Tables 3/4: integer % for k columns, one decimal for Score."""
    v = f"{value:.1f}" if column == "Score" else f"{value:.0f}"
    return f"{v} ({rank})"


def wide_scores(long: pd.DataFrame) -> pd.DataFrame:
    """Paper layout: one row per method, one column per k, then Score, cells 'value (rank)'."""
    cells = long.assign(cell=[fmt_cell(v, r, c) for v, r, c in
                              zip(long["value"], long["rank"], long["column"], strict=True)])
    wide = cells.pivot(index="method", columns="column", values="cell")
    cols = sorted([c for c in wide.columns if c != "Score"], key=lambda c: int(c.split()[0]))
    wide = wide.loc[method_order(wide.index), cols + ["Score"]]
    wide.insert(0, "Method", [display_name(m) for m in wide.index])
    return wide.reset_index(drop=True).rename_axis(columns=None)


def _flipped(correct: np.ndarray) -> bool:
    """Some earlier 1 followed later by a 0 (the paper's Flip)."""
    if len(correct) < 2:
        return False
    seen_one = np.maximum.accumulate(correct) > 0
    return bool(np.any((correct[1:] == 0) & seen_one[:-1]))


def flips(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Per (sample, method): flipped, all_correct, aided (Aids definition of Table 7), and
    ``flipped_distinct``: the Flip counted only between *different* displays. When a text has
    fewer words than k, the displays at k and at a larger k are the same string; a different
    majority answer there is two crowds disagreeing on one display, not the effect of more
    words, so ``flipped_distinct`` keeps the first k of each run of identical displays."""
    rows = []
    for (sid, method), grp in aggregate.groupby(["sample_id", "method"], sort=False):
        # unanswered tasks (NaN) are left out: Flips and all-correct over the answered k
        answered = grp.dropna(subset=["correct"]).sort_values("k")
        a = answered["correct"].to_numpy()
        if "display" in answered.columns:
            shown = answered["display"].to_numpy()
            first_of_run = np.r_[True, shown[1:] != shown[:-1]] if len(shown) else np.zeros(0, bool)
            distinct = _flipped(a[first_of_run])
        else:
            distinct = _flipped(a)
        flipped = _flipped(a)
        all_correct = bool(a.all())
        rows.append({"sample_id": sid, "method": method, "flipped": flipped,
                     "flipped_distinct": distinct, "all_correct": all_correct,
                     "aided": not flipped and not all_correct})
    return pd.DataFrame(rows)


def flip_counts(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Table 7 columns for one dataset: method, Flips, Aids, all-correct, N, and Flips between
    distinct displays only (:func:`flips`)."""
    f = flips(aggregate)
    n = aggregate["sample_id"].nunique()
    g = f.groupby("method").agg(Flips=("flipped", "sum"), All_correct=("all_correct", "sum"),
                                Flips_distinct=("flipped_distinct", "sum"))
    g = g.loc[method_order(g.index)]
    g["Aids"] = n - g["Flips"] - g["All_correct"]
    g["N"] = n
    g.insert(0, "Method", [display_name(m) for m in g.index])
    g = g.rename(columns={"Flips_distinct": "Flips (distinct displays)"})
    return g.reset_index(drop=True)[["Method", "Flips", "Aids", "All_correct", "N", "Flips (distinct displays)"]]


def flip_histogram_counts(aggregate: pd.DataFrame) -> pd.Series:
    """Figure 3 data: number of samples (value) by number of methods it Flipped with (index)."""
    f = flips(aggregate)
    per_sample = f.groupby("sample_id")["flipped"].sum()
    n_methods = f["method"].nunique()
    return per_sample.value_counts().reindex(range(n_methods + 1), fill_value=0).sort_index()


def flip_example(aggregate: pd.DataFrame, prefer: str = "integrated_gradients") -> pd.DataFrame:
    """A Table 6-style example: the displays of one Flipped (sample, method) with A per k.

    Picks the first Flipped pair (in sample order) of ``prefer`` (the paper shows INTEGRATED
    GRADIENT), else of any method, among the Flips between *different* displays first: a Flip
    between two identical displays of a text shorter than k (a one-word review shown at every
    k) shows nothing about more words. Returns an empty frame when nothing Flips.
    """
    f = flips(aggregate)
    flipped = f[f["flipped"]]
    if flipped.empty:
        return pd.DataFrame(columns=["Method", "sample_id", "# Words", "Correct", "Text"])
    pick = flipped.sort_values(["flipped_distinct"], ascending=False, kind="stable")
    pick = pick[pick["flipped_distinct"] == pick["flipped_distinct"].iloc[0]]
    if (pick["method"] == prefer).any():
        pick = pick[pick["method"] == prefer]
    sid, method = pick.iloc[0]["sample_id"], pick.iloc[0]["method"]
    rows = aggregate[(aggregate["sample_id"] == sid) & (aggregate["method"] == method)]
    rows = rows.sort_values("k")
    return pd.DataFrame({
        "Method": display_name(method),
        "sample_id": sid,
        "# Words": rows["k"].to_numpy(),
        "Correct": np.where(rows["correct"].to_numpy() == 1, "✓", "✗"),
        "Text": rows["display"].to_numpy() if "display" in rows else "",
    })


def display_words(display: str) -> int:
    """Words of a display (tokens with a letter or digit; the released displays keep
    punctuation as tokens)."""
    return sum(any(c.isalnum() for c in token) for token in str(display).split())


def shown_whole(aggregate: pd.DataFrame) -> pd.Series:
    """Per k: the samples whose display at k is their whole text (at most k words), and the
    number of samples. There every method shows the same words, so p_jk cannot tell the
    methods apart; short-text corpora (TREC, SST-2) hit this at the paper's k grid.

    A display at k with fewer than k words is the whole text; one with exactly k words is, when
    a larger k of the grid shows no more words."""
    if "display" not in aggregate.columns or aggregate.empty:
        return pd.Series(dtype=int)
    per = (aggregate.assign(words=aggregate["display"].map(display_words))
           .groupby(["sample_id", "k"])["words"].max().unstack("k").sort_index(axis=1))
    ks = list(per.columns)
    whole = {}
    for i, k in enumerate(ks):
        words = per[k]
        larger_same = (per[ks[i + 1:]].eq(words, axis=0).any(axis=1) if i + 1 < len(ks)
                       else pd.Series(False, index=per.index))
        whole[k] = int(((words < k) | ((words == k) & larger_same)).sum())
    return pd.Series(whole, name=len(per))


def shown_whole_note(aggregate: pd.DataFrame) -> str:
    """A caption sentence for the k at which most samples are shown whole (empty if none)."""
    counts = shown_whole(aggregate)
    most = [f"k = {k}: {n} of {counts.name}" for k, n in counts.items() if n > counts.name / 2]
    if not most:
        return ""
    return (f" Most samples are shown whole (the text has at most k words, so every method shows "
            f"the same words) at {'; '.join(most)}; a smaller k (datasets.<name>.saliency.k) suits "
            f"such short texts.")


def misclassified_counts(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Tables 8/9: count of samples recognised correctly per method and k."""
    c = aggregate.pivot_table(index="method", columns="k", values="correct", aggfunc="sum")
    c = c.loc[method_order(c.index)].sort_index(axis=1).astype(int)
    c.columns = [f"{k} Words" for k in c.columns]
    c.insert(0, "Method", [display_name(m) for m in c.index])
    out = c.reset_index(drop=True)
    out["N"] = int(aggregate["sample_id"].nunique())
    return out
