"""Significance vs RANDOM at the sample level (issue: the (sample, k) pairs are not independent).

Known answers are worked out by hand in the comments. The size checks simulate the null in
this file (not through the package's own ``swap_null_rates``): each sample's method and
RANDOM results are swapped at random, which makes them exchangeable while keeping the
strong within-sample dependence of the five k that the released labels show.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import shared_data_dir

from saliency_repro.crowd.released import read_release
from saliency_repro.crowd.scores import accuracy, score
from saliency_repro.crowd.stats import (
    SignificanceSettings,
    centred_null_rate,
    clustered_mcnemar_p,
    correctness_cube,
    discordant_counts,
    exact_sign_flip_p,
    holm,
    naive_mcnemar_p,
    paired_difference,
    per_sample_scores,
    sample_level_tests,
    significance_table,
    swap_null_rates,
)

KS = (2, 5, 10, 20, 40)


def aggregate_from(cube: np.ndarray, methods: list[str], ks=KS) -> pd.DataFrame:
    """Long aggregate frame from A ``[samples, methods, k]``."""
    rows = [{"sample_id": f"s{i:03d}", "method": m, "k": k, "correct": int(cube[i, j, t]),
             "label": 0, "display": ""}
            for i in range(cube.shape[0]) for j, m in enumerate(methods) for t, k in enumerate(ks)]
    return pd.DataFrame(rows)


def released_like(rng: np.random.Generator, n: int = 100, effect: float = 0.0) -> np.ndarray:
    """Two methods (random, m) x 5 k with a strong per-sample effect: a sample is either easy
    (right at nearly every k) or hard, as on the release; ``effect`` raises m's easiness."""
    easy = rng.random(n) < 0.5
    cube = np.empty((n, 2, len(KS)))
    for j, bump in enumerate((0.0, effect)):
        p = np.where(easy, 0.8, 0.3)[:, None] + bump
        # each method's display of a sample is good or bad for all its k together: the
        # clustered discordance that makes the naive McNemar anti-conservative
        own = rng.random(n) < 0.5
        p = np.clip(p + np.where(own, 0.3, -0.3)[:, None], 0, 1)
        cube[:, j, :] = rng.random((n, len(KS))) < p
    return cube


# ---------------------------------------------------------------------------- known answers
def test_naive_mcnemar_known_answers():
    # 10 discordant pairs all one way: exact two-sided p = 2 * 0.5**10
    assert naive_mcnemar_p(10, 0) == pytest.approx(2 * 0.5**10)
    assert naive_mcnemar_p(3, 3) == pytest.approx(1.0)


def test_clustered_mcnemar_by_hand():
    # b - c per sample = (2, -1, 1): sum 2, sum of squares 6, X^2 = 4/6, 1 df:
    # p = P(|Z| > sqrt(2/3)) = erfc(sqrt(2/3) / sqrt(2)) = erfc(sqrt(1/3))
    p = clustered_mcnemar_p(np.array([2, 0, 1]), np.array([0, 1, 0]))
    assert p == pytest.approx(math.erfc(math.sqrt(1 / 3)), rel=1e-9)
    assert clustered_mcnemar_p(np.array([1, 0]), np.array([1, 0])) == 1.0  # no net discordance


def test_sign_flip_exact_case():
    # 5 samples, all d = +1: of the 32 sign patterns only all-plus and all-minus reach |sum| = 5,
    # so the exact two-sided p is 2/32; through the cube, with the count statistic
    A = np.zeros((5, 2, 1))
    A[:, 1, 0] = 1  # method right, random wrong, on every sample
    assert exact_sign_flip_p(A, 1, 0, "correct_count") == pytest.approx(2 / 32)
    assert exact_sign_flip_p(np.zeros((7, 2, 1)), 1, 0, "correct_count") == 1.0
    # exact: far below any Monte-Carlo floor 1 / (B + 1)
    A60 = np.zeros((60, 2, 1))
    A60[:, 1, 0] = 1
    assert exact_sign_flip_p(A60, 1, 0, "correct_count") == pytest.approx(2 * 0.5**60)


def test_holm_by_hand():
    # sorted 0.01, 0.02, 0.04 -> 0.03, max(0.03, 0.04), max(0.04, 0.04); NaN ignored
    out = holm(np.array([0.04, 0.01, np.nan, 0.02]))
    assert out[1] == pytest.approx(0.03) and out[3] == pytest.approx(0.04)
    assert out[0] == pytest.approx(0.04) and np.isnan(out[2])


def test_weighted_per_sample_scores_average_to_equation_2():
    cube = released_like(np.random.default_rng(3), n=40, effect=0.1)
    agg = aggregate_from(cube, ["random", "lime"])
    A, methods, _, _ = correctness_cube(agg)
    x = per_sample_scores(A, "weighted_score")
    s = score(accuracy(agg))
    for j, m in enumerate(methods):
        assert x[:, j].mean() == pytest.approx(s[m])
    # and the plain count is the number of correct k
    assert per_sample_scores(A, "correct_count")[0, 0] == A[0, 0].sum()


