"""The method-pair diagnostic (issue 23) and Table 1 beside the printed one, on hand-made scores."""

import json

import numpy as np
import pandas as pd
import pytest

from saliency_repro.saliency.pairs import (
    KEY,
    coincidence_note,
    coinciding_pairs,
    method_pair_diagnostic,
    pair_table,
)
from saliency_repro.saliency.paper_values import TABLE1
from saliency_repro.saliency.steps import overlap_step
from saliency_repro.saliency.tables import overlap_table, overlap_vs_paper


def scores_frame(rows):
    out = []
    for (sid, method), scores in rows.items():
        for i, s in enumerate(scores):
            out.append({"sample_id": sid, "method": method, "word_index": i, "word": f"w{i}",
                        "score": float(s), "text_position": i})
    return pd.DataFrame(out)


A1 = [0.9, 0.1, 0.5, 0.3, 0.7, 0.2]
A2 = [0.2, 0.8, 0.4, 0.6, 0.1, 0.3]
WS = scores_frame({
    # deeplift = 2 * input_x_grad + tiny noise (same ranking): one method shown twice
    ("s1", "input_x_grad"): A1, ("s1", "deeplift"): [2 * v + 1e-6 * i for i, v in enumerate(A1)],
    ("s2", "input_x_grad"): A2, ("s2", "deeplift"): [2 * v for v in A2],
    # lime: the reverse on s1 (r = -1), the same on s2 (r = 1)
    ("s1", "lime"): [-v for v in A1], ("s2", "lime"): A2,
})


def test_pair_diagnostic_by_hand():
    rows = {(r["method_a"], r["method_b"]): r for r in method_pair_diagnostic(WS, [1, 2])}
    assert list(rows) == [("input_x_grad", "deeplift"), ("input_x_grad", "lime"), ("deeplift", "lime")]
    same = rows[("input_x_grad", "deeplift")]
    assert same["r_mean"] == pytest.approx(1.0, abs=1e-6)
    assert same["identical_display_rate"] == 1.0 and same["display_overlap"] == 1.0 and same["coincide"]
    lime = rows[("input_x_grad", "lime")]
    assert lime["r_mean"] == pytest.approx(0.0, abs=1e-12)    # (-1 + 1) / 2
    assert lime["r_min"] == pytest.approx(-1.0)
    # s1: top-1 {0} vs {1}, top-2 {0,4} vs {1,5}: differ; s2: identical at both k -> 2 of 4
    assert lime["identical_display_rate"] == 0.5
    assert lime["identical_display_rate_by_k"] == {"1": 0.5, "2": 0.5}
    assert lime["display_overlap"] == 0.5  # s1 shares no word at either k, s2 all
    assert not lime["coincide"]


def test_coinciding_pairs_from_the_diagnostics_file(tmp_path):
    path = tmp_path / "diagnostics.json"
    path.write_text(json.dumps({"n_samples": 2, KEY: method_pair_diagnostic(WS, [1, 2])}))
    assert coinciding_pairs(path) == [("input_x_grad", "deeplift")]
    assert coinciding_pairs(json.loads(path.read_text())) == [("input_x_grad", "deeplift")]
    note = coincidence_note(path)
    assert "INPUT×GRAD and DEEPLIFT" in note and "LIME" not in note
    with pytest.raises(ValueError, match=KEY):
        coinciding_pairs({"n_samples": 2})


def test_table1_caption_names_coinciding_methods(tmp_path):
    ws_path, diag_path = tmp_path / "ws.parquet", tmp_path / "diagnostics.json"
    WS.to_parquet(ws_path)
    diag_path.write_text(json.dumps({KEY: method_pair_diagnostic(WS, [2])}))
    overlap_step(str(ws_path), str(tmp_path / "t1"), 2, "score", "Table 1.", diagnostics=str(diag_path),
                 pairs_stem=str(tmp_path / "pairs"), pairs_caption="Pairs.")
    md = (tmp_path / "t1.md").read_text()
    assert "Coinciding methods: INPUT×GRAD and DEEPLIFT" in md
    # the diagnostic as its own table: one row per pair, by hand as in the test above
    pairs = pd.read_csv(tmp_path / "pairs.csv").set_index(["method A", "method B"])
    assert list(pairs.index) == [("INPUT×GRAD", "DEEPLIFT"), ("INPUT×GRAD", "LIME"), ("DEEPLIFT", "LIME")]
    assert pairs.loc[("INPUT×GRAD", "DEEPLIFT"), "coincide"] == "yes"
    assert pairs.loc[("INPUT×GRAD", "LIME"), "shown words in common"] == 0.5
    assert pd.isna(pairs.loc[("DEEPLIFT", "LIME"), "coincide"])
    assert (tmp_path / "pairs.md").read_text().startswith("**Pairs.**")
    # the per-k columns in k order, also when the diagnostics' keys come back sorted as strings
    rows = json.loads(json.dumps(method_pair_diagnostic(WS, [2, 10]), sort_keys=True))
    assert [c for c in pair_table(rows).columns if c.startswith("identical k=")] == ["identical k=2",
                                                                                    "identical k=10"]
    # no coinciding pair, no note
    ws2 = WS[WS["method"] != "deeplift"]
    ws2.to_parquet(ws_path)
    diag_path.write_text(json.dumps({KEY: method_pair_diagnostic(ws2, [2])}))
    overlap_step(str(ws_path), str(tmp_path / "t2"), 2, "score", "Table 1.", diagnostics=str(diag_path))
    assert "Coinciding" not in (tmp_path / "t2.md").read_text()


