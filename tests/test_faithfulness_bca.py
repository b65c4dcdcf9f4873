"""The Kendall-tau CI of metric_agreement (issue 23): a BCa interval, checked on a case computed
by hand, against scipy's BCa on a smooth statistic, and on the discrete case where the
percentile interval excluded its own estimate. Also the faithfulness captions' k grid."""

import numpy as np
import pytest
from scipy.stats import norm

from saliency_repro.faithfulness.compare import (
    CompareSettings,
    bca_interval,
    compare,
    loo_index,
    percentile_ci,
)
from saliency_repro.faithfulness.steps import faithfulness_note


def test_bca_on_a_case_computed_by_hand():
    reps = np.arange(10) / 10.0                  # 0.0 .. 0.9
    estimate = 0.55                              # 6 of 10 replicates below: p0 = 0.6
    jack = np.array([0.4, 0.5, 0.6, 0.9])        # mean 0.6: U = (0.2, 0.1, 0, -0.3)
    z0 = norm.ppf(0.6)
    a = (0.2**3 + 0.1**3 - 0.3**3) / (6 * (0.2**2 + 0.1**2 + 0.3**2) ** 1.5)   # -0.018 / (6 * 0.14^1.5)
    assert a == pytest.approx(-0.018 / (6 * 0.14**1.5))
    z = norm.ppf(0.9)                            # level 0.8
    q_lo = norm.cdf(z0 + (z0 - z) / (1 - a * (z0 - z)))
    q_hi = norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
    # numpy's linear quantile of 0, 0.1, ..., 0.9 at q is 0.9 q
    lo, hi, how = bca_interval(estimate, reps, [jack], 0.8)
    assert (lo, hi) == (pytest.approx(0.9 * q_lo), pytest.approx(0.9 * q_hi))
    assert how == "BCa"


def test_bca_matches_scipy_on_the_mean():
    from scipy.stats import bootstrap

    rng = np.random.default_rng(0)
    x = rng.exponential(size=40)                 # skewed: BCa differs from the percentile interval
    idx = rng.integers(0, len(x), size=(20000, len(x)))
    reps = x[idx].mean(1)
    jack = x[loo_index(len(x))].mean(1)
    lo, hi, _ = bca_interval(float(x.mean()), reps, [jack], 0.9)
    ref = bootstrap((x,), np.mean, confidence_level=0.9, n_resamples=20000, method="BCa",
                    random_state=1).confidence_interval
    sd = x.std() / np.sqrt(len(x))
    assert lo == pytest.approx(ref.low, abs=0.05 * sd)
    assert hi == pytest.approx(ref.high, abs=0.05 * sd)


def test_a_discrete_estimate_above_most_replicates_stays_inside_its_interval():
    """The issue's case: tau = 26/28 while resampling noise swaps near-tied methods in most
    replicates, so the percentile interval ends at or below the estimate, and BCa collapses."""
    rng = np.random.default_rng(3)
    estimate = 26 / 28
    reps = rng.choice(np.array([18, 20, 22, 24, 26]) / 28, p=[0.1, 0.2, 0.3, 0.3, 0.1], size=1000)
    plo, phi = percentile_ci(reps, 0.95)
    assert phi <= estimate  # percentile: at best on the edge
    jack = np.array([26, 26, 24, 26, 26]) / 28
    lo, hi, how = bca_interval(estimate, reps, [jack], 0.95)
    # by hand: jackknife mean 25.6/28, squared deviations (4 x 0.16 + 2.56) / 28^2 = 3.2 / 784,
    # se_J^2 = 4/5 * 3.2 / 784 = (1.6 / 28)^2; 26/28 + 1.96 * 1.6/28 > 1 is clipped to 1
    assert how == "jackknife (BCa degenerate)"
    assert lo == pytest.approx(estimate - norm.ppf(0.975) * 1.6 / 28)
    assert hi == 1.0
    # every replicate and every jackknife value constant: the interval still holds the estimate
    lo, hi, how = bca_interval(estimate, np.full(100, 20 / 28), [np.full(5, 26 / 28)], 0.95)
    assert lo == pytest.approx(20 / 28) and hi == pytest.approx(estimate)
    assert how == "BCa, widened to the estimate"


def test_agreement_ci_holds_the_estimate_with_noisy_near_ties():
    """compare() end to end on samples where two methods are near-tied and noisy."""
    import pandas as pd

    rng = np.random.default_rng(5)
    ids = [f"s{i:02d}" for i in range(30)]
    means = {"random": 0.0, "vanilla_gradient": 0.3, "input_x_grad": 0.6, "deeplift": 0.61,
             "integrated_gradients": 0.9}
    per_sample = pd.DataFrame([
        {"sample_id": sid, "method": m, "metric": metric, "value": mu + rng.normal(0, 0.3)}
        for sid in ids for m, mu in means.items() for metric in ("comprehensiveness", "sufficiency")])
    ks = [5, 10, 20, 30, 40]
    correct = {"random": 1, "vanilla_gradient": 2, "input_x_grad": 3, "deeplift": 3, "integrated_gradients": 5}
    agg = pd.DataFrame([{"sample_id": sid, "method": m, "k": k, "label": 1,
                         "correct": int(rng.random() < (c + 0.5) / 6)}
                        for sid in ids for m, c in correct.items() for k in ks])
    _, agreement = compare(per_sample, {"sim": agg}, CompareSettings(n_boot=400), seed=1)
    ok = agreement.dropna(subset=["tau", "ci_low"])
    assert len(ok) > 0
    assert ((ok["ci_low"] <= ok["tau"] + 1e-12) & (ok["tau"] <= ok["ci_high"] + 1e-12)).all()
    assert set(ok["ci_method"]) <= {"BCa", "jackknife (BCa degenerate)", "BCa, widened to the estimate"}


def test_faithfulness_captions_state_the_datasets_own_k_grid():
    cfg = {"perturbation": "remove", "bins": [1, 5, 10, 20, 50], "curve_points": None}
    note = faithfulness_note(cfg, [2, 4, 6], "datasets.sst2.saliency.k", "settings.")
    assert "k grid 2, 4, 6 words (datasets.sst2.saliency.k)" in note
    assert "40" not in note
