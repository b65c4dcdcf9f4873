"""Final tables and figures in the formats the index promises.

Tables are written as CSV (machine-readable), Markdown and LaTeX; figures as PNG and PDF.
The caption of every artifact starts with the run name in brackets (``[demo] ...``) so that a
demo number can never be mistaken for a paper number.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from saliency_repro.io import atomic_path, write_csv, write_text

TABLE_FORMATS = ("csv", "md", "tex")
FIGURE_FORMATS = ("png", "pdf")
#: No creation date in the files, so that two runs write byte-identical figures (PNG has none)
REPRODUCIBLE_METADATA = {"png": {}, "pdf": {"CreationDate": None}}


def caption_for(run: str, text: str) -> str:
    """Prefix a caption with the run name, e.g. ``[demo] Crowd accuracy ...``."""
    return f"[{run}] {text}"


def _stem(path: str | os.PathLike) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix.lstrip(".") in TABLE_FORMATS + FIGURE_FORMATS else p


def write_table(
    df: pd.DataFrame, path: str | os.PathLike, caption: str, float_format: str = "{:.3f}"
) -> list[Path]:
    """Write ``df`` as ``stem.csv``, ``stem.md`` and ``stem.tex`` (``path`` may carry any suffix)."""
    stem = _stem(path)
    write_csv(df, stem.with_suffix(".csv"))
    shown = df.copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "" if pd.isna(v) else float_format.format(v))
    md = f"**{caption}**\n\n" + shown.to_markdown(index=False) + "\n"
    write_text(stem.with_suffix(".md"), md)
    body = shown.to_latex(index=False, escape=True)
    tex = (
        "\\begin{table}[ht]\n\\centering\n"
        f"\\caption{{{_latex_escape(caption)}}}\n{body}\\end{{table}}\n"
    )
    write_text(stem.with_suffix(".tex"), tex)
    return [stem.with_suffix(f".{ext}") for ext in TABLE_FORMATS]


def _latex_escape(text: str) -> str:
    for a, b in [("\\", "\\textbackslash{}"), ("&", "\\&"), ("%", "\\%"), ("$", "\\$"),
                 ("#", "\\#"), ("_", "\\_"), ("{", "\\{"), ("}", "\\}")]:
        text = text.replace(a, b)
    return text


def save_figure(fig, path: str | os.PathLike, dpi: int = 150) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.pdf`` atomically and close it."""
    import matplotlib.pyplot as plt

    stem = _stem(path)
    written = []
    for ext in FIGURE_FORMATS:
        target = stem.with_suffix(f".{ext}")
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, dpi=dpi, bbox_inches="tight",
                        metadata=REPRODUCIBLE_METADATA[ext])
        written.append(target)
    plt.close(fig)
    return written
