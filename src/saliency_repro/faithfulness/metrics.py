"""Automated evaluation of word saliency: faithfulness by perturbing the input, plausibility
against a known rationale.

Unit and perturbation
    The unit is the displayed *word* of the crowd evaluation (``saliency.words.group_pieces``:
    a word is all of its word pieces). Removing a word removes all its pieces
    (``perturbation: remove``: the remaining tokens keep their order and close up, as in
    ERASER) or replaces each of them by ``[MASK]`` (``perturbation: mask``; ``[UNK]`` when the
    tokenizer has no mask token; positions are kept). Tokens that are no displayed word
    (``[CLS]``, ``[SEP]``, punctuation) are never perturbed, so "all words removed" is
    ``[CLS] <punctuation> [SEP]`` and "all words kept" is the original input.

Ranking
    A method ranks a sample's words by its score (``saliency.rank_by``: signed score, or
    magnitude with ``abs``), ties to the earlier word, NaN last: exactly the top-k the crowd
    was shown (``saliency_repro.attribution.ranking.top_k``).

Notation: f(S) is the model's probability of the explained class c (``saliency.explained_class``)
when only the words in S are kept, W all n words, T_k a method's top-k words.

- comprehensiveness@k = f(W) - f(W \\ T_k)   (higher = more faithful)
- sufficiency@k       = f(W) - f(T_k)        (lower = more faithful)
- ERASER AOPC (DeYoung et al. 2020): the mean of comprehensiveness@k (sufficiency@k) over the
  bins b in ``faithfulness.bins`` (percent of the words; default 1, 5, 10, 20, 50) with
  k_b = ceil(b n / 100), at least 1. This is the mean that ERASER's released scorer takes
  (``rationale_benchmark/metrics.py``, ``_instances_aopc``); the paper's printed formula divides
  the same sum by |B| + 1 instead (a constant factor |B| / (|B| + 1) that changes no ranking).
- the same at the crowd's k grid (``saliency.k``, words, at most n): comprehensiveness@{k}w,
  sufficiency@{k}w and their mean over the grid (``*_kgrid``), to set word for word beside the
  human accuracy p_jk.
- tau_loo: Kendall tau-b between a method's word scores (as ranked) and the leave-one-out drop
  d_w = f(W) - f(W \\ {w}) of every word. Undefined (NaN) when either is constant (fewer than
  two words, a model that ignores its input): NaN values are left out of the mean over
  samples and counted (``n`` column of the tables).
- deletion / insertion AUC: area under f(W \\ T_k) (deletion, lower = more faithful) and under
  f(T_k) (insertion, higher = more faithful) against the fraction k / n of words removed /
  added, trapezoid rule over ``faithfulness.curve_points`` evenly spaced fractions (k rounded
  to whole words; ``null``: every k = 0 .. n). A model that ignores its input gives
  deletion AUC = insertion AUC = f(W).
- plausibility, where the rationale is known (the demo's planted cue words; positions in
  ``text.split()``): ``auprc`` = average precision of the word scores with the rationale
  words as positives (as the rationale-recall table; samples whose words are all or none
  positive are skipped), ``token_f1`` = F1 of the top-k_d words against the rationale, with
  k_d the mean rationale length (words) of the evaluated samples, ERASER's rule for continuous
  scores.

Null values (a model whose output ignores its input): comprehensiveness = sufficiency = 0 at
every k, tau_loo undefined (NaN), deletion AUC = insertion AUC = f(W).

All perturbations of one text (every method, every k, every leave-one-out input) are
collected, de-duplicated and sent to ``predict_proba`` in one call, which batches them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.attribution.ranking import apply_sign, rank

LOG = logging.getLogger(__name__)

PredictProba = Callable[[list[list[int]]], np.ndarray]
PERTURBATIONS = ("remove", "mask")
PER_SAMPLE_COLUMNS = ["sample_id", "method", "n_words", "target", "p_full", "metric", "value"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    higher_is_better: bool
    description: str


#: The method-level metrics of the tables, in table order.
SUMMARY_METRICS: tuple[Metric, ...] = (
    Metric("comprehensiveness", "Comp. (AOPC)", True, "ERASER comprehensiveness, mean over the bins"),
    Metric("sufficiency", "Suff. (AOPC)", False, "ERASER sufficiency, mean over the bins"),
    Metric("comprehensiveness_kgrid", "Comp. (k grid)", True, "comprehensiveness, mean over the crowd's k"),
    Metric("sufficiency_kgrid", "Suff. (k grid)", False, "sufficiency, mean over the crowd's k"),
    Metric("tau_loo", "tau-LOO", True, "Kendall tau of scores vs leave-one-out drop"),
    Metric("deletion_auc", "Deletion AUC", False, "area under p(class) as the top words are removed"),
    Metric("insertion_auc", "Insertion AUC", True, "area under p(class) as the top words are added"),
    Metric("auprc", "AUPRC (cues)", True, "average precision against the planted cue words"),
    Metric("token_f1", "Token F1 (cues)", True, "F1 of the top-k_d words against the planted cues"),
)
METRICS_BY_NAME = {m.name: m for m in SUMMARY_METRICS}


def metric_info(name: str) -> Metric:
    """The description of a metric, including the per-bin and per-k columns."""
    if name in METRICS_BY_NAME:
        return METRICS_BY_NAME[name]
    base, _, at = name.partition("@")
    if base in ("comprehensiveness", "sufficiency") and at:
        unit = "% of the words" if at.endswith("%") else " words"
        return Metric(name, f"{METRICS_BY_NAME[base].label.split()[0]} @{at}",
                      base == "comprehensiveness", f"{base} at {at[:-1]}{unit}")
    raise KeyError(f"unknown faithfulness metric {name!r}")


@dataclass(frozen=True)
class FaithfulnessSettings:
    """What the metrics compute; ``from_config`` reads the ``faithfulness`` section."""

    bins: tuple[float, ...] = (1, 5, 10, 20, 50)
    k_grid: tuple[int, ...] = (5, 10, 20, 30, 40)
    perturbation: str = "remove"
    curve_points: int | None = 21
    rank_by: str = "score"

    def __post_init__(self):
        if self.perturbation not in PERTURBATIONS:
            raise ValueError(f"config key 'faithfulness.perturbation' must be one of "
                             f"{list(PERTURBATIONS)}, got {self.perturbation!r}")
        if not self.bins or any(not 0 < b <= 100 for b in self.bins):
            raise ValueError(f"config key 'faithfulness.bins': percentages in (0, 100], got {self.bins}")
        if self.curve_points is not None and self.curve_points < 2:
            raise ValueError("config key 'faithfulness.curve_points' must be at least 2 or null")

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], k_grid: Sequence[int], rank_by: str = "score"):
        return cls(bins=tuple(float(b) for b in cfg.get("bins", cls.bins)),
                   k_grid=tuple(int(k) for k in k_grid),
                   perturbation=str(cfg.get("perturbation", "remove")),
                   curve_points=cfg.get("curve_points", 21), rank_by=rank_by)


@dataclass
class SampleInput:
    """One text: its token ids, the token positions of each word, the explained class, each
    method's word scores (aligned with the words) and, where known, which words are rationale."""

    sample_id: str
    input_ids: list[int]
    word_tokens: list[tuple[int, ...]]
    target: int
    scores: dict[str, np.ndarray]
    truth: np.ndarray | None = None
    mask_id: int | None = None


