"""Atomic outputs, table/figure writers and the artifact registry."""

from __future__ import annotations

import pandas as pd
import pytest

from saliency_repro.index import ArtifactRegistry, index_frame
from saliency_repro.io import atomic_path, write_json
from saliency_repro.reporting import caption_for, save_figure, write_table


def test_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "sub" / "out.parquet"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []


def test_failed_rewrite_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.json"
    write_json(target, {"a": 1})
    with pytest.raises(ValueError), atomic_path(target) as tmp:
        tmp.write_text("{broken")
        raise ValueError
    assert target.read_text().strip().startswith("{") and '"a": 1' in target.read_text()


def test_write_table_writes_three_formats_with_caption(tmp_path):
    df = pd.DataFrame({"method": ["RANDOM", "LIME_x"], "score": [42.9, 39.0]})
    paths = write_table(df, tmp_path / "t" / "scores.csv", caption_for("demo", "Scores & ranks"))
    assert [p.suffix for p in paths] == [".csv", ".md", ".tex"]
    assert pd.read_csv(paths[0]).equals(df)
    assert paths[1].read_text().startswith("**[demo] Scores & ranks**")
    tex = paths[2].read_text()
    assert "\\caption{[demo] Scores \\& ranks}" in tex and "LIME\\_x" in tex


def test_save_figure_png_and_pdf(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    png, pdf = save_figure(fig, tmp_path / "fig.png")
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"


def test_registry_lists_files_and_records():
    reg = ArtifactRegistry()
    files = reg.add("crowd_scores", "out/{dataset}_{crowd_source}", "table", by_rule="crowd_tables",
                    paper_ref="lu2024/table3", dataset="imdb", crowd_source="released")
    reg.add("flip_histogram", "out/hist_{dataset}", "figure", by_rule="flips", dataset="imdb")
    reg.add("vision", "", "none", by_rule="", paper_ref="lu2024/figure2", note="not reproduced")
    assert files == ["out/imdb_released.csv", "out/imdb_released.md", "out/imdb_released.tex"]
    assert reg.files() == files + ["out/hist_imdb.png", "out/hist_imdb.pdf"]
    frame = index_frame(reg.records())
    assert list(frame.columns[:6]) == ["artifact", "paper_ref", "dataset", "crowd_source", "path", "rule"]
    row = frame[frame.artifact == "vision"].iloc[0]
    assert row.path == "" and row.note == "not reproduced"
    assert frame[frame.artifact == "crowd_scores"].iloc[0].rule == "crowd_tables"


def test_paper_only_rows_belong_to_runs_that_reproduce_that_paper(demo_config):
    from saliency_repro.index import reproduces_paper

    assert reproduces_paper(demo_config, "lu2024")
    for ds in demo_config["datasets"].values():
        ds["paper_refs"] = {}
    assert not reproduces_paper(demo_config, "lu2024")
    demo_config["datasets"]["topic"]["paper_refs"] = {"rouge": "tuckey2019/figure1"}
    assert not reproduces_paper(demo_config, "lu2024") and reproduces_paper(demo_config, "tuckey2019")
