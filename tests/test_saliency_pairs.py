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
    assert same["identical_display_rate"] == 1.0 and same["coincide"]
    lime = rows[("input_x_grad", "lime")]
    assert lime["r_mean"] == pytest.approx(0.0, abs=1e-12)    # (-1 + 1) / 2
    assert lime["r_min"] == pytest.approx(-1.0)
    # s1: top-1 {0} vs {1}, top-2 {0,4} vs {1,5}: differ; s2: identical at both k -> 2 of 4
    assert lime["identical_display_rate"] == 0.5
    assert lime["identical_display_rate_by_k"] == {"1": 0.5, "2": 0.5}
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
    overlap_step(str(ws_path), str(tmp_path / "t1"), 2, "score", "Table 1.", diagnostics=str(diag_path))
    md = (tmp_path / "t1.md").read_text()
    assert "Coinciding methods: INPUT×GRAD and DEEPLIFT" in md
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
