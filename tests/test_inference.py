"""Seed-free inference (issue 20): exact p-values against brute-force enumeration, independent
random streams, the three-level verdict, equivalence tests and family-wise intervals.

Every expected value here is computed by enumeration or by hand in this file, never by the
functions under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from saliency_repro import inference as inf


def brute_sign_flip(d: np.ndarray) -> float:
    """P(|sum s_i d_i| >= |sum d_i|) over all 2^n sign patterns, ties counted."""
    t = abs(d.sum())
    hits = sum(abs(np.dot(s, d)) >= t - 1e-9 for s in itertools.product((-1, 1), repeat=len(d)))
    return hits / 2 ** len(d)


def brute_bootstrap(d: np.ndarray) -> float:
    """Twice the smaller tail of the bootstrap distribution of sum(d*) over all n^n resamples."""
    n = len(d)
    below = above = 0
    for idx in itertools.product(range(n), repeat=n):
        total = d[list(idx)].sum()
        below += total <= 0
        above += total >= 0
    return min(1.0, 2 * min(below, above) / n ** n)


@pytest.mark.parametrize("seed", range(8))
def test_exact_sign_flip_equals_enumeration_on_integer_differences(seed):
    rng = np.random.default_rng(seed)
    d = rng.integers(-6, 9, size=rng.integers(4, 14))
    assert inf.sign_flip_exact(d) == pytest.approx(brute_sign_flip(d.astype(float)), abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_exact_sign_flip_equals_enumeration_on_the_weighted_lattice(seed):
    """d_i = sum_k w_k c_ik with c in {-1, 0, 1} and integer weights: the structure of the
    weighted per-sample statistic, with its many genuine ties."""
    rng = np.random.default_rng(100 + seed)
    w = rng.integers(300, 500, size=5)
    c = rng.integers(-1, 2, size=(12, 5))
    d = c @ w
    assert inf.sign_flip_exact(d) == pytest.approx(brute_sign_flip(d.astype(float)), abs=1e-12)


def test_exact_sign_flip_known_answers_and_guards():
    assert inf.sign_flip_exact(np.ones(5)) == pytest.approx(2 / 32)  # only all-plus, all-minus
    assert inf.sign_flip_exact(np.zeros(4)) == 1.0
    assert inf.sign_flip_exact(np.array([2, -2])) == 1.0  # observed sum 0
    assert inf.sign_flip_exact(np.array([3, 3, 3])) == pytest.approx(2 / 8)  # gcd reduced
    with pytest.raises(ValueError, match="integer"):
        inf.sign_flip_exact(np.array([0.5, 1.0]))


@pytest.mark.parametrize("d", [[3, -1, 2, 0, 1], [1, 1, -4, 2], [5, -2, -2, 1, 1, 0], [-1, -2, 1]])
def test_exact_bootstrap_equals_enumeration(d):
    d = np.array(d)
    assert inf.bootstrap_p_exact(d) == pytest.approx(brute_bootstrap(d), abs=1e-9)


def test_streams_are_stable_and_independent_of_each_other():
    a1 = inf.stream(7, "imdb", "lime", "centred_null").random(5)
    a2 = inf.stream(7, "imdb", "lime", "centred_null").random(5)
    b = inf.stream(7, "imdb", "deeplift", "centred_null").random(5)
    c = inf.stream(8, "imdb", "lime", "centred_null").random(5)
    assert np.array_equal(a1, a2) and not np.allclose(a1, b) and not np.allclose(a1, c)


def test_three_level_verdict():
    sig = inf.decide(0.01, 1.0, 0.05)
    ns = inf.decide(0.20, 1.0, 0.05)
    opposite = inf.decide(0.01, -1.0, 0.05)
    assert inf.combine_verdict(sig, {"a": sig, "b": sig}) == (inf.HOLDS, [])
    assert inf.combine_verdict(ns, {"a": ns, "b": opposite}) == (inf.FAILS, [])
    assert inf.combine_verdict(sig, {"a": sig, "b": ns}) == (inf.INCONCLUSIVE, ["b"])
    assert inf.combine_verdict(ns, {"a": sig}) == (inf.INCONCLUSIVE, ["a"])
    # a Monte-Carlo p within 3 standard errors of alpha decides nothing
    near = inf.decide(0.048, 1.0, 0.05, mc_se=0.002)
    assert near.undetermined
    assert inf.combine_verdict(sig, {"mc": near}) == (inf.INCONCLUSIVE, ["mc"])


def test_tost_known_answer():
    # d with mean 0 and sd 1 over n = 100: each one-sided t = 5 / (1 / 10) = 50 -> p ~ 0
    d = np.tile([-1.0, 1.0], 50)
    assert inf.tost_p(d, 5.0) < 1e-10
    # mean 4.9, margin 5: the upper one-sided test has t = (5 - 4.9) / (sd / 10), sd ~ 1.005
    from scipy.stats import t as student_t

    d2 = d + 4.9
    sd = d2.std(ddof=1)
    expected = student_t.sf((5 - 4.9) / (sd / 10), 99)
    assert inf.tost_p(d2, 5.0) == pytest.approx(expected, rel=1e-6)


def test_simultaneous_ci_and_detectable_effect_by_hand():
    from scipy.stats import norm
    from scipy.stats import t as student_t

    d = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    lo, hi = inf.simultaneous_ci(d, family_size=4, alpha=0.05)
    half = student_t.ppf(1 - 0.05 / 8, 4) * d.std(ddof=1) / math.sqrt(5)
    assert (lo, hi) == pytest.approx((3 - half, 3 + half))
    mde = inf.min_detectable_effect(d, family_size=4, alpha=0.05, power=0.8)
    assert mde == pytest.approx((norm.ppf(1 - 0.05 / 8) + norm.ppf(0.8)) * d.std(ddof=1) / math.sqrt(5))


def test_sequential_decision_agrees_with_the_exact_p_away_from_alpha():
    d = np.array([3, 2, 4, 1, 5, 2, 3, 1, 4, 2, 3, -1], dtype=float)  # exact p well below 0.05
    assert inf.sign_flip_exact(d) < 0.01
    assert inf.sign_flip_rejects(d, 0.05, np.random.default_rng(0))
    d2 = np.array([1, -1, 2, -2, 1, 0, -1, 1], dtype=float)
    assert inf.sign_flip_exact(d2) > 0.5
    assert not inf.sign_flip_rejects(d2, 0.05, np.random.default_rng(0))
    p, se = inf.sign_flip_mc(d, np.random.default_rng(1), 20_000)
    assert abs(p - inf.sign_flip_exact(d)) < 4 * se + 1 / 20_001
