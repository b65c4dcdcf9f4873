"""The counterfactual verdict's Monte-Carlo p-value: known answers (ties included), its level
under a simulated null for several numbers of random draws R, the old quantile rule's failure
at R = 21, and the warning when R is too small for any p <= alpha."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest

from saliency_repro.counterfactual.pipeline import write_tables
from saliency_repro.counterfactual.stats import (
    exact_level,
    mc_p_value,
    never_confirmable,
    pick_examples,
    summary_table,
    verdicts,
)

ALPHA = 0.05
N_SIM = 60_000
# 3.5 binomial standard errors at alpha: the margin a correct rule stays within (seeded, so the
# test is deterministic; the margin only guards against tuning to one seed)
TOL = 3.5 * math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)


def test_p_value_known_answers_with_ties() -> None:
    assert mc_p_value(5.0, [1.0, 2.0, 3.0]) == pytest.approx(1 / 4)
    assert mc_p_value(2.0, [1.0, 2.0, 3.0]) == pytest.approx(3 / 4)  # the tie with 2 counts
    assert mc_p_value(1.0, [0.0, 0.0, 0.0, 1.0, 1.0, 2.0]) == pytest.approx(4 / 7)
    assert mc_p_value(0.0, [0.0] * 9) == 1.0  # nothing changed: every draw ties
    assert mc_p_value(-1.0, [0.0] * 9) == 1.0
    # vectorized over articles: one row of random changes per article
    got = mc_p_value(np.array([2.0, 0.5]), np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]))
    assert got.tolist() == pytest.approx([3 / 4, 2 / 4])
    # a missing value never passes for "beaten"
    assert math.isnan(mc_p_value(float("nan"), [1.0, 2.0]))
    assert math.isnan(mc_p_value(3.0, [1.0, float("nan")]))


def test_exact_level_and_smallest_r() -> None:
    # floor(alpha (R + 1)) / (R + 1), by hand
    assert exact_level(9, 0.05) == 0.0
    assert exact_level(19, 0.05) == pytest.approx(1 / 20)
    assert exact_level(20, 0.05) == pytest.approx(1 / 21)
    assert exact_level(21, 0.05) == pytest.approx(1 / 22)
    assert exact_level(39, 0.05) == pytest.approx(2 / 40)
    assert exact_level(99, 0.05) == pytest.approx(5 / 100)
    assert exact_level(9, 0.1) == pytest.approx(1 / 10)
    assert never_confirmable(18, 0.05) and not never_confirmable(19, 0.05)
    assert never_confirmable(8, 0.1) and not never_confirmable(9, 0.1)


def _null_draws(rng: np.random.Generator, kind: str, r: int) -> np.ndarray:
    """N_SIM x (R + 1) i.i.d. changes (column 0 plays the important deletion): exchangeable.
    ``tied``: like 1 - ROUGE-L after a deletion, mostly no change at all, a few levels else."""
    if kind == "continuous":
        return rng.normal(size=(N_SIM, r + 1))
    return rng.choice([0.0, 0.0, 0.0, 0.1, 0.25, 0.5], size=(N_SIM, r + 1))


def _old_rule(imp: np.ndarray, rnd: np.ndarray, alpha: float) -> np.ndarray:
    """The rule this package used before: change > numpy's 'higher' (1 - alpha) quantile."""
    return imp > np.quantile(rnd, 1 - alpha, axis=-1, method="higher")


# the level without ties, floor(0.05 (R + 1)) / (R + 1), computed by hand
HAND_LEVEL = {9: 0.0, 19: 1 / 20, 20: 1 / 21, 21: 1 / 22, 39: 2 / 40, 99: 5 / 100}


@pytest.mark.parametrize("r", sorted(HAND_LEVEL))
@pytest.mark.parametrize("kind", ["continuous", "tied"])
def test_null_rejection_rate_at_most_alpha(r: int, kind: str) -> None:
    rng = np.random.default_rng(1000 + r + (0 if kind == "continuous" else 7))
    x = _null_draws(rng, kind, r)
    rate = float((mc_p_value(x[:, 0], x[:, 1:]) <= ALPHA).mean())
    assert rate <= ALPHA + TOL
    if kind == "continuous":  # no ties: the level is exactly floor(alpha (R + 1)) / (R + 1)
        assert rate == pytest.approx(HAND_LEVEL[r], abs=TOL)
    else:  # ties only make the test more conservative
        assert rate <= HAND_LEVEL[r] + TOL


