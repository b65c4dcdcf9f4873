"""Recomputed tables beside the paper's printed values, with every differing cell flagged.

Agreement is judged at the paper's printed precision (integer % for k columns, one decimal for
the score) and separately for the rank; nothing is forced to agree. A cell that differs is
marked with ``≠`` in the recomputed column and listed in ``differs``.
"""

from __future__ import annotations

import pandas as pd

from saliency_repro.crowd.paper_values import KS
from saliency_repro.crowd.scores import fmt_cell, method_order
from saliency_repro.names import METHOD_ORDER, paper_name

MARK = " ≠"


def _name(m: str) -> str:
    return paper_name(m) if m in METHOD_ORDER else m


def scores_vs_paper(long: pd.DataFrame, printed: dict) -> pd.DataFrame:
    """Tables 3/4: columns '<col>' (recomputed), '<col> [paper]', and 'differs'."""
    columns = [f"{k} Words" for k in KS] + ["Score"]
    rows = []
    for m in method_order(set(long["method"]) | set(printed)):
        row: dict = {"Method": _name(m)}
        diffs = []
        for ci, col in enumerate(columns):
            rec = long[(long["method"] == m) & (long["column"] == col)]
            paper = printed.get(m, [None] * len(columns))[ci]
            rec_cell = fmt_cell(rec["value"].iloc[0], int(rec["rank"].iloc[0]), col) if len(rec) else "—"
            paper_cell = fmt_cell(paper[0], paper[1], col) if paper is not None else "—"
            if rec_cell != paper_cell:
                diffs.append(f"{col}: {rec_cell} vs {paper_cell}")
                rec_cell += MARK
            row[col] = rec_cell
            row[f"{col} [paper]"] = paper_cell
        row["differs"] = "; ".join(diffs)
        rows.append(row)
    return pd.DataFrame(rows)


def flips_vs_paper(counts: pd.DataFrame, printed: dict) -> pd.DataFrame:
    """Table 7 for one dataset: Flips, Aids recomputed and printed, with 'differs'."""
    by_name = counts.set_index("Method")
    rows = []
    for m in method_order(printed):
        rec = by_name.loc[_name(m)] if _name(m) in by_name.index else None
        row: dict = {"Method": _name(m)}
        diffs = []
        for i, col in enumerate(["Flips", "Aids"]):
            r = int(rec[col]) if rec is not None else None
            p = printed[m][i]
            row[col] = f"{r}{MARK}" if r != p else f"{r}"
            row[f"{col} [paper]"] = p
            if r != p:
                diffs.append(f"{col}: {r} vs {p}")
        row["differs"] = "; ".join(diffs)
        rows.append(row)
    return pd.DataFrame(rows)


def counts_vs_paper(counts: pd.DataFrame, printed: dict) -> pd.DataFrame:
    """Tables 8/9: per k counts recomputed and printed, with 'differs'."""
    by_name = counts.set_index("Method")
    rows = []
    for m in method_order(set(printed)):
        row: dict = {"Method": _name(m)}
        diffs = []
        for i, k in enumerate(KS):
            col = f"{k} Words"
            r = int(by_name.at[_name(m), col]) if (_name(m) in by_name.index and col in by_name) else None
            p = printed[m][i]
            row[col] = f"{r}{MARK}" if r != p else f"{r}"
            row[f"{col} [paper]"] = p
            if r != p:
                diffs.append(f"{col}: {r} vs {p}")
        row["differs"] = "; ".join(diffs)
        rows.append(row)
    return pd.DataFrame(rows)
