"""The claims tables, and the README's results block that is rendered from them."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared_data_dir

from saliency_repro.claims import (
    FAILS,
    HOLDS,
    readme_block,
    replace_readme_block,
    tuckey_claims,
)
from saliency_repro.cli import README_BLOCKS, render_block


def test_readme_results_block_matches_the_committed_claims_table():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, table in README_BLOCKS.items():
        assert render_block(name, table, REPO) in readme, f"README block {name!r} is stale: run `make readme`"


def test_replace_readme_block_round_trip():
    text = "intro\n<!-- claims:x:begin -->\nold\n<!-- claims:x:end -->\noutro\n"
    claims = pd.DataFrame([{"dataset": "d", "claim": "c", "statistic": "s", "value": 1.5,
                            "ci_low": np.nan, "ci_high": np.nan, "test": "t", "p_value": 0.01,
                            "verdict": HOLDS}])
    out = replace_readme_block(text, readme_block(claims, "x", "f.csv"), "x")
    assert out.startswith("intro\n") and out.endswith("\noutro\n") and "\nold\n" not in out
    assert "| d | c | s | 1.5 | t, p = 0.01 | **holds** |" in out
    with pytest.raises(ValueError, match="no block 'y'"):
        replace_readme_block(text, "", "y")


def test_tuckey_claims_known_answers():
    # 100 summaries, Spearman mean 0.9, sd 0.1: CI half-width 1.96 * 0.1 / 10 = 0.0196
    sim = pd.DataFrame([
        {"maps": "lrp", "summaries": 100, "spearman_mean": 0.9, "spearman_sd": 0.1},
        {"maps": "lrp_shuffled", "summaries": 100, "spearman_mean": 0.0, "spearman_sd": 0.02},
    ])
    cf = pd.DataFrame([
        {"measure": "rougeL_change", "variant": "free", "method": "lrp", "k": k, "articles": 40,
         "confirmed_fraction": f, "ci_low": f - 0.1, "ci_high": f + 0.1,
         "wilcoxon_p": p, "median_difference": md}
        for k, f, p, md in [(2, 0.1, 0.5, 0.0), (4, 0.3, 0.2, 0.01), (8, 0.6, 0.01, 0.2)]
    ] + [{"measure": "logprob_drop", "variant": "free", "method": "lrp", "k": 4, "articles": 40,
          "confirmed_fraction": 1.0, "ci_low": 0.9, "ci_high": 1.0, "wilcoxon_p": 1e-6,
          "median_difference": 3.0}])
    rows = {r["claim_id"]: r for r in tuckey_claims("d", sim, cf, 0.05)}
    alike = rows["maps_alike"]
    assert alike["ci_low"] == pytest.approx(0.9 - 0.0196) and alike["verdict"] == HOLDS
    # the middle of k = 2, 4, 8 is 4: p = 0.2, not significant
    rl = rows["deletion_changes_more:rougeL_change"]
    assert rl["value"] == 0.3 and rl["p_value"] == 0.2 and rl["verdict"] == FAILS
    assert rows["deletion_changes_more:logprob_drop"]["verdict"] == HOLDS
    # maps that do not look alike
    sim.loc[0, "spearman_mean"] = 0.01
    rows = {r["claim_id"]: r for r in tuckey_claims("d", sim, cf.iloc[:0], 0.05)}
    assert rows["maps_alike"]["verdict"] == FAILS and len(rows) == 1


@pytest.mark.shared_data
@pytest.mark.slow
def test_released_claims_regenerate_to_the_committed_table(tmp_path):
    """`make released` on the authors' files reproduces the committed claims table exactly."""
    release = shared_data_dir() / "lu2024-crowd-release"
    if not (release / "IMDB.csv").is_file():
        pytest.skip(f"{release} not available")
    work = tmp_path / "wf"
    shutil.copytree(REPO, work, ignore=shutil.ignore_patterns(
        ".venv", "results", ".snakemake", "paper_figures", ".git", "__pycache__"))
    subprocess.run([sys.executable, "-m", "snakemake", "released_crowd_tables", "--cores", "2",
                    "--configfile", "configs/paper.yaml", "--config", f"download_mirror={release}"],
                   cwd=work, check=True, capture_output=True)
    got = pd.read_csv(work / "paper_figures/paper/claims_lu2024_released.csv")
    want = pd.read_csv(REPO / "paper_figures/paper/claims_lu2024_released.csv")
    pd.testing.assert_frame_equal(got, want)
