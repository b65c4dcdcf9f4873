"""The agreement heat map: Kendall tau of each automated metric's method ranking (columns) vs
each crowd's ranking (rows), with its bootstrap CI written in the cell."""

from __future__ import annotations

import numpy as np
import pandas as pd


def agreement_heatmap(agreement: pd.DataFrame, title: str = "", level: float = 0.95):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if agreement.empty:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no ranking to compare (fewer than 3 methods)", ha="center", va="center")
        ax.set_title(title, fontsize=9)
        return fig
    rows = list(dict.fromkeys(agreement["human"]))
    cols = list(dict.fromkeys(agreement["label"]))
    tau = np.full((len(rows), len(cols)), np.nan)
    text = [["" for _ in cols] for _ in rows]
    for r in agreement.itertuples(index=False):
        i, j = rows.index(r.human), cols.index(r.label)
        tau[i, j] = r.tau
        ci = "" if pd.isna(r.ci_low) else f"\n[{r.ci_low:.2f}, {r.ci_high:.2f}]"
        text[i][j] = ("n/a" if pd.isna(r.tau) else f"{r.tau:.2f}") + ci
    fig, ax = plt.subplots(figsize=(1.0 + 1.05 * len(cols), 1.3 + 0.75 * len(rows)))
    im = ax.imshow(np.ma.masked_invalid(tau), cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(cols)):
            dark = not np.isnan(tau[i, j]) and abs(tau[i, j]) > 0.6
            ax.text(j, i, text[i][j], ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "black")
    ax.set_xticks(range(len(cols)), [c.replace(" (", "\n(") for c in cols], fontsize=8, rotation=0)
    ax.set_yticks(range(len(rows)), [f"human\n({r})" for r in rows], fontsize=8)
    ax.set_xlabel(f"automated metric (Kendall tau-b of method rankings, {100 * level:g}% bootstrap CI)",
                  fontsize=8)
    cbar = fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    cbar.set_label("tau", fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9, wrap=True)
    return fig