def test_table1_beside_the_printed_table(tmp_path):
    t = overlap_table(WS, k=2)
    both = overlap_vs_paper(t, TABLE1)
    assert both["source"].tolist() == ["this run"] * 3 + ["paper"] * 3 + ["this run - paper"] * 3
    paper = both[both["source"] == "paper"].set_index("method")
    assert paper.loc["INPUT×GRAD", "DEEPLIFT"] == 87.2      # printed Table 1
    assert paper.loc["LIME", "INPUT×GRAD"] == 28.3
    diff = both[both["source"] == "this run - paper"].set_index("method")
    assert diff.loc["INPUT×GRAD", "DEEPLIFT"] == pytest.approx(100.0 - 87.2)
    ws_path = tmp_path / "ws.parquet"
    WS.to_parquet(ws_path)
    overlap_step(str(ws_path), str(tmp_path / "t1"), 2, "score", "Table 1.", paper_ref="lu2024/table1")
    csv = pd.read_csv(tmp_path / "t1.csv")
    assert set(csv["source"]) == {"this run", "paper", "this run - paper"}
    md = (tmp_path / "t1.md").read_text()
    assert "printed Table 1" in md and "top-2, not 40" in md
    assert np.isfinite(csv.drop(columns=["source", "method"]).to_numpy(dtype=float)).all()


def test_attribute_step_writes_the_pair_and_deeplift_diagnostics(tmp_path, caplog):
    """The attribute rule's diagnostics hold the method pairs at the dataset's k grid and
    DeepLift's rescale gap; with a linear-range pooler DEEPLIFT and INPUT×GRAD coincide and the
    step warns."""
    import logging

    torch = pytest.importorskip("torch")
    from saliency_repro.classify.model import build_classifier
    from saliency_repro.saliency.steps import attribute_step

    texts = ["the film was brilliant and the cast was superb", "a dull boring plot with bad acting",
             "stock markets fell as the bank raised rates again today"]
    torch.manual_seed(0)
    model, tok = build_classifier({"type": "scratch", "hidden_size": 16, "num_layers": 1, "num_heads": 2,
                                   "intermediate_size": 32, "vocab_size": 120}, ["neg", "pos"], 32,
                                  train_texts=texts * 3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
        model.bert.pooler.dense.weight.normal_(0.0, 1e-3)   # |z| tiny: tanh is linear there
    model.save_pretrained(tmp_path / "model")
    tok.save_pretrained(tmp_path / "model")
    pd.DataFrame({"id": ["a", "b", "c"], "text": texts, "label": [1, 0, 1], "pred": [1, 0, 0]}).to_parquet(
        tmp_path / "samples.parquet")
    cfg = {"methods": ["vanilla_gradient", "input_x_grad", "deeplift"], "batch_size": 2}
    with caplog.at_level(logging.WARNING):
        attribute_step(str(tmp_path / "samples.parquet"), str(tmp_path / "model"), str(tmp_path / "ws.parquet"),
                       str(tmp_path / "diagnostics.json"), cfg, 32, 13, "cpu", ks=[2, 3])
    diag = json.loads((tmp_path / "diagnostics.json").read_text())
    assert [(r["method_a"], r["method_b"]) for r in diag[KEY]] == [
        ("vanilla_gradient", "input_x_grad"), ("vanilla_gradient", "deeplift"), ("input_x_grad", "deeplift")]
    assert set(diag[KEY][0]["identical_display_rate_by_k"]) == {"2", "3"}
    assert diag["deeplift"]["deeplift_rescale_gap_max"] < 1e-3
    assert ("input_x_grad", "deeplift") in coinciding_pairs(tmp_path / "diagnostics.json")
    assert "Coinciding methods: INPUT×GRAD and DEEPLIFT" in caplog.text


def test_one_word_swapped_at_the_edge_still_coincides():
    """Issue 23 on real text: DEEPLIFT and INPUT×GRAD differ in the fifth decimal, which swaps
    one word at the edge of some top-k sets; the displays are then not identical, but the crowd
    sees 19 of 20 words the same. By hand: 40 words, scores 1, 0.975, ..., the second method
    swaps words 19 and 20; at k = 20 one word of 20 differs (95 % shared), no display is
    identical, and r is 1 - 6 * 0.025^2 * 2 / (40 * (40^2 - 1) * 0.025^2) (Spearman's
    formula holds for Pearson here: the scores are evenly spaced ranks)."""
    x = [1 - 0.025 * i for i in range(40)]
    y = list(x)
    y[19], y[20] = y[20], y[19]
    frame = scores_frame({("s1", "input_x_grad"): x, ("s1", "deeplift"): y})
    row = method_pair_diagnostic(frame, [20])[0]
    assert row["identical_display_rate"] == 0.0
    assert row["display_overlap"] == pytest.approx(19 / 20)
    assert row["r_mean"] == pytest.approx(1 - 6 * 2 / (40 * (40 ** 2 - 1)))
    assert row["coincide"]
    assert "shown words in common 95.0 %" in coincidence_note([row])
    # a second swap (words 18 and 21): 18 of 20 shared, below the 95 % line
    y[18], y[21] = y[21], y[18]
    frame = scores_frame({("s1", "input_x_grad"): x, ("s1", "deeplift"): y})
    row = method_pair_diagnostic(frame, [20])[0]
    assert row["display_overlap"] == pytest.approx(18 / 20) and not row["coincide"]
