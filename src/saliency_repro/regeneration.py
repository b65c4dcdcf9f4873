"""Does a regeneration agree with the published artifacts? (``saliency-repro compare``)

The same code on another CPU type can train a slightly different classifier (float32 rounds
differently under another vector instruction set), so a regeneration is rarely byte-identical
to what was published; what must agree are the verdicts, the orderings and the significance
decisions. This module goes through the published ``paper_figures/{run}/index.csv`` and sorts
every artifact into one class, from best to worst:

``identical``
    every file of the artifact (csv/md/tex, png/pdf) is byte-identical;
``within_tolerance``
    a table's cells agree within the tolerances below (a figure: its source table does);
``numbers_differ``
    some number (or free text) differs beyond its tolerance; nothing decided changed;
``decision_differs``
    a verdict, a rank or a significance decision (a p-value on the other side of alpha)
    differs;
``missing`` / ``extra``
    the artifact is in the published index but not regenerated / the other way round.

Cells are compared per column kind, because one tolerance cannot fit them all:

- **count**: a column written only as integers (tasks, flips, ``n``): exact;
- **rank**: the bracketed rank of ``value (rank)`` cells and columns named ``rank``: exact,
  and a difference is a changed decision;
- **decision**: ``verdict``, ``claim_holds``, ``better_than_random``, ``*_within_ci`` and any
  column holding only yes/no, holds/does not hold or True/False: exact;
- **p-value**: ``p``, ``*_p``, ``p_value``, ``*_p_holm``, ``p_*``: compared on the log10 scale,
  and a p-value that crosses ``alpha`` is a changed significance decision;
- **percentage**: a column named with ``%``/``percent``, or whose largest published |value| lies
  in (1, 100]: an absolute tolerance in percentage points;
- **score**: any other number: an absolute tolerance.

Figures are compared through the table they are drawn from (``FIGURE_SOURCES``): a figure takes
its table's class, and when that table is byte-identical the image hash decides (same data
drawn differently counts as ``within_tolerance``, with a note). A figure drawn from no indexed
table (an example text, a saliency map) can only be compared by hash.

The exit status is non-zero only for ``decision_differs`` and ``missing``, so a CI job can gate
on it; ``numbers_differ`` is reported, not failed on.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from saliency_repro.index import files_of

#: artifact classes, best first (the order of the summary and of "worst")
CLASSES = ["identical", "within_tolerance", "numbers_differ", "decision_differs", "missing", "extra"]
#: classes that make ``compare`` exit non-zero
FAILING = {"decision_differs", "missing"}

#: figure artifact -> the table artifact (same dataset and crowd source) it is drawn from
FIGURE_SOURCES = {
    "flip_histogram": "flip_counts",
    "metric_agreement": "metric_agreement_tau",
    "counterfactual_curves": "counterfactual",
    "counterfactual_distribution": "counterfactual",
}

DECISION_NAMES = {"verdict", "claim_holds", "better_than_random", "holds", "significant", "decision"}
DECISION_VALUES = {"yes", "no", "holds", "does not hold", "true", "false"}
_RANKED = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\((\d+)\)\s*(.*)$")
_NUMBER = re.compile(r"^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$")
_INTEGER = re.compile(r"^\s*[-+]?\d+\s*$")
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Tolerances:
    """Per column kind; counts, ranks and decisions are always exact.

    The defaults absorb float32 rounding and nothing more: half a point of a percentage and
    0.005 of a score are below the smallest step one changed sample makes in the demo's tables
    (2.5 points on 40 samples, 1/120 of an accuracy on 120 test texts); p-values span orders of
    magnitude (1e-11 beside 0.3), so they get a relative tolerance, a factor of 2 (0.3 in
    log10), and a p-value crossing ``alpha`` is reported whatever its distance. In the
    instruction-set experiment (``docs/compare_readme.md``) the rounding stayed inside the
    weights: the tables that could be regenerated were byte-identical.
    """

    percent_atol: float = 0.5
    score_atol: float = 0.005
    p_log10_tol: float = 0.3
    alpha: float = 0.05

    def describe(self) -> str:
        return (f"counts, ranks and decisions exact; percentages +-{self.percent_atol:g} pp; "
                f"scores +-{self.score_atol:g}; p-values +-{self.p_log10_tol:g} in log10 "
                f"(significance at alpha {self.alpha:g})")


@dataclass
class Cell:
    """One compared cell that is not exactly equal."""

    artifact: str
    row: str
    column: str
    kind: str
    published: str
    regenerated: str
    outcome: str  # within_tolerance / numbers_differ / decision_differs
    excess: float  # |difference| over its tolerance (inf for text and decisions)


@dataclass
class ArtifactResult:
    artifact: str
    paper_ref: str
    path: str
    outcome: str
    cells_compared: int = 0
    cells_outside: int = 0
    note: str = ""
    cells: list[Cell] = field(default_factory=list)


class CompareError(Exception):
    """Bad input to ``compare`` (a tree without index.csv, an unknown git revision)."""


# --------------------------------------------------------------------------------------------
# trees: a directory, or a directory at a git revision


@contextmanager
def open_tree(spec: str, other: str | None = None) -> Iterator[tuple[Path, str]]:
    """A ``paper_figures/{run}`` tree as a directory, and how to name it.

    ``spec`` is a directory, or a git revision: ``REV:PATH`` (``PATH`` relative to the
    repository root), or ``REV`` alone, meaning the same path as ``other`` (the regenerated tree
    in the working copy). A revision is extracted with ``git archive`` into a temporary
    directory, removed afterwards.
    """
    if Path(spec).is_dir():
        yield Path(spec), spec
        return
    rev, _, path = spec.partition(":")
    if not path:
        if other is None or not Path(other).is_dir():
            raise CompareError(f"{spec}: not a directory, and no regenerated tree to take the path from")
        base = Path(other).resolve()
    else:
        base = None
    cwd = Path(other).resolve() if other and Path(other).is_dir() else Path.cwd()
    top = _git(["rev-parse", "--show-toplevel"], cwd, f"{spec}: not a directory, and {cwd} is not in a git repository")
    root = Path(top.decode().strip())
    rel = str(base.relative_to(root)) if base is not None else path.strip("/")
    _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root, f"{spec}: unknown git revision {rev!r}")
    archive = _git(["archive", "--format=tar", rev, "--", rel], root,
                   f"{spec}: {rel!r} is not in revision {rev!r}")
    with tempfile.TemporaryDirectory(prefix="compare-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / rel, f"{rev}:{rel}"


def _git(args: list[str], cwd: Path, error: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise CompareError(f"{error} (git is not installed)") from exc
    if done.returncode != 0:
        raise CompareError(error)
    return done.stdout


def read_index(tree: Path) -> pd.DataFrame:
    """The tree's ``index.csv`` (all columns as text)."""
    path = tree / "index.csv"
    if not path.is_file():
        raise CompareError(f"{path}: missing; a paper_figures/{{run}} tree has an index.csv")
    index = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("artifact", "path", "formats"):
        if col not in index.columns:
            raise CompareError(f"{path}: no column {col!r}")
    return index


