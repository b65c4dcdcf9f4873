"""Package code as a rerun trigger: the digest follows a script's imports, by content."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import REPO

from saliency_repro import provenance


@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the package that the test may edit, seen by ``provenance``."""
    copy = tmp_path / "saliency_repro"
    shutil.copytree(REPO / "src" / "saliency_repro", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(provenance, "PACKAGE_DIR", copy)
    provenance.package_modules_of.cache_clear()
    yield copy
    provenance.package_modules_of.cache_clear()


def script(tmp_path, text: str):
    path = tmp_path / "script.py"
    path.write_text(text)
    return path


def test_modules_follow_imports_transitively(tmp_path, package_copy):
    s = script(tmp_path, "def f():\n    from saliency_repro.crowd.scores import score\n")
    names = {str(p.relative_to(package_copy)) for p in provenance.package_modules_of(s)}
    # crowd/scores.py imports saliency_repro.names; parents' __init__ files run too
    assert {"__init__.py", "crowd/__init__.py", "crowd/scores.py", "names.py"} <= names
    assert "summarize/lrp.py" not in names and "claims.py" not in names


def test_digest_changes_with_content_only(tmp_path, package_copy):
    s = script(tmp_path, "from saliency_repro.crowd import scores\n")
    before = provenance.code_digest(s)
    target = package_copy / "crowd" / "scores.py"
    os.utime(target, (1, 1))  # touched, same content
    assert provenance.code_digest(s) == before
    (package_copy / "summarize" / "lrp.py").write_text("# unrelated edit\n")
    assert provenance.code_digest(s) == before
    target.write_text(target.read_text() + "\n# an edit\n")
    assert provenance.code_digest(s) != before


# ---------------------------------------------------------------------------- lineage
def _write_record(prov, rule, inputs, outputs):
    import json

    rec = {"rule": rule, "rule_file": "rules/x.smk", "script": f"scripts/{rule}.py",
           "git": {"commit": "abc", "dirty": False}, "params": {"source": {"type": "url", "url": "u"}},
           "inputs": [{"path": str(p), "sha256": provenance.sha256_file(p)} for p in inputs],
           "outputs": [{"path": str(p), "sha256": provenance.sha256_file(p)} for p in outputs]}
    for out in outputs:
        target = provenance.record_path(prov, out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(rec))


def test_lineage_traces_to_the_source_and_verify_finds_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prov = tmp_path / "results" / "run" / "provenance"
    raw, mid, final = tmp_path / "raw.csv", tmp_path / "mid.parquet", tmp_path / "final.csv"
    raw.write_text("a,b\n1,2\n")
    mid.write_text("mid")
    final.write_text("final")
    _write_record(prov, "prepare", [raw], [mid])
    _write_record(prov, "table", [mid], [final])
    tree = provenance.lineage(prov, final)
    assert tree["record"]["rule"] == "table"
    (child,) = tree["inputs"]
    assert child["path"] == str(mid) and child["record"]["rule"] == "prepare"
    (source,) = child["inputs"]
    assert source["record"] is None and source["sha256"] == provenance.sha256_file(raw)
    text = provenance.render_tree(tree)
    assert "[rule table: scripts/table.py" in text and "[source file]" in text and "source: type=url" in text
    assert provenance.verify(tree) == []
    raw.write_text("a,b\n1,3\n")
    (problem,) = provenance.verify(tree)
    assert problem.startswith(f"{raw}: changed")
    assert provenance.find_provenance_dir(final, tmp_path) == prov.relative_to(tmp_path) or \
        provenance.find_provenance_dir(final, tmp_path).resolve() == prov.resolve()


def test_lineage_command_exit_status(tmp_path, monkeypatch, capsys):
    from saliency_repro.cli import main

    monkeypatch.chdir(tmp_path)
    prov = tmp_path / "results" / "run" / "provenance"
    raw, final = tmp_path / "raw.csv", tmp_path / "final.csv"
    raw.write_text("x")
    final.write_text("y")
    _write_record(prov, "table", [raw], [final])
    assert main(["lineage", str(final), "--verify", "--provenance-dir", str(prov)]) == 0
    final.write_text("edited")
    assert main(["lineage", str(final), "--verify", "--provenance-dir", str(prov)]) == 1
    assert "changed" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no provenance record"):
        main(["lineage", str(tmp_path / "nothing.csv")])


def test_digest_covers_the_script_itself(tmp_path, package_copy):
    """Snakemake judges scripts by mtime; the digest (a param) judges them by content."""
    s = script(tmp_path, "x = 1\n")
    before = provenance.code_digest(s)
    os.utime(s, (1, 1))
    assert provenance.code_digest(s) == before
    s.write_text("x = 2\n")
    assert provenance.code_digest(s) != before