@dataclass
class Counter:
    """Forward passes and time spent in ``predict_proba`` (for the log and the benchmark)."""

    inputs: int = 0
    calls: int = 0
    seconds: float = 0.0
    per_method_inputs: dict[str, int] = field(default_factory=dict)


# ------------------------------------------------------------------ sizes and perturbations
def bin_sizes(n: int, bins: Sequence[float]) -> list[int]:
    """k_b = ceil(b n / 100), clamped to [1, n], for every bin b (percent)."""
    return [min(n, max(1, math.ceil(b * n / 100 - 1e-9))) for b in bins]


def grid_sizes(n: int, ks: Sequence[int]) -> list[int]:
    """The crowd's k grid, each k at most n."""
    return [min(n, int(k)) for k in ks]


def curve_sizes(n: int, points: int | None) -> list[int]:
    """The distinct k of a deletion / insertion curve: every k, or ``points`` even fractions."""
    if points is None or n <= points - 1:
        return list(range(n + 1))
    return sorted({int(round(m * n / (points - 1))) for m in range(points)})


def token_owner(n_tokens: int, word_tokens: Sequence[Sequence[int]]) -> np.ndarray:
    """For each token position, the index of its word (-1: no word, never perturbed)."""
    owner = np.full(n_tokens, -1, dtype=np.int64)
    for w, toks in enumerate(word_tokens):
        owner[list(toks)] = w
    return owner