def tree_relative(path: str, tree: Path) -> str:
    """An index path (``{figures_dir}/{run}/...``, relative to the workflow directory) relative
    to the tree: everything after the component named like the tree (the run); the first two
    components when no component is."""
    parts = Path(path).parts
    if tree.name in parts:
        return str(Path(*parts[parts.index(tree.name) + 1:]))
    return str(Path(*parts[2:]))


# --------------------------------------------------------------------------------------------
# cells


def _kind_by_name(name: str) -> str | None:
    low = name.strip().lower()
    if low in DECISION_NAMES or low.endswith(("_holds", "_within_ci", "_significant")):
        return "decision"
    if low == "rank" or low.startswith("rank_") or low.endswith("_rank"):
        return "rank"
    if (low in {"p", "pvalue", "p-value"} or low.endswith("_p") or "p_value" in low
            or low.endswith("_p_holm") or low.startswith("p_")):
        return "p_value"
    return None


def _as_float(text: str) -> float | None:
    if _NUMBER.match(text):
        return float(text)
    m = _RANKED.match(text)
    return float(m.group(1)) if m else None


def column_kind(name: str, published: pd.Series, regenerated: pd.Series) -> str:
    """The kind of one column (see the module docstring), from its name and written values."""
    by_name = _kind_by_name(name)
    if by_name is not None:
        return by_name
    values = [v for v in [*published, *regenerated] if v.strip() not in ("", "-")]
    if values and all(v.strip().lower() in DECISION_VALUES for v in values):
        return "decision"
    if values and all(_INTEGER.match(v) or _FRACTION.match(v) for v in values):
        return "count"
    if "%" in name or "percent" in name.lower():
        return "percentage"
    numbers = [x for v in published if (x := _as_float(v)) is not None and math.isfinite(x)]
    if numbers and 1 < max(abs(x) for x in numbers) <= 100:
        return "percentage"
    return "score"


