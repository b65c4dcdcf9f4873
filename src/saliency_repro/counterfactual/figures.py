"""Figures of the counterfactual check: worked examples (the paper's Figures 4-7), distributions
of the change, and the confirmed fraction against k."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

IMPORTANT_COLOR = "#f4a6a6"  # deleted as important
RANDOM_COLOR = "#a6c8f4"  # deleted at random
BOTH_COLOR = "#d3b0f0"


def placeholder(title: str):
    """A figure that says why there is nothing to show (e.g. no confirmed article at all)."""
    fig, ax = plt.subplots(figsize=(8, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, title, ha="center", va="center", fontsize=10)
    return fig


def _flow(ops: list, tokens: Sequence[str], colors: Sequence[str | None], row: float,
          width: int) -> float:
    """Lay out tokens as wrapped monospace text from ``row`` (in line heights), appending
    ``(row, col, text, kind, color)`` drawing operations; returns the next free row."""
    col = 0
    for tok, color in zip(tokens, colors, strict=True):
        if col and col + len(tok) > width:
            col, row = 0, row + 1
        ops.append((row, col, tok, "token", color))
        col += len(tok) + 1
    return row + 1


def worked_example(article: Sequence[str], important: Sequence[int], random: Sequence[int],
                   summaries: Sequence[tuple[str, Sequence[str], Any]], title: str,
                   max_words: int = 150, width: int = 110):
    """The article with the important (red) and random (blue; both: purple) deleted words marked,
    then the original summary and the summaries after each deletion, with their changes; words
    of a new summary that differ from the original at the same place are marked in orange."""
    imp, rnd = set(important), set(random)
    shown = list(article[:max_words])
    colors = [BOTH_COLOR if i in imp and i in rnd else IMPORTANT_COLOR if i in imp
              else RANDOM_COLOR if i in rnd else None for i in range(len(shown))]
    hidden = [i for i in sorted(imp | rnd) if i >= max_words]
    ops: list = [(0, 0, "Input article (red: deleted as most important; blue: deleted at random; "
                        "purple: both)", "head", None)]
    row = _flow(ops, shown, colors, 1.2, width)
    if len(article) > max_words:
        note = f"... ({len(article) - max_words} more tokens"
        note += f"; deleted among them: positions {hidden})" if hidden else ")"
        ops.append((row, 0, note, "note", None))
        row += 1
    original = list(summaries[0][1]) if summaries else []
    for label, words, rec in summaries:
        row += 0.4
        if rec is not None:
            label += (f"   [1-ROUGE-L {rec['rouge_l_change']:.2f}, changed tokens "
                      f"{rec['token_change']:.2f}, log-prob drop {rec['logprob_drop']:.2f}]")
        ops.append((row, 0, label, "head", None))
        row += 1
        words = list(words) or ["(empty)"]
        diff = [None if (rec is None or (i < len(original) and original[i] == w)) else "#ffd27f"
                for i, w in enumerate(words)]
        row = _flow(ops, words, diff, row, width)
    line_in = 0.2
    fig, ax = plt.subplots(figsize=(11, line_in * (row + 0.5) + 0.5))
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(-(row + 0.3), 0.2)
    for r, c, text, kind, color in ops:
        kw: dict[str, Any] = {"fontsize": 8, "va": "top", "ha": "left"}
        if kind == "token":
            kw["family"] = "monospace"
            if color:
                kw["bbox"] = {"boxstyle": "square,pad=0.1", "fc": color, "ec": "none"}
        elif kind == "head":
            kw["weight"] = "bold"
        else:
            kw["style"] = "italic"
        ax.text(c / width, -r, text, **kw)
    ax.set_title(title, fontsize=9, loc="left", wrap=True)
    return fig


def distributions(results: pd.DataFrame, methods: Sequence[str], ks: Sequence[float],
                  measure_labels: dict[str, str], method_labels: dict[str, str], title: str):
    """Box plots per measure (rows) and method (columns): for each k, the change after deleting
    the method's top-k words and the per-article mean change of the random draws, with the
    attention free and frozen (hatched)."""
    measures = list(measure_labels)
    variants = [v for v in ("free", "frozen") if v in set(results["variant"])]
    fig, axes = plt.subplots(len(measures), len(methods), figsize=(3.2 * len(methods) + 1, 2.6 * len(measures)),
                             squeeze=False, sharey="row")
    rnd = results[results["method"] == "random"].groupby(["id", "k", "variant"])[measures].mean().reset_index()
    series = [(f"{v}, {kind}", kind, v) for v in variants for kind in ("important", "random")]
    width = 0.8 / len(series)
    for i, meas in enumerate(measures):
        for j, m in enumerate(methods):
            ax = axes[i, j]
            imp = results[results["method"] == m]
            for s, (_, kind, var) in enumerate(series):
                src = imp if kind == "important" else rnd
                data = [src[(src["k"] == k) & (src["variant"] == var)][meas].to_numpy() for k in ks]
                pos = np.arange(len(ks)) + (s - (len(series) - 1) / 2) * width
                bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True,
                                showfliers=False, manage_ticks=False)
                for box in bp["boxes"]:
                    box.set_facecolor("#d9534f" if kind == "important" else "#9e9e9e")
                    box.set_alpha(0.85 if var == "free" else 0.45)
                    if var == "frozen":
                        box.set_hatch("//")
            ax.set_xticks(range(len(ks)), [f"{k:g}" for k in ks])
            if i == 0:
                ax.set_title(method_labels.get(m, m), fontsize=9)
            if i == len(measures) - 1:
                ax.set_xlabel("k")
            if j == 0:
                ax.set_ylabel(measure_labels[meas], fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, fc="#d9534f" if kind == "important" else "#9e9e9e",
                             alpha=0.85 if var == "free" else 0.45, hatch="//" if var == "frozen" else None)
               for _, kind, var in series]
    fig.legend(handles, [lab.replace("important", "top-k deleted").replace("random", "random deleted (mean)")
                         for lab, _, _ in series],
               loc="upper center", ncol=len(series), fontsize=8, bbox_to_anchor=(0.5, 1.0))
    fig.suptitle(title, fontsize=9, y=1.04)
    fig.tight_layout()
    return fig


def curves(table: pd.DataFrame, methods: Sequence[str], measure_labels: dict[str, str],
           method_labels: dict[str, str], alpha: float, k_unit: str, title: str):
    """Confirmed fraction (with CI) against k, one panel per measure; solid = attention free,
    dashed = frozen; the dotted line marks alpha, the rate expected by chance."""
    measures = list(measure_labels)
    fig, axes = plt.subplots(1, len(measures), figsize=(4.6 * len(measures), 3.8), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for i, meas in enumerate(measures):
        ax = axes[0, i]
        for j, m in enumerate(methods):
            color = "#7f7f7f" if m == "random_control" else cmap(j)
            for var, ls in (("free", "-"), ("frozen", "--")):
                g = table[(table["measure"] == meas) & (table["method"] == m) & (table["variant"] == var)]
                if g.empty:
                    continue
                g = g.sort_values("k")
                off = (j - len(methods) / 2) * 0.012 * (g["k"].max() - g["k"].min() or 1)
                lo = np.clip(g["confirmed_fraction"] - g["ci_low"], 0, None)  # rounding at 0 / 1
                hi = np.clip(g["ci_high"] - g["confirmed_fraction"], 0, None)
                ax.errorbar(g["k"] + off, g["confirmed_fraction"], yerr=[lo, hi],
                            color=color, ls=ls, marker="o", ms=3, capsize=2, lw=1.2,
                            label=f"{method_labels.get(m, m)}" if var == "free" else None)
        ax.axhline(alpha, color="k", ls=":", lw=0.8)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("k (words deleted)" if k_unit == "words" else "k (fraction of the article)")
        ax.set_title(measure_labels[meas], fontsize=9)
        if i == 0:
            ax.set_ylabel("confirmed fraction")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="k", ls="-"), plt.Line2D([], [], color="k", ls="--"),
                plt.Line2D([], [], color="k", ls=":")]
    labels += ["attention free", "attention frozen", f"alpha = {alpha:g}"]
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 8), fontsize=7,
               bbox_to_anchor=(0.5, -0.08))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
