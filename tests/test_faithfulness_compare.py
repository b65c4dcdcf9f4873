"""The extended Table 5: ranks, Kendall tau of each metric's ranking vs the human ranking with a
bootstrap CI over samples, the printed Table 5, and the Q2 claims, on hand-made data whose
answers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saliency_repro.claims import CLAIM_COLUMNS
from saliency_repro.faithfulness.compare import (
    CompareSettings,
    compare,
    comparison_table,
    printed_agreement,
    q2_claims,
    q2_printed_claims,
)

KS = [5, 10, 20, 30, 40]
# comprehensiveness (higher better) and sufficiency (lower better) both rank LIME first
COMP = {"lime": 0.5, "integrated_gradients": 0.4, "vanilla_gradient": 0.3, "input_x_grad": 0.2, "random": 0.1}
SUFF = {"lime": 0.0, "integrated_gradients": 0.1, "vanilla_gradient": 0.2, "input_x_grad": 0.3, "random": 0.4}
# the crowd is right on the last c of the five k: IG > VG > IxG > RANDOM > LIME at every k
CORRECT_K = {"integrated_gradients": 5, "vanilla_gradient": 4, "input_x_grad": 3, "random": 2, "lime": 1}


def per_sample(ids):
    rows = []
    for sid in ids:
        for m in COMP:
            rows += [{"sample_id": sid, "method": m, "n_words": 30, "target": 1, "p_full": 0.9,
                      "metric": "comprehensiveness", "value": COMP[m]},
                     {"sample_id": sid, "method": m, "n_words": 30, "target": 1, "p_full": 0.9,
                      "metric": "sufficiency", "value": SUFF[m]}]
    return pd.DataFrame(rows)


def aggregate(ids):
    rows = [{"sample_id": sid, "method": m, "k": k, "label": 1, "correct": int(i >= 5 - c)}
            for sid in ids for m, c in CORRECT_K.items() for i, k in enumerate(KS)]
    return pd.DataFrame(rows)


@pytest.fixture
def compared():
    ids = [f"s{i}" for i in range(10)]
    return compare(per_sample(ids), {"sim": aggregate(ids)}, CompareSettings(n_boot=50), seed=1)


def test_ranks_follow_each_metric_direction(compared):
    values, _ = compared
    ranks = lambda metric: values[values["metric"] == metric].set_index("method")["rank"].to_dict()  # noqa: E731
    assert ranks("comprehensiveness") == {"random": 5, "vanilla_gradient": 3, "input_x_grad": 4,
                                          "integrated_gradients": 2, "lime": 1}
    assert ranks("sufficiency") == ranks("comprehensiveness")  # lowest sufficiency is best
    assert ranks("human") == {"random": 4, "vanilla_gradient": 2, "input_x_grad": 3,
                              "integrated_gradients": 1, "lime": 5}
    human = values[values["metric"] == "human"].set_index("method")
    # IG is right at every k (p_IG,k = 1), so equation (2) gives s_IG = 100 * sum_k w_k with
    # w_k = sum_jk p_jk / (K^2 sum_j p_jk)
    p = np.array([[int(i >= 5 - c) for i in range(5)] for c in CORRECT_K.values()], dtype=float)
    w = p.sum() / (25 * p.sum(axis=0))
    assert human.loc["integrated_gradients", "value"] == pytest.approx(100 * w.sum())


def test_kendall_tau_vs_humans_with_a_paired_bootstrap(compared):
    _, agreement = compared
    a = agreement.set_index("metric")
    # LIME is first by comprehensiveness and last by the crowd: its 4 pairs are discordant,
    # the other 6 concordant: tau = (6 - 4) / 10
    assert a.loc["comprehensiveness", "tau"] == pytest.approx(0.2)
    assert a.loc["sufficiency", "tau"] == pytest.approx(0.2)
    # every sample is the same, so every replicate gives the same tau
    assert a.loc["comprehensiveness", "ci_low"] == pytest.approx(0.2)
    assert a.loc["comprehensiveness", "ci_high"] == pytest.approx(0.2)
    assert a.loc["comprehensiveness", "bootstrap"] == "paired"
    assert a.loc["comprehensiveness", "n_methods"] == 5


def test_rankers_on_other_samples_are_resampled_independently():
    metric_ids = [f"s{i}" for i in range(8)]
    crowd_ids = [f"r{i:03d}" for i in range(6)]
    _, agreement = compare(per_sample(metric_ids), {"released": aggregate(crowd_ids)},
                           CompareSettings(n_boot=20), seed=2)
    assert set(agreement["bootstrap"]) == {"independent"}
    assert set(agreement["n_samples_human"]) == {6}


def test_q2_claims_on_this_run(compared):
    values, agreement = compared
    rows = q2_claims("ds", "sim", values, agreement)
    assert all(list(r) == CLAIM_COLUMNS for r in rows)
    v = {r["claim_id"]: r["verdict"] for r in rows}
    assert v["q2_comp_suff_rank_lime_high"] == "holds"          # rank 1 under both
    assert v["q2_humans_rank_lime_low"] == "holds"              # rank 5 of 5
    assert v["q2_comp_suff_lime_opposite"] == "holds"
    assert v["q2_ig_best_gradient:human"] == "holds"
    assert v["q2_ig_best_gradient:comprehensiveness"] == "holds"  # 0.4 > 0.3 > 0.2
    assert v["q2_vg_beats_ixg:sufficiency"] == "holds"            # 0.2 < 0.3
    assert v["q2_some_agree"] == "holds"                          # CI [0.2, 0.2] above 0
    assert v["q2_some_disagree"] == "does not hold"
    by_id = {r["claim_id"]: r for r in rows}
    assert by_id["q2_humans_rank_lime_low"]["value"] == 5
    assert all(r["paper"] == "lu2024" and r["dataset"] == "ds" for r in rows)


def test_the_printed_table5_agreement():
    a = printed_agreement().set_index("metric")
    for key in ("racu", "psi", "fait"):           # the paper: "completely agree"
        assert a.loc[key, "tau"] == pytest.approx(1.0)
    # AUPRC on RANDOM, ALL ATTENTION, VANILLA GRADIENT, LIME: Ours orders VG > ALL > RANDOM > LIME,
    # AUPRC ALL > VG > LIME > RANDOM: 2 of 6 pairs discordant
    assert a.loc["auprc", "tau"] == pytest.approx((4 - 2) / 6)
    assert a.loc["auprc", "n_methods"] == 4
    verdicts = {r["claim_id"]: r["verdict"] for r in q2_printed_claims()}
    assert verdicts == {"q2_printed_complete_agreement": "holds", "q2_printed_others_differ": "holds",
                        "q2_printed_comp_suff_lime_best": "holds"}


def test_comparison_table_has_the_printed_and_the_run_columns(compared):
    values, _ = compared
    table = comparison_table(values, with_paper=True, model_label="tiny", dataset="ds",
                             crowd_types={"sim": "simulated"}).set_index("Method")
    assert table.loc["LIME", "Comp.↑ (paper)"] == "0.32 (1)"
    assert table.loc["LIME", "Ours↑ (paper)"] == "39.0 (8)"
    assert table.loc["LAST ATTENTION", "RACU↑ (paper)"] == "-"
    assert table.loc["ALL ATTENTION", "Simu.↑ (paper)"] == "86.27 (1)"
    assert table.loc["LIME", "Suff. (AOPC)↓"] == "0.000 (1)"
    assert table.loc["LIME", "Human s_j↑ (sim)"].endswith("(5)")
    assert table.loc["[Source]", "RACU↑ (paper)"] == "Madsen et al. (2022)"
    assert table.loc["[Human-included]", "Human s_j↑ (sim)"] == "✓"
    plain = comparison_table(values, with_paper=False, model_label="tiny", dataset="ds")
    assert not any("(paper)" in c for c in plain.columns)


def test_heatmap_renders(compared, tmp_path):
    from saliency_repro.faithfulness.figures import agreement_heatmap
    from saliency_repro.reporting import save_figure

    _, agreement = compared
    paths = save_figure(agreement_heatmap(agreement, "[test] agreement"), tmp_path / "fig")
    assert all(p.stat().st_size > 0 for p in paths)
