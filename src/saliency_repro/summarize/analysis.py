"""Quantifying the paper's observations on the LRP maps.

* Similarity: Tuckey et al. found the maps of different output words "almost the same". We
  measure, per summary, the mean pairwise Spearman and cosine similarity between the maps of its
  different output words, and compare with the attention distributions of the same steps and
  with a shuffled control (each map's values permuted over the input positions independently,
  which keeps every map's value distribution but destroys positional agreement).
* Recall (demo only, where the source position of each summary word is known): the fraction of
  a word's known source positions among its map's top-k input positions, against attention and
  the chance level k / S.
* Conservation: the per-map breakdown of the explained logit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def _transform(m: np.ndarray, how: str) -> np.ndarray:
    return np.abs(m) if how == "abs" else m


def pairwise_similarity(maps: np.ndarray) -> tuple[float, float]:
    """Mean pairwise (Spearman, cosine) over the rows of ``maps`` [T, S]; nan if T < 2.

    Spearman is the Pearson correlation of average ranks (as scipy's ``spearmanr``), computed
    for all pairs at once; rows that are constant (undefined correlation) or zero (undefined
    cosine) are left out of the respective mean."""
    maps = np.asarray(maps, dtype=float)
    if maps.shape[0] < 2 or maps.shape[1] < 2:
        return float("nan"), float("nan")
    iu = np.triu_indices(maps.shape[0], k=1)
    ranks = rankdata(maps, axis=1)
    centred = ranks - ranks.mean(axis=1, keepdims=True)
    sd = np.linalg.norm(centred, axis=1)
    ok = sd > 0
    z = centred / np.where(ok, sd, 1.0)[:, None]
    sp = (z @ z.T)[iu][(ok[:, None] & ok[None, :])[iu]]
    norm = np.linalg.norm(maps, axis=1)
    okc = norm > 0
    u = maps / np.where(okc, norm, 1.0)[:, None]
    co = (u @ u.T)[iu][(okc[:, None] & okc[None, :])[iu]]
    return (float(sp.mean()) if sp.size else float("nan"), float(co.mean()) if co.size else float("nan"))


def similarity_per_summary(
    maps: pd.DataFrame, transform: str = "signed", shuffles: int = 10, seed: int = 0,
) -> pd.DataFrame:
    """One row per (summary, kind): mean pairwise similarity of its output-word maps.

    ``maps``: one row per explained output word with ``id``, ``step``, ``source`` (list) and
    ``attention`` (list). Kinds: ``lrp``, ``attention``, ``lrp_shuffled``, ``attention_shuffled``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for id_, group in maps.sort_values(["id", "step"]).groupby("id", sort=True):
        if len(group) < 2:
            continue
        mats = {"lrp": _transform(np.stack(group["source"].map(np.asarray).tolist()), transform),
                "attention": np.stack(group["attention"].map(np.asarray).tolist())}
        for kind, m in mats.items():
            sp, co = pairwise_similarity(m)
            rows.append({"id": id_, "kind": kind, "spearman": sp, "cosine": co, "n_words": len(m)})
            sps, cos = [], []
            for _ in range(shuffles):
                perm = np.stack([row[rng.permutation(m.shape[1])] for row in m])
                s_, c_ = pairwise_similarity(perm)
                sps.append(s_)
                cos.append(c_)
            rows.append({"id": id_, "kind": f"{kind}_shuffled", "spearman": np.nanmean(sps),
                         "cosine": np.nanmean(cos), "n_words": len(m)})
    return pd.DataFrame(rows)


def similarity_table(per_summary: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD and count over summaries of the per-summary similarities, per kind."""
    order = ["lrp", "attention", "lrp_shuffled", "attention_shuffled"]
    out = []
    for kind in order:
        sub = per_summary[per_summary["kind"] == kind] if len(per_summary) else per_summary
        out.append({
            "maps": kind, "summaries": int(len(sub)),
            "spearman_mean": sub["spearman"].mean() if len(sub) else np.nan,
            "spearman_sd": sub["spearman"].std() if len(sub) else np.nan,
            "cosine_mean": sub["cosine"].mean() if len(sub) else np.nan,
            "cosine_sd": sub["cosine"].std() if len(sub) else np.nan,
            "output_words_mean": sub["n_words"].mean() if len(sub) else np.nan,
        })
    return pd.DataFrame(out)


def topk_recall(scores: np.ndarray, known: Sequence[int], k: int) -> float:
    """Fraction of the ``known`` positions among the ``k`` highest ``scores`` (ties: lower index)."""
    known = set(int(p) for p in known)
    if not known:
        return float("nan")
    top = np.argsort(-scores, kind="stable")[:k]
    return len(known.intersection(top.tolist())) / len(known)


def recall_table(maps: pd.DataFrame, ks: Sequence[int], transform: str = "signed") -> pd.DataFrame:
    """Top-k recall of the known source token positions (column ``known_positions``) for LRP,
    attention and chance (k / S capped at 1), averaged over output words that have any."""
    rows = []
    usable = maps[maps["known_positions"].map(len) > 0]
    for k in ks:
        rec = {"lrp": [], "attention": [], "chance": []}
        for _, r in usable.iterrows():
            src = _transform(np.asarray(r["source"]), transform)
            rec["lrp"].append(topk_recall(src, r["known_positions"], k))
            rec["attention"].append(topk_recall(np.asarray(r["attention"]), r["known_positions"], k))
            n_known = len(r["known_positions"])
            rec["chance"].append(min(1.0, k / len(src)) if n_known else np.nan)
        for method, vals in rec.items():
            rows.append({"method": method, "k": k, "recall": float(np.nanmean(vals)) if vals else np.nan,
                         "output_words": len(vals)})
    return pd.DataFrame(rows)


def conservation_table(maps: pd.DataFrame) -> pd.DataFrame:
    """Where the explained logits' relevance went, in absolute terms and as shares of |logit|."""
    src = maps["source_total"].to_numpy()
    dec = maps["decoder_total"].to_numpy()
    ab = maps["absorbed"].to_numpy()
    lg = maps["logit"].to_numpy()
    resid = lg - src - dec - ab
    denom = np.abs(src) + np.abs(dec) + np.abs(ab)
    denom = np.where(denom > 0, denom, 1.0)
    rows = [
        {"quantity": "explained logit", "mean": lg.mean(), "sd": lg.std(ddof=1) if len(lg) > 1 else np.nan},
        {"quantity": "input words (source)", "mean": src.mean(), "sd": src.std(ddof=1) if len(lg) > 1 else np.nan},
        {"quantity": "decoder-side inputs", "mean": dec.mean(), "sd": dec.std(ddof=1) if len(lg) > 1 else np.nan},
        {"quantity": "absorbed (bias + stabilizer)", "mean": ab.mean(), "sd": ab.std(ddof=1) if len(lg) > 1 else np.nan},
        {"quantity": "share |source| / total |parts|", "mean": (np.abs(src) / denom).mean(), "sd": np.nan},
        {"quantity": "share |decoder| / total |parts|", "mean": (np.abs(dec) / denom).mean(), "sd": np.nan},
        {"quantity": "share |absorbed| / total |parts|", "mean": (np.abs(ab) / denom).mean(), "sd": np.nan},
        {"quantity": "max |residual| (logit - parts)", "mean": float(np.abs(resid).max()) if len(resid) else np.nan, "sd": np.nan},
    ]
    df = pd.DataFrame(rows)
    df["maps"] = len(maps)
    return df
