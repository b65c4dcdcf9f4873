"""Recompute the paper's Tables 3, 4 and 7 from the authors' released labels.

Needs the shared data folder (env SALIENCY_REPRO_SHARED_DATA, default ../shared/data beside the repo);
skipped cleanly when absent. The comparison reports which cells differ from the printed paper
and checks only that everything else agrees; it does not force agreement.
"""

from __future__ import annotations

import pytest
from conftest import shared_data_dir

from saliency_repro.crowd import compare, paper_values
from saliency_repro.crowd.released import read_release
from saliency_repro.crowd.scores import flip_counts, flip_histogram_counts, scores_frame

SHARED = shared_data_dir()
RELEASE = SHARED / "lu2024-crowd-release"

pytestmark = pytest.mark.shared_data

CASES = [("IMDB.csv", 2, paper_values.TABLE3, "imdb"), ("AGNEWS.csv", 4, paper_values.TABLE4, "agnews")]


@pytest.fixture(scope="module", params=CASES, ids=["imdb", "agnews"])
def release(request):
    name, n_classes, table, key = request.param
    path = RELEASE / name
    if not path.is_file():
        pytest.skip(f"{path} not available (set SALIENCY_REPRO_SHARED_DATA)")
    return read_release(path, n_classes=n_classes), table, key


def test_release_shape(release):
    rel, _, _ = release
    assert len(rel.samples) == 100
    assert len(rel.aggregate) == 4000
    assert rel.aggregate.groupby("method").size().eq(500).all()


def test_tables_3_4_against_paper(release):
    rel, table, key = release
    cmp = compare.scores_vs_paper(scores_frame(rel.aggregate), table)
    differing = cmp.loc[cmp["differs"] != "", ["Method", "differs"]].to_dict("records")
    print(f"\n{key}: cells differing from the printed paper: {differing}")
    # Found when this test was written (reported, not forced): only AGNEWS DEEPLIFT's score,
    # 68.15 % in the release, printed as 68.1 (rounds to 68.2). All 80 accuracy cells, all
    # ranks and the other 15 scores agree.
    allowed = {"agnews": {"DEEPLIFT"}, "imdb": set()}[key]
    assert {d["Method"] for d in differing} <= allowed
    for d in differing:
        assert d["differs"].startswith("Score:")


def test_table_7_against_paper(release):
    rel, _, key = release
    cmp = compare.flips_vs_paper(flip_counts(rel.aggregate), paper_values.TABLE7[key])
    differing = cmp.loc[cmp["differs"] != "", ["Method", "differs"]].to_dict("records")
    print(f"\n{key}: Table 7 cells differing from the printed paper: {differing}")
    # Found (reported, not forced): INTEGRATED GRADIENT differs in both datasets
    # (IMDB Aids 15 vs printed 20; AGNEWS Flips 20 vs printed 15); the other 28 cells agree.
    assert {d["Method"] for d in differing} <= {"INTEGRATED GRADIENT"}


def test_figure_3_caption_claim(release):
    rel, _, key = release
    hist = flip_histogram_counts(rel.aggregate)
    assert hist.sum() == 100
    if key == "agnews":  # "over 30 samples ... in the AGNEWS dataset did not Flip"
        assert hist[0] > 30