def compare_cell(kind: str, a: str, b: str, tol: Tolerances) -> tuple[str, float]:
    """(outcome, excess) of two written cells that differ as text."""
    if kind == "decision":
        return "decision_differs", math.inf
    ra, rb = _RANKED.match(a), _RANKED.match(b)
    if ra and rb:
        if ra.group(2) != rb.group(2):
            return "decision_differs", math.inf
        if ra.group(3).strip() != rb.group(3).strip():  # a mark after the rank (e.g. "≠")
            return "numbers_differ", math.inf
        return compare_cell("percentage" if kind == "count" else kind, ra.group(1), rb.group(1), tol)
    fa, fb = _as_float(a), _as_float(b)
    if fa is None or fb is None or (ra is None) != (rb is None):
        return "numbers_differ", math.inf  # text, or a number against text / an empty cell
    if kind == "rank":
        return ("decision_differs", math.inf) if fa != fb else ("within_tolerance", 0.0)
    if kind == "count":
        return ("numbers_differ", math.inf) if fa != fb else ("within_tolerance", 0.0)
    if kind == "p_value":
        if (fa < tol.alpha) != (fb < tol.alpha):
            return "decision_differs", math.inf
        la, lb = (math.log10(max(x, 1e-300)) for x in (fa, fb))
        diff = abs(la - lb)
        excess = diff / tol.p_log10_tol if tol.p_log10_tol > 0 else (math.inf if diff else 0.0)
    else:
        atol = tol.percent_atol if kind == "percentage" else tol.score_atol
        diff = abs(fa - fb)
        excess = diff / atol if atol > 0 else (math.inf if diff else 0.0)
    if math.isnan(excess):
        excess = 0.0 if (math.isnan(fa) and math.isnan(fb)) else math.inf
    return ("within_tolerance" if excess <= 1 else "numbers_differ"), excess


def _key_columns(pub: pd.DataFrame, reg: pd.DataFrame) -> list[str]:
    """The leading non-numeric columns, when they identify the rows of both tables."""
    def unique(cols: list[str]) -> bool:
        return bool(cols) and not pub.duplicated(cols).any() and not reg.duplicated(cols).any()

    keys: list[str] = []
    for col in pub.columns:
        if col not in reg.columns or any(_as_float(v) is not None for v in pub[col] if v != ""):
            return []
        keys.append(col)
        if unique(keys):
            break
    else:
        return []
    # the shortest labels: drop what the others identify already, longest text first
    for col in sorted(keys, key=lambda c: -pub[c].str.len().mean()):
        if unique([k for k in keys if k != col]):
            keys.remove(col)
    return keys


def compare_tables(artifact: str, pub: pd.DataFrame, reg: pd.DataFrame, tol: Tolerances) -> tuple[int, list[Cell]]:
    """(cells compared, cells not exactly equal) of two tables read as text.

    Rows are matched by their leading text columns when those identify them (a reordering is
    then no difference), else by position; a missing row or column is a difference of every
    cell in it.
    """
    cells: list[Cell] = []
    keys = _key_columns(pub, reg)
    if keys:
        pub_rows = {tuple(r): i for i, r in enumerate(pub[keys].itertuples(index=False))}
        reg_rows = {tuple(r): i for i, r in enumerate(reg[keys].itertuples(index=False))}
        labels = list(dict.fromkeys([*pub_rows, *reg_rows]))
        pairs = [(" / ".join(k), pub_rows.get(k), reg_rows.get(k)) for k in labels]
    else:
        first = pub.columns[0] if len(pub.columns) else ""
        n = max(len(pub), len(reg))
        pairs = [(f"{i + 1}: {pub[first].iloc[i] if i < len(pub) and first else reg.iloc[i, 0]}",
                  i if i < len(pub) else None, i if i < len(reg) else None) for i in range(n)]
    columns = list(dict.fromkeys([*pub.columns, *reg.columns]))
    kinds = {c: column_kind(c, pub[c] if c in pub else pd.Series(dtype=str),
                            reg[c] if c in reg else pd.Series(dtype=str)) for c in columns}
    compared = 0
    for label, i, j in pairs:
        for col in columns:
            a = pub[col].iloc[i] if i is not None and col in pub else None
            b = reg[col].iloc[j] if j is not None and col in reg else None
            compared += 1
            if a == b:
                continue
            if a is None or b is None:
                outcome, excess = "numbers_differ", math.inf
                a = "(row missing)" if i is None else "(column missing)" if a is None else a
                b = "(row missing)" if j is None else "(column missing)" if b is None else b
            else:
                outcome, excess = compare_cell(kinds[col], a, b, tol)
            cells.append(Cell(artifact, label, col, kinds[col], a, b, outcome, excess))
    return compared, cells


