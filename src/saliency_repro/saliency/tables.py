"""Table 1 (method overlap), Table 2 (the methods), Figure 4 (top-5 words on one text) and the
rationale check (recall@k and AUPRC against the planted cues of the synthetic corpora)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from saliency_repro.attribution.ranking import apply_sign, top_k
from saliency_repro.attribution.registry import get_method
from saliency_repro.names import ordered, paper_name
from saliency_repro.saliency.settings import (
    AGGREGATION_PHRASE,
    explained_class_phrase,
    saliency_settings_note,
    setting,
    word_aggregation_for,
)

__all__ = ["method_table", "overlap_table", "overlap_vs_paper", "pick_figure_sample", "rationale_table",
           "saliency_settings_note", "top_sets", "top_words_figure"]


def _ordered(methods: Sequence[str]) -> list[str]:
    return ordered(methods)


def top_sets(word_scores: pd.DataFrame, k: int, rank_by: str = "score") -> dict[tuple[str, str], set[int]]:
    """``{(sample_id, method): set of word_index}`` of each top-k selection."""
    out = {}
    for (sid, method), g in word_scores.groupby(["sample_id", "method"], sort=False):
        g = g.sort_values("word_index")
        idx = g["word_index"].to_numpy()
        out[(sid, method)] = {int(idx[i]) for i in top_k(g["score"].to_numpy(), k, rank_by)}
    return out


def overlap_table(word_scores: pd.DataFrame, k: int = 40, rank_by: str = "score",
                  include_random: bool = False) -> pd.DataFrame:
    """Paper Table 1: mean over samples of |top-k(A) ∩ top-k(B)| / k, in percent.

    A sample with fewer than k words divides by its number of words (both methods then show
    every word, which is full overlap, as it would be for the crowd). The random baseline is
    left out by default, as in the paper.
    """
    methods = _ordered(word_scores["method"].unique()) if len(word_scores) else []
    if not include_random:
        methods = [m for m in methods if m != "random"]
    names = [paper_name(m) for m in methods]
    if not methods:
        return pd.DataFrame({"method": []})
    sets = top_sets(word_scores[word_scores["method"].isin(methods)], k, rank_by)
    n_words = word_scores.groupby("sample_id")["word_index"].nunique()
    samples = sorted(n_words.index)
    mat = np.zeros((len(methods), len(methods)))
    for i, a in enumerate(methods):
        for j, b in enumerate(methods):
            vals = [len(sets[(s, a)] & sets[(s, b)]) / max(1, min(k, int(n_words[s])))
                    for s in samples]
            mat[i, j] = 100.0 * float(np.mean(vals))
    df = pd.DataFrame(mat, columns=names)
    df.insert(0, "method", names)
    return df


def overlap_vs_paper(df: pd.DataFrame, printed: dict[str, dict[str, float]]) -> pd.DataFrame:
    """This run's Table 1 (:func:`overlap_table`) stacked over the printed one and their
    difference, in the same columns: a ``source`` column says ``this run``, ``paper`` or
    ``this run - paper`` (NaN where either side lacks the pair). Methods are this run's,
    matched to the printed table by id; nothing is forced to agree."""
    from saliency_repro.names import method_order

    by_name = {paper_name(m): m for m in method_order()}
    methods = [by_name.get(n, n) for n in df["method"]]
    ours = df.set_index("method")
    blocks = []
    for source in ("this run", "paper", "this run - paper"):
        rows = []
        for a, name_a in zip(methods, df["method"], strict=True):
            row: dict = {"source": source, "method": name_a}
            for b, name_b in zip(methods, df["method"], strict=True):
                paper = printed.get(a, {}).get(b, float("nan"))
                run = float(ours.loc[name_a, name_b])
                row[name_b] = {"this run": run, "paper": paper}.get(source, run - paper)
            rows.append(row)
        blocks.append(pd.DataFrame(rows))
    return pd.concat(blocks, ignore_index=True)


def method_table(methods: Sequence[str], cfg: dict | None = None) -> pd.DataFrame:
    """Paper Table 2 (type and class-specificity) plus how each method is computed here.

    Besides the paper's columns, every row says what was explained (``Explained class``: the
    predicted class or the true label for class-specific methods), what the attributions are
    taken with respect to (``Input space``), how word pieces became a word (``Word score``) and
    the method's own settings, including which LIME variant ran, so that a table never hides a
    choice that changes the displays.
    """
    cfg = cfg or {}
    space = setting(cfg, "input_space")
    rows = []
    for m in _ordered(methods):
        spec = get_method(m)
        how = word_aggregation_for(m, cfg)
        rows.append({"Method": spec.paper, "Type": spec.type,
                     "Class-specific": "yes" if spec.class_specific else "no",
                     "Explained class": explained_class_phrase(cfg) if spec.class_specific else "n/a",
                     "Input space": space if spec.uses_input_space else "n/a",
                     "Word score": "one draw per word" if spec.word_aggregation is None else AGGREGATION_PHRASE[how],
                     "Implementation": spec.implementation, "Setting": spec.load().setting_text(cfg)})
    return pd.DataFrame(rows)


def rationale_table(word_scores: pd.DataFrame, samples: pd.DataFrame, ks: Sequence[int],
                    sample_set: str, rank_by: str = "score") -> pd.DataFrame:
    """Recall@k and AUPRC of each method against the planted rationale, averaged over samples.

    recall@k = |top-k words ∩ rationale| / |rationale| (positions in ``text.split()``);
    AUPRC = average precision of the word scores with the rationale words as positives.
    Samples without a rationale are skipped; ``n_samples`` says how many counted.
    """
    from sklearn.metrics import average_precision_score

    rat = {str(i): set(int(p) for p in r) for i, r in zip(samples["id"], samples["rationale"], strict=True)
           if r is not None and len(r)}
    rows = []
    methods = _ordered(word_scores["method"].unique()) if len(word_scores) else []
    for m in methods:
        g_m = word_scores[(word_scores["method"] == m) & word_scores["sample_id"].isin(rat)]
        recalls = {k: [] for k in ks}
        aps = []
        for sid, g in g_m.groupby("sample_id"):
            g = g.sort_values("word_index")
            pos = g["text_position"].to_numpy()
            truth = np.isin(pos, list(rat[sid]))
            scores = g["score"].to_numpy(dtype=float)
            ranked = apply_sign(scores, rank_by)
            for k in ks:
                top = set(pos[top_k(scores, k, rank_by)].tolist())
                recalls[k].append(len(top & rat[sid]) / len(rat[sid]))
            if truth.any() and not truth.all():
                aps.append(average_precision_score(truth, np.nan_to_num(ranked, nan=-np.inf)))
        row = {"sample_set": sample_set, "method": paper_name(m), "n_samples": len(aps)}
        for k in ks:
            row[f"recall@{k}"] = float(np.mean(recalls[k])) if recalls[k] else float("nan")
        row["AUPRC"] = float(np.mean(aps)) if aps else float("nan")
        rows.append(row)
    if not rows:
        row = {"sample_set": sample_set, "method": "(no samples)", "n_samples": 0}
        row.update({f"recall@{k}": float("nan") for k in ks})
        row["AUPRC"] = float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def pick_figure_sample(samples: pd.DataFrame, k: int = 5, max_words: int = 70) -> str | None:
    """The text shown in Figure 4: the first correct sample of the first label (the paper shows
    a negative review) with more than ``k`` and at most ``max_words`` words, else the shortest
    text longer than ``k``, else the longest. A text of ``k`` words or fewer would show every
    word marked by every method, which says nothing about the methods."""
    if samples.empty:
        return None
    df = samples.assign(_n=samples["text"].astype(str).str.split().str.len())
    longer = df[df["_n"] > k]
    fits = longer[longer["_n"] <= max_words].sort_values(["label", "id"])
    if len(fits):
        return str(fits.iloc[0]["id"])
    if len(longer):
        return str(longer.sort_values(["_n", "id"]).iloc[0]["id"])
    return str(df.sort_values(["_n", "id"], ascending=[False, True]).iloc[0]["id"])


MARKERS = ["o", "s", "^", "D", "v", "P", "*", "X"]
COLORS = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]


def top_words_figure(word_scores: pd.DataFrame, sample_id: str | None, k: int = 5,
                     title: str = "", label_name: str = "", include_random: bool = False,
                     words_per_line: int = 12, cues: Sequence[int] = (),
                     distractors: Sequence[int] = ()):
    """Paper Figure 4: the text with a coloured mark above each word for every method that
    puts it in its top-k. Marks of one method always sit in the same slot above a word.

    Where the data know the evidence (the demo's planted words; positions in ``text.split()``),
    true-class cues are printed in bold green and other-class distractors in bold red, so the
    marks can be read against the ground truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if sample_id is None or word_scores.empty:
        fig, ax = plt.subplots(figsize=(8, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no evaluation samples: nothing to show", ha="center", va="center")
        ax.set_title(title, fontsize=10)
        return fig
    ws = word_scores[word_scores["sample_id"] == sample_id]
    methods = _ordered(ws["method"].unique())
    if not include_random:
        methods = [m for m in methods if m != "random"]
    base = ws[ws["method"] == methods[0]].sort_values("word_index")
    words = base["word"].tolist()
    text_pos = base["text_position"].tolist() if "text_position" in base else list(range(len(words)))
    cue_set, dis_set = {int(p) for p in cues}, {int(p) for p in distractors}
    marks = {m: set(top_sets(ws[ws["method"] == m], k)[(sample_id, m)]) for m in methods}
    lines = [list(range(i, min(i + words_per_line, len(words)))) for i in range(0, len(words), words_per_line)]
    char_w = 0.0105
    slot = 0.018
    line_h = 0.07 + slot * len(methods)
    height = 1.0 + len(lines) * line_h * 5.0
    fig, ax = plt.subplots(figsize=(11, height))
    ax.set_xlim(0, 1)
    ax.set_ylim(-len(lines) * line_h - 0.02, 0.02)
    ax.axis("off")
    for li, line in enumerate(lines):
        y = -li * line_h - line_h * 0.85
        x = 0.0
        for w in line:
            text = words[w]
            width = char_w * (len(text) + 1)
            truth = "cue" if text_pos[w] in cue_set else "distractor" if text_pos[w] in dis_set else None
            ax.text(x, y, text, fontsize=11, family="monospace", va="baseline",
                    fontweight="bold" if truth else "normal",
                    color={"cue": "#1a7f37", "distractor": "#c0392b"}.get(truth, "black"))
            cx = x + char_w * len(text) / 2
            for mi, m in enumerate(methods):
                if w in marks[m]:
                    ax.plot(cx, y + 0.04 + slot * mi, marker=MARKERS[mi % 8],
                            color=COLORS[mi % 8], markersize=6, linestyle="none", clip_on=False)
            x += width
    handles = [plt.Line2D([], [], marker=MARKERS[i % 8], color=COLORS[i % 8], linestyle="none",
                          markersize=7, label=paper_name(m)) for i, m in enumerate(methods)]
    if cue_set or dis_set:
        handles += [plt.Line2D([], [], marker="s", color=c, linestyle="none", markersize=7, label=lab)
                    for c, lab in (("#1a7f37", "planted true-class cue (bold)"),
                                   ("#c0392b", "planted other-class distractor (bold)"))]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
              ncol=min(4, len(methods)), fontsize=9, frameon=False,
              bbox_transform=ax.transAxes)
    ax.set_title(title + (f"\nsample {sample_id}, true label: {label_name}" if label_name else ""),
                 fontsize=10)
    return fig
