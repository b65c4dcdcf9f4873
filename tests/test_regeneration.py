"""``saliency-repro compare``: every outcome class on small edits of the committed demo tree.

Each test copies ``paper_figures/demo`` twice into ``tmp_path`` (published, regenerated),
edits cells of the regenerated copy by text replacement, and checks the class the comparison
gives against the one written here by hand from the edit and the documented tolerances
(percentages +-0.5 pp, scores +-0.005, p-values +-0.3 in log10, alpha 0.05).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from saliency_repro.cli import main
from saliency_repro.regeneration import CompareError, compare_trees

REPO = Path(__file__).resolve().parents[1]
#: a frozen excerpt of the demo tree (12 artifacts as an earlier release published them): the
#: edits below name its cells, so it must not move when paper_figures/demo is regenerated
DEMO = REPO / "tests" / "data" / "regeneration" / "demo"

CLAIMS = "claims_lu2024_simulated.csv"
SIGNIFICANCE = "lu2024/significance_sentiment_simulated.csv"
AGREEMENT = "lu2024/aggregation_agreement_sentiment_simulated.csv"
SCORES = "lu2024/crowd_scores_topic_simulated.csv"
FLIPS = "lu2024/flip_counts_topic_simulated.csv"
TAU = "lu2024/metric_agreement_tau_topic.csv"


def copy_demo(dest: Path) -> Path:
    """A copy of the demo tree (tables, figures, index) without anything git-ignored."""
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns("provenance*", "report.html"))
    return dest


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    return copy_demo(tmp_path / "published" / "demo"), copy_demo(tmp_path / "regenerated" / "demo")


def edit(tree: Path, rel: str, old: str, new: str) -> None:
    path = tree / rel
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in {rel}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def outcome(comp, rel: str) -> str:
    [found] = [a for a in comp.artifacts if a.path == rel]
    return found.outcome


def differing(comp, rel: str) -> list[tuple[str, str, str, str, str]]:
    [found] = [a for a in comp.artifacts if a.path == rel]
    return [(c.row, c.column, c.published, c.regenerated, c.outcome) for c in found.cells]


def test_an_unchanged_copy_is_identical_and_passes(trees, tmp_path, capsys):
    published, regenerated = trees
    comp = compare_trees(published, regenerated)
    n_indexed = sum(1 for p in pd.read_csv(DEMO / "index.csv", keep_default_na=False)["path"] if p)
    assert comp.counts()["identical"] == n_indexed == len(comp.artifacts)
    assert main(["compare", str(published), str(regenerated), "--out", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert f"{n_indexed} artifacts: {n_indexed} identical, 0 within_tolerance" in printed
    assert (tmp_path / "report.csv").is_file() and (tmp_path / "report.md").is_file()


def test_a_percentage_within_and_beyond_tolerance(trees):
    published, regenerated = trees
    # accuracy_mv of RANDOM: 68.5 -> 68.8 is 0.3 pp, inside 0.5 pp
    edit(regenerated, AGREEMENT, "RANDOM,200,68.5,", "RANDOM,200,68.8,")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, AGREEMENT) == "within_tolerance"
    assert differing(comp, AGREEMENT) == [("RANDOM", "accuracy_mv", "68.5", "68.8", "within_tolerance")]
    assert not comp.failing()
    # 68.5 -> 70.0 is 1.5 pp: numbers differ, which does not fail the comparison
    edit(regenerated, AGREEMENT, "RANDOM,200,68.8,", "RANDOM,200,70.0,")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, AGREEMENT) == "numbers_differ"
    assert not comp.failing()


def test_counts_are_exact(trees):
    published, regenerated = trees
    edit(regenerated, FLIPS, "RANDOM,13,24,3,40,13", "RANDOM,14,24,3,40,13")
    comp = compare_trees(published, regenerated)
    assert differing(comp, FLIPS) == [("RANDOM", "Flips", "13", "14", "numbers_differ")]
    assert outcome(comp, FLIPS) == "numbers_differ"
    # the histogram drawn from it was not touched: its image is identical
    assert outcome(comp, "lu2024/flip_histogram_topic_simulated.png") == "identical"


def test_a_changed_verdict_fails(trees, tmp_path, capsys):
    published, regenerated = trees
    edit(regenerated, CLAIMS, "0.0341965803419658,holds", "0.0341965803419658,does not hold")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, CLAIMS) == "decision_differs"
    assert differing(comp, CLAIMS) == [("better_than_random:all_attention / sentiment", "verdict",
                                        "holds", "does not hold", "decision_differs")]
    assert main(["compare", str(published), str(regenerated), "--out", str(tmp_path / "r")]) == 1
    printed = capsys.readouterr().out
    assert re.search(r"\| decision_differs \| claims_lu2024_simulated +\| better_than_random:all_attention / sentiment +"
                     r"\| verdict +\| holds +\| does not hold +\|", printed), printed
    assert "FAIL, 1 artifact(s) with a changed verdict, rank or significance decision, 0 missing" in printed
    written = pd.read_csv(tmp_path / "r.csv", keep_default_na=False).set_index("path")
    assert written.loc[CLAIMS, "outcome"] == "decision_differs"
    cells = pd.read_csv(tmp_path / "r_cells.csv", keep_default_na=False)
    assert cells[["column", "published", "regenerated"]].values.tolist() == [["verdict", "holds", "does not hold"]]


def test_a_changed_rank_fails_and_a_ranked_value_within_tolerance_does_not(trees):
    published, regenerated = trees
    # the score of LAST ATTENTION moves by 0.2 pp, its rank stays 2
    edit(regenerated, SCORES, "85 (2),87.2 (2)", "85 (2),87.4 (2)")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, SCORES) == "within_tolerance"
    # at 5 words LAST ATTENTION falls from rank 2 to 3 with the same rounded value
    edit(regenerated, SCORES, "LAST ATTENTION,82 (2),", "LAST ATTENTION,82 (3),")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, SCORES) == "decision_differs"
    assert ("LAST ATTENTION", "5 Words", "82 (2)", "82 (3)", "decision_differs") in differing(comp, SCORES)
    assert [a.path for a in comp.failing()] == [SCORES]


def test_p_values_on_the_log_scale_and_across_alpha(trees):
    published, regenerated = trees
    # perm_p of ALL ATTENTION 0.0171: 0.0250 is 0.17 in log10 (inside 0.3), same side of 0.05
    edit(regenerated, SIGNIFICANCE, ",0.0170982901709829,", ",0.025,")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, SIGNIFICANCE) == "within_tolerance"
    # 0.001 is 1.23 in log10 away, still significant: numbers differ, no decision changed
    edit(regenerated, SIGNIFICANCE, ",0.025,", ",0.001,")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, SIGNIFICANCE) == "numbers_differ"
    assert not comp.failing()
    # 0.06 is only 0.55 in log10 away but crosses alpha = 0.05: a significance decision
    edit(regenerated, SIGNIFICANCE, ",0.001,", ",0.06,")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, SIGNIFICANCE) == "decision_differs"
    assert differing(comp, SIGNIFICANCE) == [("ALL ATTENTION", "perm_p", "0.0170982901709829", "0.06",
                                             "decision_differs")]
    # a stricter alpha puts both on the same side
    from saliency_repro.regeneration import Tolerances
    strict = compare_trees(published, regenerated, Tolerances(alpha=0.01))
    assert outcome(strict, SIGNIFICANCE) == "numbers_differ"


def test_a_missing_artifact_fails_and_an_extra_one_does_not(trees, tmp_path):
    published, regenerated = trees
    (regenerated / FLIPS).unlink()
    (regenerated / "lu2024" / "task_example_topic.png").unlink()
    comp = compare_trees(published, regenerated)
    assert outcome(comp, FLIPS) == "missing"
    assert outcome(comp, "lu2024/task_example_topic.png") == "missing"
    assert sorted(a.path for a in comp.failing()) == [FLIPS, "lu2024/task_example_topic.png"]
    assert main(["compare", str(published), str(regenerated), "--out", str(tmp_path / "r")]) == 1

    published, regenerated = (copy_demo(tmp_path / side / "demo") for side in ("p2", "r2"))
    index = (regenerated / "index.csv").read_text(encoding="utf-8")
    index += ("new_table,,topic,,paper_figures/demo/lu2024/new_table_topic.csv,some_rule,rules/x.smk,"
              "scripts/x.py,csv/md/tex,\n")
    (regenerated / "index.csv").write_text(index, encoding="utf-8")
    for ext in ("csv", "md", "tex"):
        (regenerated / "lu2024" / f"new_table_topic.{ext}").write_text("a\n1\n")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, "lu2024/new_table_topic.csv") == "extra"
    assert not comp.failing()
    # index.csv itself differs, but it is not an artifact of its own
    assert comp.counts()["identical"] == len(comp.artifacts) - 1


def test_reordered_rows_and_a_changed_rendering_are_within_tolerance(trees):
    published, regenerated = trees
    lines = (regenerated / AGREEMENT).read_text(encoding="utf-8").splitlines(keepends=True)
    (regenerated / AGREEMENT).write_text("".join([lines[0], *reversed(lines[1:])]), encoding="utf-8")
    md = regenerated / "lu2024" / "flip_counts_sentiment_simulated.md"
    md.write_text(md.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, AGREEMENT) == "within_tolerance"
    assert differing(comp, AGREEMENT) == []
    assert outcome(comp, "lu2024/flip_counts_sentiment_simulated.csv") == "within_tolerance"


def test_figures_are_judged_through_their_tables(trees):
    published, regenerated = trees
    # same table, different image bytes: a rendering difference
    png = regenerated / "lu2024" / "flip_histogram_sentiment_simulated.png"
    png.write_bytes(png.read_bytes() + b"\0")
    # a figure drawn from no indexed table can only differ by hash
    example = regenerated / "lu2024" / "task_example_sentiment.png"
    example.write_bytes(example.read_bytes() + b"\0")
    # the heat map's table has a p-value crossing alpha (0.0055 -> 0.07), and its image differs
    edit(regenerated, TAU, "0.5696428571428588,0.9285714285714286,0.005505952380952381,",
         "0.5696428571428588,0.9285714285714286,0.07,")
    heat = regenerated / "lu2024" / "metric_agreement_topic.png"
    heat.write_bytes(heat.read_bytes() + b"\0")
    comp = compare_trees(published, regenerated)
    assert outcome(comp, "lu2024/flip_histogram_sentiment_simulated.png") == "within_tolerance"
    assert outcome(comp, "lu2024/task_example_sentiment.png") == "numbers_differ"
    assert outcome(comp, TAU) == "decision_differs"
    assert outcome(comp, "lu2024/metric_agreement_topic.png") == "decision_differs"


def test_a_tree_without_index_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CompareError, match="index.csv: missing"):
        compare_trees(tmp_path / "empty", DEMO)
    assert main(["compare", str(tmp_path / "empty"), str(DEMO), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{tmp_path / 'empty' / 'index.csv'}: missing" in err


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git (Debian package git)")
def test_against_a_git_revision(tmp_path, capsys):
    repo = tmp_path / "repo"
    tree = copy_demo(repo / "paper_figures" / "demo")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "published")
    out = str(tmp_path / "r")
    # unchanged working tree against HEAD: nothing differs
    assert main(["compare", "HEAD", str(tree), "--out", out]) == 0
    assert "published:   HEAD:paper_figures/demo" in capsys.readouterr().out
    # regenerate in place with one changed verdict
    edit(tree, CLAIMS, "0.0341965803419658,holds", "0.0341965803419658,does not hold")
    assert main(["compare", "HEAD", str(tree), "--out", out]) == 1
    assert main(["compare", "HEAD:paper_figures/demo", str(tree), "--out", out]) == 1
    written = pd.read_csv(out + ".csv", keep_default_na=False).set_index("path")
    assert written.loc[CLAIMS, "outcome"] == "decision_differs"
    assert (written["outcome"] == "identical").sum() == len(written) - 1
    capsys.readouterr()
    # an unknown revision and a path not in the revision: one line, exit 2
    assert main(["compare", "v9", str(tree), "--out", out]) == 2
    assert "unknown git revision 'v9'" in capsys.readouterr().err
    assert main(["compare", "HEAD:paper_figures/other", str(tree), "--out", out]) == 2
    assert "'paper_figures/other' is not in revision 'HEAD'" in capsys.readouterr().err