def perturb(input_ids: np.ndarray, owner: np.ndarray, keep: np.ndarray, mode: str,
            mask_id: int | None) -> list[int]:
    """The token ids with the words not in ``keep`` removed or masked."""
    kept_tokens = (owner < 0) | keep[np.maximum(owner, 0)]
    if mode == "remove":
        return input_ids[kept_tokens].tolist()
    if mask_id is None:
        raise ValueError("perturbation 'mask' needs the tokenizer's [MASK] (or [UNK]) id")
    return np.where(kept_tokens, input_ids, mask_id).tolist()


def _aopc(values: dict[str, float], p0: float, removed: dict, kept: dict, ks: Sequence[int],
          labels: Sequence[str], suffix: str) -> None:
    """Comprehensiveness and sufficiency at each of ``ks`` (named by ``labels``) and their
    means (AOPC), written into ``values``."""
    comp = [p0 - removed[k] for k in ks]
    suff = [p0 - kept[k] for k in ks]
    for label, c, s in zip(labels, comp, suff, strict=True):
        values[f"comprehensiveness@{label}"] = c
        values[f"sufficiency@{label}"] = s
    values[f"comprehensiveness{suffix}"] = float(np.mean(comp))
    values[f"sufficiency{suffix}"] = float(np.mean(suff))


def ranked_values(scores: np.ndarray, rank_by: str) -> np.ndarray:
    """The values a ranking is taken on (|score| for ``abs``), NaN below every other value."""
    s = apply_sign(scores, rank_by)
    if np.isnan(s).all():
        return s
    return np.where(np.isnan(s), np.nanmin(s) - 1.0, s)


