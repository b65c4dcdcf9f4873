"""Tests of the counterfactual deletion check: operators, frozen-attention decoding, verdicts,
statistics wiring (checked against independent computations) and determinism."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import binom, norm

from saliency_repro.counterfactual.config import CounterfactualConfig
from saliency_repro.counterfactual.decoding import greedy, teacher_forced
from saliency_repro.counterfactual.deletion import Perturbed, delete, random_draws
from saliency_repro.counterfactual.measures import rouge_l_change, token_change
from saliency_repro.counterfactual.pipeline import check_article
from saliency_repro.counterfactual.stats import (
    binomial_ci,
    pick_examples,
    verdict,
    verdicts,
    wilcoxon_test,
)
from saliency_repro.summarize.decode import greedy_decode
from saliency_repro.summarize.model import ModelConfig, Summarizer
from saliency_repro.summarize.text import PAD_ID, UNK_ID

V = 30


def tiny_model(seed: int = 0) -> Summarizer:
    torch.manual_seed(seed)
    m = Summarizer(ModelConfig(vocab_size=V, embedding_dim=8, hidden_dim=6, decoder_hidden_dim=7,
                               attention_dim=5))
    with torch.no_grad():  # larger weights so that summaries react to the input
        for p in m.parameters():
            p.mul_(3.0)
        m.embedding.weight[PAD_ID].zero_()
    return m.eval()


ARTICLE = [5, 9, 12, 7, 20, 4, 15, 22, 8, 11, 17, 6]


# ---------------------------------------------------------------------------- operators
def test_delete_nothing_changes_nothing() -> None:
    for op in ("remove", "unk", "pad"):
        for frozen in (False, True):
            p = delete(ARTICLE, [], op, frozen)
            assert p.ids == ARTICLE and p.zero == [] and p.length == len(ARTICLE)


def test_operators_on_hand_made_example() -> None:
    ids = [10, 11, 12, 13, 14]
    assert delete(ids, [1, 3], "remove") == Perturbed([10, 12, 14], [], 3)
    assert delete(ids, [3, 1], "unk") == Perturbed([10, UNK_ID, 12, UNK_ID, 14], [], 5)
    assert delete(ids, [1, 3], "pad") == Perturbed([10, PAD_ID, 12, PAD_ID, 14], [], 5)
    # trailing [PAD] shortens the sequence (the summarizer's source_lengths convention)
    assert delete(ids, [4], "pad") == Perturbed([10, 11, 12, 13, PAD_ID], [], 4)
    # frozen attention: positions kept, embeddings zeroed (remove/pad) or [UNK]
    assert delete(ids, [1, 4], "remove", frozen=True) == Perturbed([10, PAD_ID, 12, 13, PAD_ID], [1, 4], 5)
    assert delete(ids, [4], "unk", frozen=True) == Perturbed([10, 11, 12, 13, UNK_ID], [], 5)
    with pytest.raises(IndexError):
        delete(ids, [5], "remove")


def test_random_draws_deterministic_under_seed() -> None:
    a = random_draws(40, 4, 20, seed=13, article_id="x-1")
    b = random_draws(40, 4, 20, seed=13, article_id="x-1")
    c = random_draws(40, 4, 20, seed=14, article_id="x-1")
    assert a == b and a != c
    assert all(len(set(d)) == 4 and all(0 <= p < 40 for p in d) for d in a)
    assert len({tuple(d) for d in a}) > 1


# ---------------------------------------------------------------------------- decoding
def test_greedy_matches_summarizer_greedy() -> None:
    m = tiny_model()
    arts = [ARTICLE, ARTICLE[:7], [3 + (i * 7) % 25 for i in range(15)]]
    ours, stops, _ = greedy(m, [Perturbed(a, [], len(a)) for a in arts], 2, 10)
    ref = greedy_decode(m, arts, 2, 10)
    assert ours == [h.tokens for h in ref]
    assert stops == [h.stopped for h in ref]


def test_frozen_attention_without_deletion_reproduces_summary() -> None:
    m = tiny_model(1)
    orig = Perturbed(ARTICLE, [], len(ARTICLE))
    (summ,), (st,), _ = greedy(m, [orig], 3, 10)
    lp, att = teacher_forced(m, [orig], summ, st)
    for op in ("remove", "unk", "pad"):
        item = delete(ARTICLE, [], op, frozen=True)
        (again,), (st2,), _ = greedy(m, [item], 3, 10, attention=att)
        assert again == summ and st2 == st
        lp2, _ = teacher_forced(m, [item], summ, st, attention=att)
        assert float(lp2[0].detach()) == pytest.approx(float(lp[0].detach()), abs=1e-12)


def test_frozen_attention_keeps_weights_fixed() -> None:
    """With a deletion, the frozen run's attention equals the original, the free run's does not."""
    m = tiny_model(2)
    orig = Perturbed(ARTICLE, [], len(ARTICLE))
    (summ,), (st,), _ = greedy(m, [orig], 3, 8)
    _, att = teacher_forced(m, [orig], summ, st)
    item = delete(ARTICLE, [0, 3], "remove", frozen=True)
    _, att_frozen = teacher_forced(m, [item], summ, st, attention=att)
    _, att_free = teacher_forced(m, [delete(ARTICLE, [0, 3], "pad")], summ, st)
    assert torch.equal(att_frozen, att)
    assert not torch.allclose(att_free, att)


def test_check_article_deleting_nothing_changes_nothing() -> None:
    m = tiny_model(3)
    cf = CounterfactualConfig(k=(2, 4), random_draws=5, methods=("lrp", "attention", "input_x_grad",
                                                                 "integrated_gradients"),
                              ig_steps=4, ig_internal_batch_size=4)
    art, rows = check_article(m, "a1", ARTICLE, cf, 2, 8, seed=0, lrp_cfg={})
    df = pd.DataFrame(rows)
    assert set(df["variant"]) == {"free", "frozen"} and set(df["k_words"]) == {2, 4}
    assert len(df) == 2 * 2 * (4 + 5)
    # re-run with k = 0 deletions via the operator directly: nothing changes
    for frozen in (False, True):
        item = delete(ARTICLE, [], "remove", frozen)
        (s,), _, _ = greedy(m, [item], 2, 8)
        assert s == art["summary_ids"]
    assert rouge_l_change(art["summary_ids"], art["summary_ids"]) == 0.0
    # the same article twice gives identical results (deterministic random draws and decoding)
    _, rows2 = check_article(m, "a1", ARTICLE, cf, 2, 8, seed=0, lrp_cfg={})
    pd.testing.assert_frame_equal(df, pd.DataFrame(rows2))


# ---------------------------------------------------------------------------- measures
def test_measures_by_hand() -> None:
    a, b = ["the", "cat", "sat", "down"], ["the", "dog", "sat"]
    # LCS = 2 ("the sat"): P = 2/3, R = 2/4, F = 2PR/(P+R) = 4/7
    assert rouge_l_change(a, b) == pytest.approx(1 - 4 / 7)
    assert rouge_l_change([], []) == 0.0 and rouge_l_change(a, []) == 1.0
    assert token_change(a, b) == pytest.approx(2 / 4)  # positions 1 and 3 differ
    assert token_change([1, 2], [1, 2]) == 0.0 and token_change([], []) == 0.0


# ---------------------------------------------------------------------------- verdicts, stats
def test_verdict_rule_on_constructed_numbers() -> None:
    rnd = list(range(1, 21))  # R = 20 random changes 1..20
    # 20.5 beats all 20: p = (1 + 0) / 21; the critical value is the largest draw, 20
    assert verdict(20.5, rnd, 0.05) == (True, pytest.approx(1 / 21), 20.0, pytest.approx(0.5))
    # a tie with the largest draw counts against the map: p = (1 + 1) / 21 > 0.05
    ok, p, _, _ = verdict(20.0, rnd, 0.05)
    assert ok is False and p == pytest.approx(2 / 21)
    # alpha 0.10: one draw >= is allowed (2/21 = 0.095 <= 0.1, 3/21 > 0.1): critical value 19
    assert verdict(19.5, rnd, 0.10) == (True, pytest.approx(2 / 21), 19.0, pytest.approx(0.5))
    assert verdict(19.0, rnd, 0.10)[:2] == (False, pytest.approx(3 / 21))
    # nothing changed anywhere: every draw ties, p = 21/21, never confirmed
    assert verdict(0.0, [0.0] * 20, 0.05)[:2] == (False, 1.0)


def _toy_results() -> pd.DataFrame:
    rows = []
    for a, imp in enumerate([5.0, 0.5, 2.5]):
        for r in range(10):
            rows.append({"id": f"a{a}", "k": 2.0, "k_words": 2, "variant": "free", "method": "random",
                         "draw": r, "m": float(r) / 3})  # random changes 0, 1/3, ..., 3
        rows.append({"id": f"a{a}", "k": 2.0, "k_words": 2, "variant": "free", "method": "lrp",
                     "draw": -1, "m": imp})
    return pd.DataFrame(rows)


def test_verdicts_and_example_selection() -> None:
    v = verdicts(_toy_results(), ["m"], alpha=0.1)
    lrp = v[v["method"] == "lrp"].set_index("id")
    # R = 10: 5.0 beats all (p = 1/11); 0.5 is beaten by 2/3..3 = 8 draws (p = 9/11);
    # 2.5 by 8/3 and 3 (p = 3/11). At alpha 0.1 only 0 draws >= are allowed (2/11 > 0.1), so
    # the critical value is the largest draw, 3.
    assert lrp["p_value"].tolist() == pytest.approx([1 / 11, 9 / 11, 3 / 11])
    assert lrp["threshold"].tolist() == pytest.approx([3.0] * 3)
    assert lrp["margin"].tolist() == pytest.approx([2.0, -2.5, -0.5])
    assert lrp["confirmed"].tolist() == [True, False, False]
    assert lrp["draws"].tolist() == [10] * 3
    assert lrp.loc["a0", "random_mean"] == pytest.approx(1.5)
    # the control: draw 0 (change 0) against draws 1..9 (all > 0): p = (1 + 9) / 10
    ctl = v[v["method"] == "random_control"]
    assert ctl["p_value"].tolist() == pytest.approx([1.0] * 3) and ctl["draws"].tolist() == [9] * 3
    ex = pick_examples(v, "lrp", 2.0, "m")
    assert ex == {"confirmed": "a0", "confirmed_k": 2.0, "unconfirmed": "a1", "unconfirmed_k": 2.0}
    # no unconfirmed article at the preferred k: the nearest k that has one
    v2 = pd.concat([v.assign(k=2.0), v.assign(k=3.0, confirmed=True), v.assign(k=1.0)])
    ex = pick_examples(v2, "lrp", 3.0, "m", ks=[1.0, 2.0, 3.0])
    assert ex["confirmed_k"] == 3.0 and ex["unconfirmed"] == "a1" and ex["unconfirmed_k"] == 2.0


def test_binomial_ci_against_independent_computation() -> None:
    # Wilson score interval, by its formula
    x, n, z = 37, 60, norm.ppf(0.975)
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert binomial_ci(x, n) == pytest.approx((centre - half, centre + half), abs=1e-10)
    # Clopper-Pearson: the bounds solve the binomial tail equations
    lo, hi = binomial_ci(x, n, method="beta")
    assert binom.sf(x - 1, n, lo) == pytest.approx(0.025, abs=1e-8)
    assert binom.cdf(x, n, hi) == pytest.approx(0.025, abs=1e-8)


def test_wilcoxon_against_exact_enumeration() -> None:
    imp = np.array([3.0, 5.0, 1.5, 7.0, 2.2, 9.0, 4.0])
    rnd = np.array([1.0, 2.0, 2.0, 1.0, 1.0, 0.5, 4.0])  # last pair: zero difference, dropped
    d = (imp - rnd)[:-1]  # [2, 3, -0.5, 6, 1.2, 8.5]
    ranks = np.argsort(np.argsort(np.abs(d))) + 1
    w_plus = ranks[d > 0].sum()
    n = len(d)
    # exact null distribution of W+ by enumerating all 2^n sign patterns
    all_w = np.array([sum(r for r, bit in zip(range(1, n + 1), format(s, f"0{n}b"), strict=True) if bit == "1")
                      for s in range(2 ** n)])
    p_greater = float((all_w >= w_plus).mean())
    w_minus = ranks[d < 0].sum()
    p_two = min(1.0, 2 * min(p_greater, float((all_w <= w_plus).mean())))
    stat, p, nz = wilcoxon_test(imp, rnd, "two-sided")
    assert nz == 6 and stat == min(w_plus, w_minus) and p == pytest.approx(p_two)
    stat_g, p_g, _ = wilcoxon_test(imp, rnd, "greater")
    assert stat_g == w_plus and p_g == pytest.approx(p_greater)
    assert math.isnan(wilcoxon_test([1.0, 2.0], [1.0, 2.0])[1])


def test_config_checks() -> None:
    assert CounterfactualConfig.from_config({"k": [2, 4, 8]}).words_for(8, 8) is None
    cf = CounterfactualConfig.from_config({"k": [0.1, 0.2], "k_unit": "fraction", "example_k": 0.2})
    assert cf.words_for(0.1, 33) == 3 and cf.example_k_value() == 0.2
    with pytest.raises(ValueError, match="counterfactual.k"):
        CounterfactualConfig.from_config({"k": [4, 2]})
    with pytest.raises(ValueError, match="counterfactual.k"):
        CounterfactualConfig.from_config({"k": [1.5]})


def test_integrated_gradients_wiring_completeness() -> None:
    """IG through Captum on the input embeddings: the scores sum to f(x) - f(zero embeddings),
    with f the teacher-forced log-probability of the summary, computed here independently."""
    from saliency_repro.attribution.registry import SUMMARIZATION, make_attributor
    from saliency_repro.counterfactual.attribution import SummarizerContext, SummaryExample

    m = tiny_model(4)
    orig = Perturbed(ARTICLE, [], len(ARTICLE))
    (summ,), (st,), _ = greedy(m, [orig], 2, 6)
    context = SummarizerContext(m, ig_steps=200, ig_internal_batch_size=200)
    example = SummaryExample(list(ARTICLE), summ, st)
    result = make_attributor("integrated_gradients", SUMMARIZATION, context).attribute([example])
    scores = result.scores[0]
    with torch.no_grad():
        fx = float(teacher_forced(m, [orig], summ, st)[0][0])
        zero = torch.zeros(1, len(ARTICLE), m.cfg.embedding_dim)
        f0 = float(teacher_forced(m, [orig], summ, st, src_embeddings=zero)[0][0])
    assert scores.shape == (len(ARTICLE),)
    assert scores.sum() == pytest.approx(fx - f0, rel=1e-2, abs=1e-3)
    # the completeness delta is recorded, and is what it says: sum minus the output gap
    assert result.diagnostics["ig_f_gap"][0] == pytest.approx(fx - f0, rel=1e-4, abs=1e-5)
    assert result.diagnostics["ig_delta"][0] == pytest.approx(scores.sum() - (fx - f0), abs=1e-4)
    ixg = make_attributor("input_x_grad", SUMMARIZATION, context).attribute([example]).scores[0]
    assert ixg.shape == (len(ARTICLE),) and np.isfinite(ixg).all()


def test_k_beyond_short_articles_is_warned_about_naming_the_key(caplog) -> None:
    import logging

    from saliency_repro.counterfactual.pipeline import warn_short_articles

    cf = CounterfactualConfig.from_config({"k": [2, 5, 10]})
    with caplog.at_level(logging.WARNING):
        skipped = warn_short_articles(cf, [3, 6, 30])
    # at least one word must remain: k=2 fits all; k=5 leaves none in the 3-word article;
    # k=10 in the 3- and 6-word ones
    assert skipped == {2: 0, 5: 1, 10: 2}
    assert "counterfactual.k" in caplog.text and "2 of 3 articles" in caplog.text
