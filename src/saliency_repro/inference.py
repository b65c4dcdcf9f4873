"""Inference that a reviewer can rerun with another seed and get the same verdict.

Shared by the Lu et al. significance tables and the claims tables:

- :func:`stream`: one independent random generator per (seed, dataset, method, test, ...), so
  that changing a diagnostic setting or the order of methods cannot move a primary p-value;
- :func:`sign_flip_exact`: the exact two-sided p-value of the paired sign-flip (permutation)
  test for integer per-sample differences, by dynamic programming over the distribution of
  sum_i s_i d_i (no Monte-Carlo error, no seed);
- :func:`bootstrap_p_exact`: the paired percentile bootstrap's p with infinitely many
  resamples (the bootstrap distribution of the mean computed by FFT), again with no seed;
- :func:`sign_flip_mc` and :func:`sign_flip_rejects`: Monte-Carlo p-values with their
  standard error, or a sequential decision, for the calibration simulations where only a
  rate over many simulated data sets is reported;
- :func:`decide` and :func:`combine_verdict`: a three-level verdict (holds / does not hold /
  inconclusive) from a primary test and a pre-declared set of sensitivity variants;
- :func:`tost_p`, :func:`simultaneous_ci`, :func:`min_detectable_effect`: equivalence tests,
  family-wise CIs and the smallest effect a design could detect, so that "not significantly
  better" is never read as "equal".
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"

#: the largest support (cells) of the exact sign-flip distribution; the weighted statistic's
#: weights are rounded to a grid fine enough to stay within it (see ``integer_weights``)
EXACT_CELLS = 2_000_000


def stream(seed: int, *keys: object) -> np.random.Generator:
    """An independent generator for ``keys`` (e.g. dataset, method, test) under ``seed``.

    The keys are hashed with CRC-32 (stable across Python processes, unlike ``hash``) into a
    ``SeedSequence``; two different key tuples give statistically independent streams.
    """
    words = [int(seed) & 0xFFFFFFFF, int(seed) >> 32]
    words += [zlib.crc32(str(k).encode("utf-8")) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(words))


# ---------------------------------------------------------------------------- sign-flip test
def sign_flip_distribution(d: np.ndarray) -> tuple[np.ndarray, int]:
    """P(sum_i s_i d_i = v) for independent fair signs s_i, integer ``d``; returns (probs, offset)
    with probs[v + offset]. Exact up to float64 rounding of the probabilities (dyadic sums)."""
    d = np.abs(np.asarray(d, dtype=np.int64))
    d = np.sort(d[d != 0])
    total = int(d.sum())
    dist = np.zeros(2 * total + 1)
    dist[total] = 1.0
    lo = hi = total
    for v in d.tolist():  # the support grows from the middle: work only on the filled part
        seg = dist[lo:hi + 1].copy()
        dist[lo:hi + 1] = 0.0
        dist[lo - v:hi - v + 1] += 0.5 * seg
        dist[lo + v:hi + v + 1] += 0.5 * seg
        lo, hi = lo - v, hi + v
    return dist, total


def _reduced_integers(d: np.ndarray, who: str) -> np.ndarray:
    """Integer ``d`` (not all zero) divided by its gcd, which changes no p-value and shrinks
    the support the exact methods work on; ``ValueError`` for values off the integer grid."""
    if not np.allclose(d, np.round(d), rtol=0, atol=1e-9):
        raise ValueError(f"{who} needs integer per-sample differences")
    di = np.round(d).astype(np.int64)
    return di // math.gcd(*[abs(int(x)) for x in di if x != 0])


def sign_flip_exact(d: np.ndarray) -> float:
    """Exact two-sided p = P(|sum s_i d_i| >= |sum d_i|) for integer per-sample differences.

    Ties count as at least as extreme (the conservative convention, as in the Monte-Carlo
    ``(1 + #{|T*| >= |T|}) / (B + 1)``). Raises ``ValueError`` for non-integer input: round to
    a grid first (``integer_weights``), so that the test is exact for the rounded statistic.
    """
    d = np.asarray(d, dtype=float)
    if len(d) == 0 or not np.any(d):
        return 1.0
    di = _reduced_integers(d, "sign_flip_exact")
    dist, offset = sign_flip_distribution(di)
    t = abs(int(di.sum()))
    if t == 0:
        return 1.0
    upper = float(dist[offset + t:].sum())  # symmetric: P(|S| >= t) = 2 P(S >= t) for t > 0
    return min(1.0, 2.0 * upper)


def integer_weights(w: np.ndarray, coefficient_mass: float, cells: int = EXACT_CELLS,
                    max_levels: int = 100_000) -> np.ndarray:
    """Weights w_k (>= 0) rounded to integers on a grid of 1/Q of the largest weight, with Q as
    large as keeps the exact distribution within ``cells`` (``coefficient_mass`` = sum over
    samples of sum_k |c_ik|, the multiplier of the largest weight). Any grid gives an exact
    test of the rounded statistic; a fine one keeps it within 1/Q of the real weights."""
    w = np.asarray(w, dtype=float)
    top = float(w.max()) if len(w) and np.isfinite(w).all() else 0.0
    if top <= 0:
        return np.zeros(len(w), dtype=np.int64)
    q = int(min(max_levels, max(100, cells // max(2 * coefficient_mass, 1))))
    return np.round(w / top * q).astype(np.int64)


def sign_flip_mc(d: np.ndarray, rng: np.random.Generator, permutations: int = 10_000,
                 batch: int = 2_000) -> tuple[float, float]:
    """Monte-Carlo two-sided sign-flip p ``(1 + #{|T*| >= |T|}) / (B + 1)`` and its standard
    error sqrt(p (1 - p) / B), for real-valued ``d`` (simulations, calibration checks)."""
    d = np.asarray(d, dtype=float)
    if len(d) == 0 or not np.any(d):
        return 1.0, 0.0
    t_obs = abs(d.sum())
    tol = 1e-9 * max(1.0, t_obs)
    exceed, done = 0, 0
    while done < permutations:
        b = min(batch, permutations - done)
        signs = rng.integers(0, 2, size=(b, len(d)), dtype=np.int8) * 2 - 1
        exceed += int((np.abs(signs @ d) >= t_obs - tol).sum())
        done += b
    p = (1 + exceed) / (permutations + 1)
    return p, math.sqrt(p * (1 - p) / permutations)


def sign_flip_rejects(d: np.ndarray, alpha: float, rng: np.random.Generator,
                      batch: int = 500, cap: int = 20_000) -> bool:
    """Whether the sign-flip test rejects at ``alpha``, drawing permutations sequentially until
    a 99.9% normal CI of p excludes alpha (or ``cap`` draws): cheap for the many simulated data
    sets of a calibration check, where only the decision matters."""
    d = np.asarray(d, dtype=float)
    if len(d) == 0 or not np.any(d):
        return False
    t_obs = abs(d.sum())
    tol = 1e-9 * max(1.0, t_obs)
    exceed, done = 0, 0
    while done < cap:
        signs = rng.integers(0, 2, size=(batch, len(d)), dtype=np.int8) * 2 - 1
        exceed += int((np.abs(signs @ d) >= t_obs - tol).sum())
        done += batch
        p = (1 + exceed) / (done + 1)
        se = math.sqrt(max(p * (1 - p), 1e-12) / done)
        if abs(p - alpha) > 3.29 * se:
            break
    return p <= alpha


def bootstrap_p_exact(d: np.ndarray, cells: int = 8 * EXACT_CELLS) -> float:
    """Two-sided percentile-bootstrap p of mean(d) = 0 with infinitely many resamples: twice
    the smaller of P*(mean* <= 0) and P*(mean* >= 0), where the bootstrap distribution of the sum
    of n draws with replacement from integer ``d`` is the n-fold convolution of d's empirical
    distribution (computed by FFT). No Monte-Carlo error and no seed; ``d`` must be integer
    (put it on a grid first, as for :func:`sign_flip_exact`), and is coarsened when n times its
    span would exceed ``cells``."""
    d = np.asarray(d, dtype=float)
    n = len(d)
    if n == 0 or not np.any(d):
        return 1.0
    di = _reduced_integers(d, "bootstrap_p_exact")
    span = int(di.max() - di.min())
    if span == 0:  # every resample has the same mean
        return 0.0 if di[0] != 0 else 1.0
    if n * span + 1 > cells:  # a coarser grid keeps the convolution within budget
        di = np.round(di * (cells / (n * span + 1))).astype(np.int64)
        span = int(di.max() - di.min())
    lo = int(di.min())
    pmf = np.bincount(di - lo, minlength=span + 1) / n
    size = n * span + 1
    fft_len = 1 << (size - 1).bit_length()
    dist = np.fft.irfft(np.fft.rfft(pmf, fft_len) ** n, fft_len)[:size]
    dist = np.clip(dist, 0.0, None)
    dist /= dist.sum()
    zero = -n * lo  # index of a total of 0
    below = float(dist[:zero + 1].sum()) if zero >= 0 else 0.0
    above = float(dist[max(zero, 0):].sum()) if zero < size else 0.0
    return min(1.0, 2 * min(below, above))


def wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p (scipy, zero differences dropped; exact for small n)."""
    from scipy.stats import wilcoxon

    d = np.asarray(d, dtype=float)
    if np.count_nonzero(d) == 0:
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox").pvalue)


# ---------------------------------------------------------------------------- effects
def simultaneous_ci(d: np.ndarray, family_size: int, alpha: float = 0.05) -> tuple[float, float]:
    """Bonferroni-adjusted t interval of mean(d): simultaneous (1 - alpha) coverage over a
    family of ``family_size`` effects (conservative against Holm and max-t)."""
    from scipy.stats import t as student_t

    d = np.asarray(d, dtype=float)
    n = len(d)
    if n < 2:
        return float("nan"), float("nan")
    half = student_t.ppf(1 - alpha / (2 * max(family_size, 1)), n - 1) * d.std(ddof=1) / math.sqrt(n)
    return float(d.mean() - half), float(d.mean() + half)


def min_detectable_effect(d: np.ndarray, family_size: int, alpha: float = 0.05,
                          power: float = 0.8) -> float:
    """The smallest true mean difference a two-sided level alpha / family_size test over these
    ``n`` samples detects with probability ``power`` (normal approximation, the observed sd)."""
    from scipy.stats import norm

    d = np.asarray(d, dtype=float)
    n = len(d)
    if n < 2:
        return float("nan")
    z = norm.ppf(1 - alpha / (2 * max(family_size, 1))) + norm.ppf(power)
    return float(z * d.std(ddof=1) / math.sqrt(n))


def tost_p(d: np.ndarray, margin: float) -> float:
    """Equivalence (TOST) p of |mean(d)| < margin: the larger of the two one-sided t-test
    p-values (statsmodels ``DescrStatsW.ttost_mean``); small p = equivalence shown."""
    from statsmodels.stats.weightstats import DescrStatsW

    d = np.asarray(d, dtype=float)
    if len(d) < 2 or margin <= 0:
        return float("nan")
    if np.all(d == d[0]):  # no spread: equivalent iff the constant lies inside the margin
        return 0.0 if abs(d[0]) < margin else 1.0
    return float(DescrStatsW(d).ttost_mean(-margin, margin)[0])


# ---------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Decision:
    """One test's outcome for a directional claim: significant in the claimed direction,
    significant against it, or not significant; ``undetermined`` when a Monte-Carlo p sits
    within 3 standard errors of alpha (more draws could move it either way)."""

    p: float
    positive: bool
    significant: bool
    undetermined: bool = False

    @property
    def label(self) -> str:
        if self.undetermined:
            return "undetermined (MC)"
        if not self.significant:
            return "not significant"
        return "significant, claimed direction" if self.positive else "significant, opposite"


def decide(p: float, effect: float, alpha: float, mc_se: float = 0.0) -> Decision:
    """A test's decision at ``alpha`` for an effect whose claimed direction is positive."""
    undetermined = bool(mc_se > 0 and abs(p - alpha) <= 3 * mc_se)
    return Decision(float(p), bool(effect > 0), bool(p < alpha), undetermined)


def combine_verdict(primary: Decision, variants: Mapping[str, Decision]) -> tuple[str, list[str]]:
    """Three-level verdict of "the effect is positive" (a superiority claim).

    *holds*: the primary test is significant in the claimed direction and so is every
    variant; *does not hold*: the primary test is not (not significant, or significant the
    other way) and no variant is significant in the claimed direction; otherwise
    *inconclusive*. Returns the verdict and the variants that disagree with the primary test.
    """
    def shows(dec: Decision) -> bool | None:
        return None if dec.undetermined else bool(dec.significant and dec.positive)

    want = shows(primary)
    disagree = [name for name, dec in variants.items() if shows(dec) != want]
    if want is None or disagree:
        return INCONCLUSIVE, disagree
    return (HOLDS if want else FAILS), []