# --------------------------------------------------------------------------------------------
# artifacts


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _worst(outcomes: list[str]) -> str:
    return max(outcomes, key=CLASSES.index) if outcomes else "identical"


def compare_artifact(record: dict, published: Path, regenerated: Path, tol: Tolerances,
                     tables: dict[tuple, ArtifactResult]) -> ArtifactResult:
    """One index row; ``tables`` holds the results of the tables compared so far (for figures)."""
    files = [tree_relative(f, published) for f in files_of(record)]
    primary = files[0]
    result = ArtifactResult(record["artifact"], record.get("paper_ref", ""), primary, "identical")
    absent = [f for f in files if not (regenerated / f).is_file()]
    if absent:
        result.outcome, result.note = "missing", "not regenerated: " + ", ".join(absent)
        return result
    unpublished = [f for f in files if not (published / f).is_file()]
    if unpublished:
        result.outcome, result.note = "extra", "indexed but not published: " + ", ".join(unpublished)
        return result
    differing = [f for f in files if _sha256(published / f) != _sha256(regenerated / f)]
    key = (record["artifact"], record.get("dataset", ""), record.get("crowd_source", ""))
    if primary.endswith(".csv") and not differing:
        tables[key] = result
        return result
    if primary.endswith(".csv"):
        try:
            pub = pd.read_csv(published / primary, dtype=str, keep_default_na=False)
            reg = pd.read_csv(regenerated / primary, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            result.outcome, result.note = "numbers_differ", f"unreadable table: {exc}".splitlines()[0]
            return result
        result.cells_compared, cells = compare_tables(primary.rsplit(".", 1)[0], pub, reg, tol)
        result.cells = cells
        result.cells_outside = sum(c.outcome != "within_tolerance" for c in cells)
        if not cells:
            result.outcome = "within_tolerance"
            result.note = "table cells equal; " + ", ".join(differing) + " differ(s) as a file"
        else:
            result.outcome = _worst(["within_tolerance", *(c.outcome for c in cells)])
        tables[key] = result
        return result
    # a figure: through the table it is drawn from, then by image hash
    source = tables.get((FIGURE_SOURCES.get(record["artifact"], ""), record.get("dataset", ""),
                         record.get("crowd_source", "")))
    if not differing:
        result.note = f"image hash equal; drawn from {source.path}" if source else "image hash equal"
        return result
    if source is None:
        result.outcome = "numbers_differ"
        result.note = "image differs; drawn from no indexed table, so judged by hash alone"
    elif source.outcome == "identical":
        result.outcome = "within_tolerance"
        result.note = f"image differs, drawn from the identical {source.path} (rendering)"
    else:
        result.outcome = source.outcome
        result.note = f"image differs; its table {source.path} is {source.outcome}"
    return result


@dataclass
class Comparison:
    published: str
    regenerated: str
    tolerances: Tolerances
    artifacts: list[ArtifactResult]

    def counts(self) -> dict[str, int]:
        return {c: sum(a.outcome == c for a in self.artifacts) for c in CLASSES}

    def failing(self) -> list[ArtifactResult]:
        return [a for a in self.artifacts if a.outcome in FAILING]

    def cells(self) -> list[Cell]:
        """Every differing cell, worst first: decisions, then by excess over tolerance."""
        cells = [c for a in self.artifacts for c in a.cells]
        return sorted(cells, key=lambda c: (-CLASSES.index(c.outcome), -c.excess))


def compare_trees(published: Path, regenerated: Path, tol: Tolerances | None = None,
                  published_name: str | None = None, regenerated_name: str | None = None) -> Comparison:
    """Compare every artifact of the published index; the regenerated index adds the extras."""
    tol = tol or Tolerances()
    pub_index = read_index(published)
    records = [r for r in pub_index.to_dict("records") if r["path"]]
    # tables first, so that figures can be judged through them
    records.sort(key=lambda r: not r["formats"].startswith("csv"))
    tables: dict[tuple, ArtifactResult] = {}
    results = [compare_artifact(r, published, regenerated, tol, tables) for r in records]
    known = {tree_relative(r["path"], published) for r in records}
    if (regenerated / "index.csv").is_file():
        for r in read_index(regenerated).to_dict("records"):
            rel = tree_relative(r["path"], regenerated) if r["path"] else ""
            if rel and rel not in known:
                results.append(ArtifactResult(r["artifact"], r.get("paper_ref", ""), rel, "extra",
                                              note="regenerated, not in the published index"))
    order = {p: i for i, p in enumerate(tree_relative(r["path"], published) for r in pub_index.to_dict("records") if r["path"])}
    results.sort(key=lambda a: order.get(a.path, len(order)))
    return Comparison(published_name or str(published), regenerated_name or str(regenerated), tol, results)


# --------------------------------------------------------------------------------------------
# report


def artifact_frame(comp: Comparison) -> pd.DataFrame:
    """One row per artifact: the table written beside the summary."""
    rows = []
    for a in comp.artifacts:
        worst = sorted(a.cells, key=lambda c: (-CLASSES.index(c.outcome), -c.excess))[:1]
        rows.append({"artifact": a.artifact, "paper_ref": a.paper_ref, "path": a.path, "outcome": a.outcome,
                     "cells_compared": a.cells_compared, "cells_differing": len(a.cells),
                     "cells_outside_tolerance": a.cells_outside,
                     "worst_row": worst[0].row if worst else "", "worst_column": worst[0].column if worst else "",
                     "note": a.note})
    return pd.DataFrame(rows)


def cell_frame(comp: Comparison) -> pd.DataFrame:
    cols = ["artifact", "row", "column", "kind", "published", "regenerated", "outcome", "excess"]
    frame = pd.DataFrame([{c: getattr(cell, c) for c in cols} for cell in comp.cells()], columns=cols)
    frame["excess"] = frame["excess"].map(lambda x: "inf" if math.isinf(x) else f"{x:.3g}")
    return frame


def summary_text(comp: Comparison, worst: int = 10) -> str:
    """The printed summary: the classes' counts, then the worst cells, then the verdict."""
    counts = comp.counts()
    lines = [f"published:   {comp.published}", f"regenerated: {comp.regenerated}",
             f"tolerances:  {comp.tolerances.describe()}", "",
             f"{len(comp.artifacts)} artifacts: " + ", ".join(f"{n} {c}" for c, n in counts.items()), ""]
    cells = [c for c in comp.cells() if c.outcome != "within_tolerance"] or comp.cells()
    if cells:
        shown = pd.DataFrame([{"outcome": c.outcome, "artifact": c.artifact, "row": _short(c.row, 60),
                               "column": c.column, "published": _short(c.published),
                               "regenerated": _short(c.regenerated)} for c in cells[:worst]])
        lines += [f"worst cells ({min(worst, len(cells))} of {len(cells)}):", "",
                  shown.to_markdown(index=False), ""]
    others = [a for a in comp.artifacts if a.outcome in {"missing", "extra"} or (a.outcome != "identical" and not a.cells)]
    if others:
        lines += ["artifacts without differing cells:", ""]
        lines += [f"- {a.outcome}: {a.path} ({a.note})" for a in others]
        lines.append("")
    failing = comp.failing()
    lines.append("result: " + (
        f"FAIL, {sum(a.outcome == 'decision_differs' for a in failing)} artifact(s) with a changed verdict, "
        f"rank or significance decision, {sum(a.outcome == 'missing' for a in failing)} missing"
        if failing else "ok, no verdict, rank or significance decision differs and nothing is missing"))
    return "\n".join(lines)


def _short(text: str, width: int = 40) -> str:
    text = str(text).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def write_report(comp: Comparison, stem: Path, worst: int = 10) -> list[Path]:
    """``{stem}.csv`` (per artifact), ``{stem}_cells.csv`` (every differing cell) and
    ``{stem}.md`` (the printed summary as a text block, then the table of the artifacts that are
    not byte-identical), ready to embed in the README."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = [stem.with_name(stem.name + ".csv"), stem.with_name(stem.name + "_cells.csv"),
           stem.with_name(stem.name + ".md")]
    artifacts = artifact_frame(comp)
    artifacts.to_csv(out[0], index=False)
    cell_frame(comp).to_csv(out[1], index=False)
    not_identical = artifacts[artifacts["outcome"] != "identical"]
    md = ["Output of `saliency-repro compare`:", "", "```text", summary_text(comp, worst), "```", "",
          "Artifacts that are not byte-identical:", "",
          not_identical.drop(columns=["paper_ref"]).to_markdown(index=False) if len(not_identical) else "(none)", ""]
    out[2].write_text("\n".join(md), encoding="utf-8")
    return out
