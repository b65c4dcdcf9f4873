"""Recomputed tables beside the paper's printed values, with every differing cell flagged.

Agreement is judged at the paper's printed precision (integer % for k columns, one decimal for
the score) and separately for the rank; nothing is forced to agree. A cell that differs is
marked with ``≠`` in the recomputed column and listed in ``differs``.
"""

from __future__ import annotations

import pandas as pd

from saliency_repro.crowd.paper_values import KS
from saliency_repro.crowd.scores import fmt_cell, method_order
from saliency_repro.names import display_name

MARK = " ≠"


def _name(m: str) -> str:
    return display_name(m)


def _row(method: str, cells) -> dict:
    """One table row from ``(column, recomputed, printed)`` cells: both values side by side,
    ``≠`` on a recomputed value that differs from the printed one, and the list in 'differs'."""
    row: dict = {"Method": _name(method)}
    diffs = []
    for col, rec, paper in cells:
        differs = str(rec) != str(paper)
        row[col] = f"{rec}{MARK}" if differs else f"{rec}"
        row[f"{col} [paper]"] = paper
        if differs:
            diffs.append(f"{col}: {rec} vs {paper}")
    row["differs"] = "; ".join(diffs)
    return row


def scores_vs_paper(long: pd.DataFrame, printed: dict) -> pd.DataFrame:
    """Tables 3/4: columns '<col>' (recomputed), '<col> [paper]', and 'differs'.

    Cells are compared as printed: accuracy % and rank, e.g. ``66 (3)``."""
    columns = [f"{k} Words" for k in KS] + ["Score"]

    def cells(m):
        for ci, col in enumerate(columns):
            rec = long[(long["method"] == m) & (long["column"] == col)]
            paper = printed.get(m, [None] * len(columns))[ci]
            rec_cell = fmt_cell(rec["value"].iloc[0], int(rec["rank"].iloc[0]), col) if len(rec) else "—"
            paper_cell = fmt_cell(paper[0], paper[1], col) if paper is not None else "—"
            yield col, rec_cell, paper_cell

    return pd.DataFrame([_row(m, cells(m)) for m in method_order(set(long["method"]) | set(printed))])


def flips_vs_paper(counts: pd.DataFrame, printed: dict) -> pd.DataFrame:
    """Table 7 for one dataset: Flips, Aids recomputed and printed, with 'differs'."""
    by_name = counts.set_index("Method")

    def cells(m):
        rec = by_name.loc[_name(m)] if _name(m) in by_name.index else None
        for i, col in enumerate(["Flips", "Aids"]):
            yield col, (int(rec[col]) if rec is not None else None), printed[m][i]

    out = pd.DataFrame([_row(m, cells(m)) for m in method_order(printed)])
    distinct = "Flips (distinct displays)"
    if distinct in by_name.columns:  # not in the paper: recomputed only
        out[distinct] = [int(by_name.loc[_name(m), distinct]) if _name(m) in by_name.index else None
                         for m in method_order(printed)]
    return out


def counts_vs_paper(counts: pd.DataFrame, printed: dict) -> pd.DataFrame:
    """Tables 8/9: per k counts recomputed and printed, with 'differs'."""
    by_name = counts.set_index("Method")

    def cells(m):
        for i, k in enumerate(KS):
            col = f"{k} Words"
            known = _name(m) in by_name.index and col in by_name
            yield col, (int(by_name.at[_name(m), col]) if known else None), printed[m][i]

    return pd.DataFrame([_row(m, cells(m)) for m in method_order(set(printed))])
