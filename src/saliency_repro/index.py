"""The artifact index: one row per final table or figure, saying which paper item it reproduces.

Rule files register each artifact at parse time with a path pattern and the concrete wildcard
values; the workflow's ``all`` target asks for every registered file and the ``artifact_index``
rule writes ``{figures_dir}/{run}/index.csv`` from the same registry, so the index lists exactly
what the DAG builds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from saliency_repro.reporting import FIGURE_FORMATS, TABLE_FORMATS

INDEX_COLUMNS = ["artifact", "paper_ref", "dataset", "crowd_source", "path", "rule", "rule_file",
                 "script", "formats", "note"]


def reproduces_paper(config: dict, paper: str) -> bool:
    """Whether some dataset of the run maps an artifact to ``paper``'s tables (``paper_refs``).

    Items listed only for a paper's completeness (Lu et al.'s Figure 2, an image from another
    study) belong in those runs' index, not in a run on other datasets.
    """
    return any(ref.startswith(f"{paper}/") for ds in config["datasets"].values()
               for ref in ds.get("paper_refs", {}).values())


@dataclass(frozen=True)
class Artifact:
    artifact: str
    paper_ref: str
    dataset: str
    crowd_source: str
    path: str
    rule: str
    formats: str
    note: str = ""


@dataclass
class ArtifactRegistry:
    """Collects artifacts as rule files are parsed."""

    entries: list[Artifact] = field(default_factory=list)

    def add(
        self,
        artifact: str,
        pattern: str,
        kind: str,
        by_rule: str,
        paper_ref: str = "",
        dataset: str = "",
        crowd_source: str = "",
        note: str = "",
        **wildcards: str,
    ) -> list[str]:
        """Register one artifact; ``pattern`` is the output stem with ``{wildcards}``.

        ``by_rule`` is the rule that writes it (``rule`` is a reserved word in Snakefiles).
        ``kind`` is ``table`` (csv/md/tex), ``figure`` (png/pdf) or ``none`` (listed for the
        record with an empty path, e.g. a paper figure that is an image from another paper).
        Returns the concrete files, for the ``all`` target.
        """
        values = {"dataset": dataset, "crowd_source": crowd_source, **wildcards}
        stem = pattern.format(**values) if pattern else ""
        formats = {"table": TABLE_FORMATS, "figure": FIGURE_FORMATS, "none": ()}[kind]
        primary = f"{stem}.{formats[0]}" if formats else ""
        self.entries.append(Artifact(
            artifact=artifact, paper_ref=paper_ref, dataset=dataset, crowd_source=crowd_source,
            path=primary, rule=by_rule, formats="/".join(formats), note=note,
        ))
        return [f"{stem}.{ext}" for ext in formats]

    def files(self) -> list[str]:
        out: list[str] = []
        for entry in self.entries:
            if entry.path:
                stem = entry.path.rsplit(".", 1)[0]
                out.extend(f"{stem}.{ext}" for ext in entry.formats.split("/"))
        return out

    def records(self) -> list[dict]:
        return [asdict(e) for e in self.entries]


def index_frame(records: list[dict], rule_code: dict[str, dict] | None = None) -> pd.DataFrame:
    """The index table; ``rule_code`` maps a rule to its ``rule_file`` and ``script``."""
    rule_code = rule_code or {}
    rows = [{**r, **{k: rule_code.get(r["rule"], {}).get(k, "") for k in ("rule_file", "script")}}
            for r in records]
    df = pd.DataFrame(rows, columns=INDEX_COLUMNS)
    return df.sort_values(["paper_ref", "artifact", "dataset", "crowd_source"], kind="stable")


def files_of(record: dict) -> list[str]:
    """Every file of one index record (all its formats)."""
    if not record["path"]:
        return []
    stem = record["path"].rsplit(".", 1)[0]
    return [f"{stem}.{ext}" for ext in record["formats"].split("/")]


def write_index(records: list[dict], rule_code: dict[str, dict], index_path: str,
                provenance_out: str, provenance_dir: str) -> None:
    """The index and, per artifact file, its lineage (``saliency_repro.provenance``) as JSON."""
    import json

    from saliency_repro.io import write_csv, write_text
    from saliency_repro.provenance import lineage

    write_csv(index_frame(records, rule_code), index_path)
    out = Path(provenance_out)
    out.mkdir(parents=True, exist_ok=True)
    for record in records:
        for f in files_of(record):
            tree = lineage(provenance_dir, f)
            write_text(out / f"{Path(f).name}.json", json.dumps(tree, indent=1, sort_keys=True))