def test_weights_unchanged_by_a_within_sample_swap():
    cube = released_like(np.random.default_rng(4), n=30, effect=0.2)
    A = correctness_cube(aggregate_from(cube, ["random", "lime"]))[0]
    swapped = A.copy()
    swapped[::2] = swapped[::2, ::-1]  # swap the two methods on every other sample
    d, d_sw = paired_difference(A, 1, 0, "weighted_score"), paired_difference(swapped, 1, 0, "weighted_score")
    sign = np.where(np.arange(len(d)) % 2 == 0, -1, 1)
    assert np.allclose(d_sw, sign * d)


def test_discordant_counts_by_hand():
    A = np.array([[[0, 0, 1], [1, 1, 1]],    # sample 0: method right at 2 k random is not
                  [[1, 1, 0], [0, 1, 0]]],   # sample 1: random right at 1 k method is not
                 dtype=float).transpose(0, 1, 2)
    b, c = discordant_counts(A, 1, 0)
    assert b.tolist() == [2, 0] and c.tolist() == [0, 1]


# ---------------------------------------------------------------------------- size under the null
def _swap(cube: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = cube.copy()
    flip = rng.random(cube.shape[0]) < 0.5
    out[flip] = out[flip][:, ::-1]
    return out


def test_primary_test_holds_alpha_under_the_swap_null_and_naive_mcnemar_does_not():
    """The bug: the naive McNemar over (sample, k) pairs rejects a true null far too often."""
    rng = np.random.default_rng(11)
    n_sim, alpha = 400, 0.05
    perm_hits = naive_hits = 0
    for _ in range(n_sim):
        cube = _swap(released_like(rng, effect=0.1), rng)  # columns: random, method
        b, c = discordant_counts(cube, 1, 0)
        perm_hits += exact_sign_flip_p(cube, 1, 0, "correct_count") <= alpha
        naive_hits += naive_mcnemar_p(int(b.sum()), int(c.sum())) <= alpha
    se = math.sqrt(alpha * (1 - alpha) / n_sim)
    assert perm_hits / n_sim <= alpha + 2.5 * se
    assert naive_hits / n_sim > alpha + 2.5 * se  # the old primary test is anti-conservative


def test_table_columns_agree_with_the_array_functions():
    cube = released_like(np.random.default_rng(21), n=50, effect=0.2)
    row = sample_level_tests(aggregate_from(cube, ["random", "lime"]),
                             SignificanceSettings(null_simulations=0), 0).iloc[0]
    b, c = discordant_counts(cube, 1, 0)
    assert row["b_method_only"] == b.sum() and row["c_baseline_only"] == c.sum()
    assert row["clustered_mcnemar_p"] == pytest.approx(clustered_mcnemar_p(b, c))
    assert row["samples"] == 50 and np.isnan(row["perm_centred_null_rate"])
    assert "perm_null_rate" not in row.index  # the swap null is the test's own: not reported


def test_primary_test_has_power_when_the_method_is_better():
    rng = np.random.default_rng(12)
    settings = SignificanceSettings(null_simulations=0)
    cube = released_like(rng, n=100, effect=0.3)
    row = sample_level_tests(aggregate_from(cube, ["random", "lime"]), settings, 0).iloc[0]
    assert row["perm_p"] < 0.01 and row["mean_difference"] > 0


def test_verdict_uses_the_primary_test():
    rng = np.random.default_rng(13)
    cube = _swap(released_like(rng, effect=0.0), rng)
    settings = SignificanceSettings(n_boot=50, null_simulations=10)
    table = significance_table(aggregate_from(cube, ["random", "lime"]), settings, 0,
                               paper_claims={"lime": False}).set_index("method")
    row = table.loc["lime"]
    expected = "yes" if (row["perm_p_holm"] < 0.05 and row["mean_difference"] > 0) else "no"
    assert row["better_than_random"] == expected
    assert row["paper_claim"] == "not better" and "claim_holds" not in table.columns


@pytest.mark.shared_data
@pytest.mark.parametrize("name,n_classes", [("IMDB.csv", 2), ("AGNEWS.csv", 4)])
def test_swap_null_on_the_released_labels(name, n_classes):
    """On the authors' released labels: the sample-level test keeps alpha, the naive one not."""
    path = shared_data_dir() / "lu2024-crowd-release" / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    agg = read_release(path, n_classes=n_classes).aggregate
    A, methods, _, _ = correctness_cube(agg)
    settings = SignificanceSettings(null_simulations=400)
    j, base = methods.index("integrated_gradients"), methods.index("random")
    rates = swap_null_rates(A, j, base, settings, np.random.default_rng(5))
    se = math.sqrt(0.05 * 0.95 / 400)
    assert rates["clustered_mcnemar_swap_null_rate"] <= 0.05 + 3 * se  # asymptotic, close to alpha
    assert rates["naive_mcnemar_swap_null_rate"] > 0.05 + 2.5 * se
    # the primary test under a null that is not its own reference distribution: resampled
    # centred differences (mean zero, not necessarily symmetric)
    centred = centred_null_rate(paired_difference(A, j, base, "weighted_score"), settings,
                                np.random.default_rng(6))
    assert centred["perm_centred_null_rate"] <= 0.05 + 3 * se
    assert centred["perm_centred_null_ci_low"] <= centred["perm_centred_null_rate"] <= centred["perm_centred_null_ci_high"]
    print(f"\n{name}: swap-null rejection rates {rates}, centred null {centred}")
