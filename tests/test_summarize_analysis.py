"""Similarity, recall and conservation summaries of LRP maps; figure smoke test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saliency_repro.summarize import analysis


def _maps():
    rows = []
    base = np.array([3.0, 1.0, 0.5, -1.0, 0.0, 2.0])
    for id_, factor in [("a", 1.0), ("b", -1.0)]:
        for t in range(3):
            rows.append({"id": id_, "step": t, "source": (factor * base * (t + 1)).tolist(),
                         "attention": np.eye(6)[t].tolist(), "known_positions": [t],
                         "logit": 1.0, "source_total": 0.5, "decoder_total": 0.25, "absorbed": 0.25})
    return pd.DataFrame(rows)


def test_identical_maps_have_similarity_one_and_shuffles_are_lower():
    per = analysis.similarity_per_summary(_maps(), shuffles=20, seed=0)
    table = analysis.similarity_table(per).set_index("maps")
    assert table.loc["lrp", "spearman_mean"] == pytest.approx(1.0)
    assert table.loc["lrp", "cosine_mean"] == pytest.approx(1.0)
    assert table.loc["lrp_shuffled", "cosine_mean"] < 0.6
    assert table.loc["attention", "cosine_mean"] == pytest.approx(0.0)
    assert table.loc["lrp", "summaries"] == 2


def test_topk_recall_and_recall_table():
    assert analysis.topk_recall(np.array([0.1, 0.9, 0.5]), [1], 1) == 1.0
    assert analysis.topk_recall(np.array([0.1, 0.9, 0.5]), [0, 2], 2) == 0.5
    table = analysis.recall_table(_maps(), [1, 6]).set_index(["method", "k"])
    assert table.loc[("attention", 1), "recall"] == 1.0  # attention = one-hot on the known word
    assert table.loc[("lrp", 6), "recall"] == 1.0
    assert table.loc[("chance", 1), "recall"] == pytest.approx(1 / 6)


def test_conservation_table_reports_zero_residual():
    table = analysis.conservation_table(_maps()).set_index("quantity")
    assert table.loc["max |residual| (logit - parts)", "mean"] == pytest.approx(0.0)
    assert table.loc["input words (source)", "mean"] == pytest.approx(0.5)


def test_figures_render(tmp_path):
    from saliency_repro.reporting import save_figure
    from saliency_repro.summarize import figures

    toks = [f"w{i}" for i in range(20)]
    rel = np.linspace(-1, 1, 20)
    save_figure(figures.figure_example(toks, ["w1", "w2"], ["w1"], "[t] fig1"), tmp_path / "f1")
    save_figure(figures.figure_word_map(toks, rel, "w1", "[t] fig2"), tmp_path / "f2")
    save_figure(figures.figure_map_matrix(toks, ["1:a", "2:b"], np.stack([rel, -rel]),
                                          np.full((2, 20), 0.05), "[t] fig3"), tmp_path / "f3")
    assert all((tmp_path / f"f{i}.{ext}").stat().st_size > 0 for i in (1, 2, 3) for ext in ("png", "pdf"))


def test_vectorized_spearman_matches_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 9))
    m[1, :3] = m[1, 3]  # ties
    expected = np.mean([spearmanr(m[a], m[b]).statistic for a in range(4) for b in range(a + 1, 4)])
    sp, co = analysis.pairwise_similarity(m)
    assert sp == pytest.approx(expected, abs=1e-12)
    assert -1 <= co <= 1
