"""Figures 1-3 of Tuckey et al.: the example, one word's map on the text, the map matrix."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import colors  # noqa: E402


def figure_example(article_tokens: Sequence[str], generated: Sequence[str],
                   reference: Sequence[str], title: str, width: int = 110):
    """Figure 1: an input article and the summary the model generated (and the reference)."""
    blocks = [("Input article", " ".join(article_tokens)),
              ("Generated summary", " ".join(generated) or "(empty)"),
              ("Reference summary", " ".join(reference))]
    lines: list[tuple[str, bool]] = []
    for head, body in blocks:
        lines.append((head, True))
        lines.extend((ln, False) for ln in textwrap.wrap(body, width) or [""])
        lines.append(("", False))
    fig, ax = plt.subplots(figsize=(10, 0.22 * len(lines) + 0.6))
    ax.axis("off")
    for k, (text, bold) in enumerate(lines):
        ax.text(0, 1 - k / max(1, len(lines)), text, family="monospace", fontsize=8,
                weight="bold" if bold else "normal", va="top", transform=ax.transAxes)
    ax.set_title(title, fontsize=9, loc="left")
    return fig


def figure_word_map(tokens: Sequence[str], relevance: np.ndarray, word: str, title: str,
                    per_line: int = 14):
    """Figure 2: one output word's relevance as a red (positive) / blue (negative) heat map on
    the input words, laid out as text."""
    rel = np.asarray(relevance, dtype=float)
    vmax = float(np.abs(rel).max()) or 1.0
    cmap = plt.get_cmap("bwr")
    norm = colors.Normalize(-vmax, vmax)
    n_lines = int(np.ceil(len(tokens) / per_line))
    fig, ax = plt.subplots(figsize=(11, 0.32 * n_lines + 1.3))
    ax.set_xlim(0, per_line)
    ax.set_ylim(n_lines, -0.2)
    ax.axis("off")
    for k, (tok, r) in enumerate(zip(tokens, rel, strict=True)):
        row, col = divmod(k, per_line)
        ax.add_patch(plt.Rectangle((col + 0.02, row + 0.05), 0.96, 0.9, color=cmap(norm(r))))
        ax.text(col + 0.5, row + 0.5, tok[:14], ha="center", va="center", fontsize=7)
    sm = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.05, pad=0.02,
                 label=f"LRP relevance for output word '{word}'")
    ax.set_title(title, fontsize=9, loc="left")
    return fig


def figure_map_matrix(tokens: Sequence[str], out_words: Sequence[str], lrp: np.ndarray,
                      attention: np.ndarray, title: str):
    """Figure 3: output-word x input-word matrices of the LRP maps (each row scaled by its
    largest |value|, so rows are comparable in shape) and of the attention weights."""
    lrp = np.asarray(lrp, dtype=float)
    scale = np.abs(lrp).max(axis=1, keepdims=True)
    lrp_n = lrp / np.where(scale > 0, scale, 1.0)
    n_in, n_out = len(tokens), len(out_words)
    fig, axes = plt.subplots(2, 1, figsize=(max(6, 0.16 * n_in + 2), 2 * (0.25 * n_out + 1.4) + 0.8))
    panels = [(axes[0], lrp_n, "bwr", (-1, 1), "LRP relevance (row-normalized)"),
              (axes[1], np.asarray(attention), "Greens", (0, None), "attention weight")]
    for ax, mat, cmap, (lo, hi), label in panels:
        im = ax.imshow(mat, aspect="auto", cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_yticks(range(n_out), out_words, fontsize=7)
        ax.set_xticks(range(n_in), tokens, fontsize=6, rotation=90)
        ax.set_ylabel("output word")
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label=label)
    axes[0].set_title(title, fontsize=9, loc="left")
    fig.tight_layout()
    return fig
