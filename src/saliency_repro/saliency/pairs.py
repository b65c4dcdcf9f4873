"""Which saliency methods are one method in disguise: a diagnostic for every pair of methods.

Two methods that give (nearly) the same word scores show the crowd the same displays; every
crowd table then compares a method with itself, and the gap between their scores is crowd noise
(with the MiniLM backbone DEEPLIFT is INPUT×GRAD, :mod:`saliency_repro.saliency.deeplift`
says why). For every pair of methods, over the attributed samples:

* ``r_mean`` / ``r_min``: Pearson correlation of the two methods' word scores within a sample,
  mean and minimum over the samples where both vary (samples with fewer than 3 words, or
  constant scores, are left out; ``n_samples_r`` counts the rest);
* ``display_overlap``: mean share of the top-k words the two displays have in common, over
  the (sample, k) displays of the display grid ``ks`` (Table 1's measure), and per k;
* ``identical_display_rate``: fraction of those displays whose top-k words are the same set
  (what the crowd sees), and per k.

A pair *coincides* when ``display_overlap >= min_overlap`` and ``r_mean >= min_r`` (defaults
:data:`MIN_OVERLAP`, :data:`MIN_R`): the crowd cannot tell the two apart, and no claim may be
decided between them by crowd scores. The identical-display rate alone is too strict for that:
on MiniLM, IMDB (``configs/local.yaml``) DEEPLIFT and INPUT×GRAD have r = 0.99996 and share
99.7 % of their top-40 words, yet a score difference in the fifth decimal swaps one word at
the edge of the top-k in 7.5 % of the displays, which are then not identical. :func:`coinciding_pairs` returns them from
the diagnostics file of the ``attribute`` rule (``results/<run>/saliency/<dataset>/
<sample_set>/diagnostics.json``, key :data:`KEY`) or from the rows themselves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.attribution.ranking import top_k
from saliency_repro.names import ordered, paper_name

#: key of the pair diagnostic in the attribute rule's diagnostics.json
KEY = "method_pairs"
#: a pair coincides from this mean share of shown words in common ...
MIN_OVERLAP = 0.95
#: ... and this mean within-sample correlation of the word scores
MIN_R = 0.99


def method_pair_diagnostic(word_scores: pd.DataFrame, ks: Sequence[int], rank_by: str = "score",
                           min_overlap: float = MIN_OVERLAP, min_r: float = MIN_R) -> list[dict[str, Any]]:
    """One row per unordered pair of methods (table order), see the module docstring.

    ``word_scores`` is the long frame of the attribute rule (``sample_id, method, word_index,
    score``); ``ks`` the dataset's display sizes.
    """
    if word_scores.empty:
        return []
    methods = ordered(word_scores["method"].unique())
    wide = {m: {sid: g.sort_values("word_index")["score"].to_numpy(dtype=float)
                for sid, g in word_scores[word_scores["method"] == m].groupby("sample_id", sort=True)}
            for m in methods}
    rows = []
    for a, b in combinations(methods, 2):
        samples = sorted(set(wide[a]) & set(wide[b]))
        rs = []
        same = {int(k): [] for k in ks}
        shared = {int(k): [] for k in ks}
        for sid in samples:
            x, y = wide[a][sid], wide[b][sid]
            if len(x) != len(y):
                continue
            if len(x) >= 3 and np.nanstd(x) > 0 and np.nanstd(y) > 0:
                ok = ~(np.isnan(x) | np.isnan(y))
                if ok.sum() >= 3:
                    rs.append(float(np.corrcoef(x[ok], y[ok])[0, 1]))
            for k in same:
                top_x, top_y = set(top_k(x, k, rank_by).tolist()), set(top_k(y, k, rank_by).tolist())
                same[k].append(top_x == top_y)
                shared[k].append(len(top_x & top_y) / max(len(top_x), len(top_y), 1))
        flat = [v for vals in same.values() for v in vals]
        rate = float(np.mean(flat)) if flat else float("nan")
        flat_shared = [v for vals in shared.values() for v in vals]
        overlap = float(np.mean(flat_shared)) if flat_shared else float("nan")
        r_mean = float(np.mean(rs)) if rs else float("nan")
        rows.append({
            "method_a": a, "method_b": b, "n_samples": len(samples), "n_samples_r": len(rs),
            "r_mean": r_mean, "r_min": float(np.min(rs)) if rs else float("nan"),
            "display_overlap": overlap,
            "display_overlap_by_k": {str(k): float(np.mean(v)) if v else float("nan")
                                     for k, v in shared.items()},
            "identical_display_rate": rate,
            "identical_display_rate_by_k": {str(k): float(np.mean(v)) if v else float("nan")
                                            for k, v in same.items()},
            "coincide": bool(overlap >= min_overlap and r_mean >= min_r),
        })
    return rows


def _rows(diagnostic: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | os.PathLike) -> list[Mapping[str, Any]]:
    if isinstance(diagnostic, (str, os.PathLike)):
        with open(diagnostic, encoding="utf-8") as fh:
            diagnostic = json.load(fh)
    if isinstance(diagnostic, Mapping):
        if KEY not in diagnostic:
            raise ValueError(f"diagnostics have no {KEY!r} entry (written by the attribute rule "
                             "since the method-pair diagnostic exists; rerun it)")
        diagnostic = diagnostic[KEY]
    return list(diagnostic)


def coinciding_pairs(diagnostic: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | os.PathLike
                     ) -> list[tuple[str, str]]:
    """``(method_a, method_b)`` (method ids, table order) of every pair that coincides.

    ``diagnostic``: the path of an attribute rule's ``diagnostics.json``, its parsed content,
    or the rows of :func:`method_pair_diagnostic`.
    """
    return [(str(r["method_a"]), str(r["method_b"])) for r in _rows(diagnostic) if r.get("coincide")]


def coincidence_note(diagnostic: Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | os.PathLike) -> str:
    """A caption sentence naming every coinciding pair with its numbers ('' when none)."""
    rows = [r for r in _rows(diagnostic) if r.get("coincide")]
    if not rows:
        return ""
    parts = [f"{paper_name(r['method_a'])} and {paper_name(r['method_b'])} (word-score r = "
             f"{r['r_mean']:.4f} mean within a sample, shown words in common "
             f"{100 * r['display_overlap']:.1f} %, identical displays "
             f"{100 * r['identical_display_rate']:.0f} % of {r['n_samples']} samples x k)"
             for r in rows]
    return ("Coinciding methods: " + "; ".join(parts) + ". Such a pair is one method shown twice: "
            "the crowd sees the same displays, and any difference of their crowd scores is noise "
            "(for DEEPLIFT and INPUT×GRAD see deeplift_rescale_gap in the attribute diagnostics).")


def pair_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The diagnostic as a flat table (paper names; one identical-display column per k): the
    committed `method_pairs_<dataset>` table beside Table 1."""
    out = []
    for r in rows:
        row = {"method A": paper_name(r["method_a"]), "method B": paper_name(r["method_b"]),
               "r (mean)": r["r_mean"], "r (min)": r["r_min"],
               "shown words in common": r["display_overlap"],
               "identical displays": r["identical_display_rate"]}
        by_k = sorted(r["identical_display_rate_by_k"].items(), key=lambda kv: int(kv[0]))
        row.update({f"identical k={k}": v for k, v in by_k})  # 5, 10, ... (JSON sorts "10" < "5")
        row["coincide"] = "yes" if r["coincide"] else ""
        out.append(row)
    return pd.DataFrame(out)
