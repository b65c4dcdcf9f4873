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
