"""Batches for a real study: a platform CSV and one self-contained HTML page per batch.

The CSV has one row per batch (one HIT on MTurk, one job on Lancers) with ``task_id_<n>`` and
``display_<n>`` for the n-th task, so that the platform's results come back with
``Input.task_id_<n>``/``Answer.answer_<n>`` columns that :mod:`platform` reads. Each HTML page
shows the tasks as in the paper's Figure 1: the shown words with ``.`` for hidden ones, one
button per class and "I don't know"; it has no external resources.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import pandas as pd

from saliency_repro.io import write_csv, write_text

IDK_TEXT = "I don't know"


def batches_csv(assignments: pd.DataFrame, tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per batch (worker slot): batch_id, task_id_1.., display_1.."""
    disp = tasks.set_index("task_id")["display"]
    rows = []
    for wid, grp in assignments.sort_values(["worker_id", "position"]).groupby("worker_id"):
        row = {"batch_id": wid}
        for n, tid in enumerate(grp["task_id"], start=1):
            row[f"task_id_{n}"] = tid
            row[f"display_{n}"] = disp[tid]
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def task_html(n: int, task_id: str, display: str, label_names: list[str]) -> str:
    buttons = "".join(
        f'<label class="choice"><input type="radio" name="answer_{n}" value="{html.escape(c)}" '
        f'required> {html.escape(c)}</label>' for c in [*label_names, IDK_TEXT])
    return (f'<section class="task"><h2>Task {n}</h2>'
            f'<input type="hidden" name="task_id_{n}" value="{html.escape(task_id)}">'
            f'<p class="display">{html.escape(display)}</p>'
            f'<div class="choices">{buttons}</div></section>')


def batch_html(batch_id: str, items: list[tuple[str, str]], label_names: list[str],
               question: str) -> str:
    """A self-contained page (inline CSS, no scripts or external links) for one batch."""
    body = "".join(task_html(n, t, d, label_names) for n, (t, d) in enumerate(items, start=1))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Batch {html.escape(batch_id)}</title>
<style>
body {{font-family: sans-serif; max-width: 50em; margin: 2em auto;}}
.task {{border: 1px solid #999; border-radius: 6px; padding: 1em; margin: 1em 0;}}
.display {{font-family: monospace; word-break: break-all; background: #f4f4f4; padding: .5em;}}
.choice {{display: inline-block; margin-right: 1.5em; padding: .3em .8em; border: 1px solid #666;
          border-radius: 4px;}}
</style></head><body>
<h1>Guess the label</h1>
<p>{html.escape(question)} Each "." is a hidden word; punctuation is not shown.
Choose "{IDK_TEXT}" if the words do not tell.</p>
<form method="post">{body}<p><button type="submit">Submit</button></p></form>
</body></html>
"""


def export_batches(assignments: pd.DataFrame, tasks: pd.DataFrame, label_names: list[str],
                   out_dir: str | os.PathLike, question: str) -> list[Path]:
    """Write ``batches.csv`` and ``html/<batch_id>.html`` under ``out_dir``."""
    out = Path(out_dir)
    write_csv(batches_csv(assignments, tasks), out / "batches.csv")
    disp = tasks.set_index("task_id")["display"]
    written = [out / "batches.csv"]
    for wid, grp in assignments.sort_values(["worker_id", "position"]).groupby("worker_id"):
        items = [(t, disp[t]) for t in grp["task_id"]]
        path = out / "html" / f"{wid}.html"
        write_text(path, batch_html(wid, items, label_names, question))
        written.append(path)
    return written
