"""Figures of the crowd part: the Flip histogram (Figure 3) and a rendered task (Figure 1)."""

from __future__ import annotations

import textwrap

import pandas as pd


def flip_histogram(counts: pd.Series, title: str):
    """Bar chart: number of samples by the number of methods they Flipped with."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.bar(counts.index, counts.values, color="#4472c4", edgecolor="black")
    for x, y in zip(counts.index, counts.values, strict=True):
        ax.text(x, y, str(int(y)), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(counts.index))
    ax.set_xlabel("number of saliency methods the sample Flipped with")
    ax.set_ylabel("number of samples")
    ax.set_title(title, fontsize=9)
    ax.set_ylim(0, max(1, counts.max()) * 1.15)
    fig.tight_layout()
    return fig


def task_figure(display: str, label_names: list[str], title: str, question: str):
    """A task as a worker sees it (cf. the paper's Figure 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrapped = textwrap.fill(display, width=70, break_long_words=True)
    n_lines = wrapped.count("\n") + 1
    fig = plt.figure(figsize=(7, 1.8 + 0.22 * n_lines))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.axis("off")
    ax.text(0.03, 0.96, title, fontsize=10, weight="bold", va="top")
    ax.text(0.03, 0.86, question, fontsize=8.5, va="top", style="italic")
    ax.text(0.03, 0.74, wrapped, fontsize=8.5, family="monospace", va="top",
            bbox={"facecolor": "#f2f2f2", "edgecolor": "#999999", "boxstyle": "round"})
    choices = [*label_names, "I don't know"]
    width = 0.94 / len(choices)
    for i, c in enumerate(choices):
        ax.text(0.03 + i * width + width / 2, 0.07, c, ha="center", va="bottom", fontsize=9,
                bbox={"facecolor": "white", "edgecolor": "#333333", "boxstyle": "round,pad=0.4"})
    return fig
