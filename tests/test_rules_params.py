"""Config reaches jobs only through ``params:`` (or inputs): Snakemake's rerun triggers see
params, inputs and code, never a value a script reads from ``snakemake.config`` itself."""

from __future__ import annotations

import ast

from conftest import REPO


def config_reads(path) -> list[int]:
    """Line numbers where a script touches ``snakemake.config``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "config"
            and isinstance(node.value, ast.Name) and node.value.id == "snakemake"]


def test_no_script_reads_the_config_directly():
    offenders = {p.name: lines for p in sorted((REPO / "scripts").glob("*.py"))
                 if (lines := config_reads(p))}
    assert offenders == {}, f"scripts reading snakemake.config (pass the values as params): {offenders}"


def test_the_check_finds_a_direct_read(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("x = snakemake.params.a\ny = snakemake.config['crowd']\n")
    assert config_reads(script) == [2]


def rules_without_input(smk_text: str) -> list[str]:
    """Names of the rules of a rule file that declare no ``input:``."""
    import re

    return [m.group(1) for m in re.finditer(r"^rule (\w+):\n((?:    .*\n|\n)*)", smk_text, re.M)
            if "input:" not in m.group(2)]


def test_every_table_rule_has_an_input():
    """A rule without input is never rerun for an output that exists without Snakemake's
    records: in a fresh clone, a committed table of such a rule stays what was committed, even
    after its code or settings changed. Only the downloads (checksummed) and the study export
    (a snapshot param) may have none."""
    allowed = {"fetch_released_crowd", "fetch_validation_release", "study_export"}
    found = {name for f in sorted((REPO / "rules").glob("*.smk"))
             for name in rules_without_input(f.read_text(encoding="utf-8"))}
    assert found - allowed == set()
    assert rules_without_input("rule a:\n    output:\n        'x'\n\nrule b:\n    input:\n        'y'\n") == ["a"]