def test_old_quantile_rule_breaks_its_level_at_r21() -> None:
    """The bug: with R = 21 'higher' picks the second-largest draw, so beating it has
    probability 2/22 = 9 % under the null; the p-value rule on the same draws stays at 1/22."""
    x = _null_draws(np.random.default_rng(21), "continuous", 21)
    old = float(_old_rule(x[:, 0], x[:, 1:], ALPHA).mean())
    assert old > ALPHA + TOL
    assert old == pytest.approx(2 / 22, abs=TOL)
    new = float((mc_p_value(x[:, 0], x[:, 1:]) <= ALPHA).mean())
    assert new == pytest.approx(1 / 22, abs=TOL)


def _null_results(n_articles: int, r: int, seed: int) -> pd.DataFrame:
    """Long results table in which the method's deletion is just one more random draw."""
    rng = np.random.default_rng(seed)
    x = rng.choice([0.0, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], size=(n_articles, r + 1)) \
        + rng.normal(scale=1e-3, size=(n_articles, r + 1)) * (rng.random((n_articles, r + 1)) < 0.5)
    ids = np.repeat([f"a{a:05d}" for a in range(n_articles)], r + 1)
    draw = np.tile(np.arange(-1, r), n_articles)
    return pd.DataFrame({"id": ids, "k": 2.0, "k_words": 2, "variant": "free",
                         "method": np.where(draw < 0, "lrp", "random"), "draw": draw,
                         "m": x.ravel()})


def test_verdicts_method_and_random_control_keep_the_level() -> None:
    """Through verdicts and summary_table: with R = 22 the control is judged against 21 draws,
    the R where the old rule's level was 2/22; both rows stay at most alpha."""
    n = 3000
    v = verdicts(_null_results(n, 22, seed=5), ["m"], ALPHA)
    t = summary_table(v, method_order=["lrp"], alpha=ALPHA).set_index("method")
    tol = 3.5 * math.sqrt(ALPHA * (1 - ALPHA) / n)
    for m in ("lrp", "random_control"):
        assert t.loc[m, "articles"] == n
        assert t.loc[m, "confirmed_fraction"] <= ALPHA + tol
        # the fraction is the share of p-values <= alpha
        assert t.loc[m, "confirmed"] == int((v[v["method"] == m]["p_value"] <= ALPHA).sum())
    assert t.loc["lrp", "draws"] == 22 and t.loc["random_control", "draws"] == 21
    assert t.loc["lrp", "null_rate_max"] == pytest.approx(1 / 23)
    assert t.loc["random_control", "null_rate_max"] == pytest.approx(1 / 22)


def test_small_r_warning_in_log_and_table_note(tmp_path, caplog) -> None:
    res = _null_results(4, 9, seed=1)  # R = 9 < 1/0.05 - 1: p >= 1/10 always
    res.loc[res["method"] == "lrp", "m"] = 5.0  # beats every draw, still cannot be confirmed
    res = res.rename(columns={"m": "rouge_l_change"}).assign(token_change=0.0, logprob_drop=0.0)
    path = tmp_path / "results.parquet"
    res.to_parquet(path)
    cfg = {"random_draws": 9, "alpha": 0.05, "methods": ["lrp"], "example_method": "lrp",
           "frozen_attention": False}
    with caplog.at_level(logging.WARNING):
        table = write_tables(str(path), cfg, "test", "toy", str(tmp_path / "v.parquet"),
                             str(tmp_path / "cf"))
    assert "no map can be confirmed" in caplog.text
    md = (tmp_path / "cf.md").read_text()
    assert "WARNING" in md and "1/10 > alpha = 0.05" in md and "at least 19" in md
    lrp = table[(table["method"] == "lrp") & (table["measure"] == "rouge_l_change")]
    assert lrp["confirmed"].tolist() == [0] and lrp["p_median"].tolist() == [pytest.approx(0.1)]
    # the worked-example choice still works without a critical value (margins nan)
    v = pd.read_parquet(tmp_path / "v.parquet")
    assert v[v["method"] == "lrp"]["margin"].isna().all()
    ex = pick_examples(v, "lrp", 2.0, "rouge_l_change")
    assert ex["confirmed"] is None and ex["unconfirmed"] == "a00000"


def test_control_only_warning(tmp_path, caplog) -> None:
    """R = 19: methods can reach p = 1/20 = alpha, the control (18 draws) cannot."""
    res = _null_results(3, 19, seed=2).rename(columns={"m": "rouge_l_change"})
    res = res.assign(token_change=0.0, logprob_drop=0.0)
    path = tmp_path / "results.parquet"
    res.to_parquet(path)
    cfg = {"random_draws": 19, "alpha": 0.05, "methods": ["lrp"], "example_method": "lrp",
           "frozen_attention": False}
    with caplog.at_level(logging.WARNING):
        write_tables(str(path), cfg, "test", "toy", str(tmp_path / "v.parquet"), str(tmp_path / "cf"))
    md = (tmp_path / "cf.md").read_text()
    assert "random control" in caplog.text and "no map can be confirmed" not in md
    assert "its smallest p-value 1/19 > alpha" in md