# ------------------------------------------------------------------ statistics
def kendall_tau_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-b between the last axes of ``x`` and ``y`` (broadcast over leading axes).

    tau_b = sum_{i<j} sgn(x_i - x_j) sgn(y_i - y_j) / sqrt(sum sgn(x_i - x_j)^2 sum sgn(y_i - y_j)^2),
    NaN where either side is constant. Vectorized, so bootstrap replicates run at once.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = x.shape[-1]
    i, j = np.triu_indices(n, k=1)
    sx = np.sign(x[..., i] - x[..., j])
    sy = np.sign(y[..., i] - y[..., j])
    num = (sx * sy).sum(axis=-1)
    den = np.sqrt((sx * sx).sum(axis=-1) * (sy * sy).sum(axis=-1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def trapezoid(x: Sequence[float], y: Sequence[float]) -> float:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())


def average_precision(truth: np.ndarray, scores: np.ndarray) -> float:
    """Average precision of ``scores`` with ``truth`` positives (NaN unless both classes occur)."""
    from sklearn.metrics import average_precision_score

    truth = np.asarray(truth, dtype=bool)
    if not truth.any() or truth.all():
        return float("nan")
    return float(average_precision_score(truth, np.nan_to_num(scores, nan=-np.inf)))


# ------------------------------------------------------------------ one sample
def evaluate_sample(sample: SampleInput, predict_proba: PredictProba, settings: FaithfulnessSettings,
                    token_f1_k: int | None = None, counter: Counter | None = None) -> list[dict]:
    """Every metric of every method on one text (one ``predict_proba`` call)."""
    n = len(sample.word_tokens)
    if n == 0:
        return []
    ids = np.asarray(sample.input_ids, dtype=np.int64)
    owner = token_owner(len(ids), sample.word_tokens)
    requests: dict[bytes, np.ndarray] = {}

    def need(keep: np.ndarray) -> bytes:
        key = np.packbits(keep).tobytes()
        requests.setdefault(key, keep)
        return key

    full = np.ones(n, dtype=bool)
    key_full = need(full)
    ks_bins, ks_grid = bin_sizes(n, settings.bins), grid_sizes(n, settings.k_grid)
    ks_curve = curve_sizes(n, settings.curve_points)
    ks = sorted(set(ks_bins) | set(ks_grid) | set(ks_curve))
    keys: dict[str, dict[int, tuple[bytes, bytes]]] = {}
    for method, scores in sample.scores.items():
        if len(scores) != n:
            raise ValueError(f"sample {sample.sample_id}: {method} has {len(scores)} word scores "
                             f"for {n} words")
        order = rank(scores, settings.rank_by)
        keys[method] = {}
        before = len(requests)
        for k in ks:
            top = np.zeros(n, dtype=bool)
            top[order[:k]] = True
            keys[method][k] = (need(~top), need(top))  # (top-k removed, only top-k kept)
        if counter is not None:
            counter.per_method_inputs[method] = counter.per_method_inputs.get(method, 0) + len(requests) - before
    loo_keys = []
    for w in range(n):
        keep = full.copy()
        keep[w] = False
        loo_keys.append(need(keep))
    if counter is not None:
        counter.per_method_inputs["(leave-one-out)"] = counter.per_method_inputs.get("(leave-one-out)", 0) + n
    batch = [perturb(ids, owner, keep, settings.perturbation, sample.mask_id) for keep in requests.values()]
    t0 = time.perf_counter()
    probs = np.asarray(predict_proba(batch), dtype=float)
    if counter is not None:
        counter.inputs += len(batch)
        counter.calls += 1
        counter.seconds += time.perf_counter() - t0
    if probs.ndim != 2 or probs.shape[0] != len(batch):
        raise ValueError(f"predict_proba returned shape {probs.shape} for {len(batch)} inputs")
    f = dict(zip(requests, probs[:, sample.target], strict=True))
    p0 = float(f[key_full])
    drops = np.array([p0 - f[key] for key in loo_keys])
    rows = []
    base = {"sample_id": sample.sample_id, "n_words": n, "target": int(sample.target), "p_full": p0}
    for method, scores in sample.scores.items():
        scores = np.asarray(scores, dtype=float)
        removed = {k: float(f[keys[method][k][0]]) for k in ks}
        kept = {k: float(f[keys[method][k][1]]) for k in ks}
        values: dict[str, float] = {}
        _aopc(values, p0, removed, kept, ks_bins, [f"{b:g}%" for b in settings.bins], "")
        _aopc(values, p0, removed, kept, ks_grid, [f"{k}w" for k in settings.k_grid], "_kgrid")
        x = np.asarray(ks_curve, dtype=float) / n
        values["deletion_auc"] = trapezoid(x, [removed[k] for k in ks_curve])
        values["insertion_auc"] = trapezoid(x, [kept[k] for k in ks_curve])
        values["tau_loo"] = float(kendall_tau_b(ranked_values(scores, settings.rank_by), drops)) if n > 1 else float("nan")
        if sample.truth is not None:
            truth = np.asarray(sample.truth, dtype=bool)
            values["auprc"] = average_precision(truth, ranked_values(scores, settings.rank_by))
            if token_f1_k is not None and truth.any():
                kd = min(n, max(1, int(token_f1_k)))
                top = np.zeros(n, dtype=bool)
                top[rank(scores, settings.rank_by)[:kd]] = True
                values["token_f1"] = 2.0 * float((top & truth).sum()) / (kd + int(truth.sum()))
        rows += [{**base, "method": method, "metric": name, "value": float(v)} for name, v in values.items()]
    return rows


def rationale_length(samples: Sequence[SampleInput]) -> int | None:
    """k_d for token F1: the mean number of rationale words per sample (rounded), or None."""
    lengths = [int(np.asarray(s.truth, dtype=bool).sum()) for s in samples
               if s.truth is not None and np.asarray(s.truth, dtype=bool).any()]
    return max(1, int(round(float(np.mean(lengths))))) if lengths else None


def evaluate(samples: Sequence[SampleInput], predict_proba: PredictProba, settings: FaithfulnessSettings,
             progress: bool = False, counter: Counter | None = None) -> pd.DataFrame:
    """The long per-sample frame (``PER_SAMPLE_COLUMNS``) of every sample and method."""
    kd = rationale_length(samples)
    rows: list[dict] = []
    it: Any = samples
    if progress:
        from tqdm import tqdm

        it = tqdm(samples, desc="faithfulness", mininterval=5)
    for sample in it:
        rows += evaluate_sample(sample, predict_proba, settings, kd, counter)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            PER_SAMPLE_COLUMNS, ["str", "str", "int64", "int64", "float64", "str", "float64"], strict=True)})
    return pd.DataFrame(rows)[PER_SAMPLE_COLUMNS]


def method_means(per_sample: pd.DataFrame) -> pd.DataFrame:
    """Mean over samples (NaN skipped) and the number of samples that counted, per method and metric."""
    g = per_sample.dropna(subset=["value"]).groupby(["method", "metric"])["value"]
    return g.agg(mean="mean", n="count").reset_index()
