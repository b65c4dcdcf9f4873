"""The batched driver: samples in, long-form word scores (and displays) out.

The model is loaded once per job; samples are tokenized once, grouped into batches of at most
``saliency.batch_size`` texts of similar length (padding never receives a score) and every
method runs on the batch before the next one, with a tqdm bar in the rule's log.

Class-specific methods explain ``saliency.explained_class`` (:func:`explained_targets`):
``predicted`` (default), the class the model gave (the samples' ``pred``), which is what a
saliency map of a deployed model explains and what the crowd's question ("which label does
this text support?") is compared against on misclassified samples; or ``true``, the gold
label. On correctly classified samples both are the same.

Token scores become word scores with :func:`saliency_repro.saliency.settings.word_aggregation_for`;
RANDOM is drawn per word (:func:`saliency_repro.saliency.methods.random_word_scores`).
Batches hold texts of (nearly) equal length (:func:`length_batches`), so padding costs no FLOPs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.saliency.display import displays_for_sample
from saliency_repro.saliency.settings import setting, word_aggregation_for
from saliency_repro.saliency.words import Word, detect_scheme, group_pieces, words_cut

LOG = logging.getLogger(__name__)

WORD_SCORE_COLUMNS = ["sample_id", "method", "word_index", "word", "score", "text_position"]
DISPLAY_COLUMNS = ["sample_id", "label", "pred", "method", "k", "display", "shown_positions", "n_words"]


def tokenizer_scheme(tokenizer) -> str:
    """The word-piece marker convention of a tokenizer, read from its vocabulary."""
    vocab = list(tokenizer.get_vocab())
    return detect_scheme(vocab)


def encode_samples(tokenizer, texts: Sequence[str], max_length: int) -> list[dict[str, Any]]:
    """Token ids and displayable words of each text (truncated to ``max_length`` tokens)."""
    scheme = tokenizer_scheme(tokenizer)
    out = []
    for text in texts:
        enc = tokenizer(text, truncation=True, max_length=max_length,
                        return_offsets_mapping=True, return_special_tokens_mask=True)
        pieces = tokenizer.convert_ids_to_tokens(enc["input_ids"])
        words = group_pieces(pieces, scheme, special=[bool(s) for s in enc["special_tokens_mask"]],
                             offsets=enc["offset_mapping"], text=text)
        out.append({"input_ids": enc["input_ids"], "words": words})
    return out


def truncated_fraction(texts: Sequence[str], encoded: Sequence[dict[str, Any]], max_length: int) -> float:
    """Fraction of the texts' displayable words that lie beyond the ``max_length`` truncation
    (never attributed, never shown; :func:`~saliency_repro.saliency.words.words_cut`); warns
    naming ``classifier.max_length`` above 10 %."""
    counts = [words_cut(t, max((w.text_position for w in e["words"]), default=-1))
              for t, e in zip(texts, encoded, strict=True)]
    total, cut = sum(c[0] for c in counts), sum(c[1] for c in counts)
    fraction = 0.0 if total == 0 else cut / total
    if fraction > 0.10:
        LOG.warning("config key 'classifier.max_length': %d tokens cut %.0f%% of the words of these "
                    "texts; the cut words are never scored or shown", max_length, 100 * fraction)
    return fraction


def explained_targets(samples: pd.DataFrame, explained_class: str) -> list[int]:
    """The class each sample's class-specific saliency explains.

    ``predicted``: the ``pred`` column (the model's label); ``true``: the ``label`` column.
    """
    if explained_class not in ("predicted", "true"):
        raise ValueError("config key 'saliency.explained_class' must be 'predicted' or 'true', "
                         f"got {explained_class!r}")
    column = "pred" if explained_class == "predicted" else "label"
    if column not in samples.columns:
        raise ValueError(f"config key 'saliency.explained_class' is {explained_class!r}, "
                         f"but the samples have no {column!r} column")
    return samples[column].astype(int).tolist()


def length_batches(lengths: Sequence[int], batch_size: int, max_padding: float = 0.0) -> list[list[int]]:
    """Indices of the texts grouped into batches that waste (almost) no FLOPs on padding.

    Texts are sorted by length (ties: original order) and a batch grows while its padding
    stays within ``max_padding`` of its real tokens (0: only equal lengths share a batch, so
    on a CPU, which is FLOP-bound, a batch costs exactly what its texts cost one by one) and
    it has fewer than ``batch_size`` texts. Results never depend on the batching.
    """
    order = sorted(range(len(lengths)), key=lambda i: (int(lengths[i]), i))
    batches: list[list[int]] = []
    for i in order:
        if batches:
            cur = batches[-1]
            longest = max(int(lengths[i]), max(int(lengths[j]) for j in cur))
            real = sum(int(lengths[j]) for j in cur) + int(lengths[i])
            if len(cur) < batch_size and longest * (len(cur) + 1) - real <= max_padding * real:
                cur.append(i)
                continue
        batches.append([i])
    return batches


def max_padding_for(cfg: dict[str, Any], device: str) -> float:
    """``saliency.max_padding``; null = 0 on CPU (FLOP-bound: padding is pure waste) and 0.25
    on a GPU (wide batches are where its speed is)."""
    value = cfg.get("max_padding")
    if value is None:
        return 0.25 if str(device).startswith("cuda") else 0.0
    return float(value)


def attribute_samples(
    model, tokenizer, samples: pd.DataFrame, cfg: dict[str, Any], max_length: int,
    seed: int = 13, device: str = "cpu",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Word scores of every configured method for every sample.

    ``samples`` has ``id, text, label`` and ``pred`` (needed with ``explained_class:
    predicted``); ``cfg`` is the ``saliency`` config section. Every method goes through the
    registry (:func:`saliency_repro.attribution.make_attributor`) and the one pieces -> words
    step (:meth:`~saliency_repro.attribution.Attribution.to_words`). Returns the long-form
    frame (``WORD_SCORE_COLUMNS``; rows in sample order, then method order) and diagnostics
    (settings, targets, timings, IG deltas and steps).
    """
    import torch
    from tqdm import tqdm

    from saliency_repro.attribution.registry import CLASSIFICATION, get_method, make_attributor
    from saliency_repro.classify.train import collate
    from saliency_repro.saliency.methods import ClassifierBatch, ClassifierContext

    methods = list(cfg.get("methods") or [])
    explained = setting(cfg, "explained_class")
    diag: dict[str, Any] = {
        "n_samples": len(samples), "methods": methods, "seconds": {}, "device": device,
        "input_space": setting(cfg, "input_space"), "lime_variant": setting(cfg, "lime_variant"),
        "explained_class": explained,
        "word_aggregation": {m: word_aggregation_for(m, cfg) for m in methods},
    }
    if samples.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            WORD_SCORE_COLUMNS, ["str", "str", "int64", "str", "float64", "int64"], strict=True)}), diag
    context = ClassifierContext(model, tokenizer, cfg, seed=seed, device=device)
    attributors = {m: make_attributor(m, CLASSIFICATION, context) for m in methods}
    eager = {m for m in methods if get_method(m).eager_attention}
    encoded = encode_samples(tokenizer, samples["text"].astype(str).tolist(), max_length)
    ids = samples["id"].astype(str).tolist()
    targets = explained_targets(samples, explained)
    diag["targets"] = dict(zip(ids, targets, strict=True))
    diag["words_truncated_fraction"] = truncated_fraction(samples["text"].astype(str).tolist(), encoded, max_length)
    batches = length_batches([len(c["input_ids"]) for c in encoded], int(cfg.get("batch_size", 8)),
                             max_padding_for(cfg, device))
    diag["batches"] = len(batches)
    word_scores: dict[tuple[int, str], np.ndarray] = {}
    extra: dict[str, dict[int, float]] = {}
    bar = tqdm(total=len(batches) * len(methods), desc="attribute", mininterval=5)
    for members in batches:
        chunk = [encoded[i] for i in members]
        input_ids, mask = collate([c["input_ids"] for c in chunk], tokenizer.pad_token_id, device)
        batch = ClassifierBatch(input_ids, mask, [targets[i] for i in members],
                                [ids[i] for i in members], [c["words"] for c in chunk])
        for method in methods:
            t0 = time.perf_counter()
            torch.manual_seed(seed)
            with context.eager_attention() if method in eager else contextlib.nullcontext():
                result = attributors[method].attribute(batch)
            result = result.to_words(batch.words, word_aggregation_for(method, cfg))
            for key, vals in result.diagnostics.items():
                extra.setdefault(key, {}).update(zip(members, vals, strict=True))
            for i, scores in zip(members, result.scores, strict=True):
                word_scores[(i, method)] = scores
            diag["seconds"][method] = diag["seconds"].get(method, 0.0) + time.perf_counter() - t0
            bar.update(1)
    bar.close()
    if "ig_delta" in extra:
        diag["ig_convergence_delta"] = ig_summary(ids, extra)
        LOG.info("IG convergence delta: mean |delta| %.4g, max %.4g",
                 diag["ig_convergence_delta"]["mean_abs"], diag["ig_convergence_delta"]["max_abs"])
    if "deeplift_rescale_gap" in extra:  # why DEEPLIFT may equal INPUT×GRAD (saliency.deeplift)
        from saliency_repro.saliency.deeplift import summarize
        diag["deeplift"] = summarize({k: [v[i] for i in range(len(ids))] for k, v in extra.items()
                                      if k.startswith("deeplift_")})
    rows = [_word_rows(ids[i], m, encoded[i]["words"], word_scores[(i, m)])
            for i in range(len(ids)) for m in methods]
    return pd.concat(rows, ignore_index=True)[WORD_SCORE_COLUMNS], diag


def ig_summary(ids: Sequence[str], extra: dict[str, dict[int, float]]) -> dict[str, Any]:
    """Completeness of IG over the run: |delta|, |delta| relative to f(x) - f(baseline), steps."""
    order = range(len(ids))
    delta = np.asarray([extra["ig_delta"][i] for i in order])
    gap = np.abs(np.asarray([extra["ig_f_gap"][i] for i in order]))
    d = np.abs(delta)
    out = {"mean_abs": float(d.mean()), "max_abs": float(d.max()),
           "mean_abs_relative": float((d / np.maximum(gap, 1e-8)).mean()),
           "per_sample": dict(zip(ids, delta.tolist(), strict=True))}
    if "ig_steps" in extra:
        steps = np.asarray([extra["ig_steps"][i] for i in order])
        out["steps_mean"] = float(steps.mean())
        out["steps_max"] = int(steps.max())
    return out


def _word_rows(sample_id: str, method: str, words: list[Word], scores: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "sample_id": sample_id, "method": method,
        "word_index": np.arange(len(words), dtype=np.int64),
        "word": [w.text for w in words], "score": np.asarray(scores, dtype=float),
        "text_position": np.asarray([w.text_position for w in words], dtype=np.int64),
    })


def make_displays(word_scores: pd.DataFrame, samples: pd.DataFrame, ks: Sequence[int],
                  rank_by: str = "score") -> pd.DataFrame:
    """Every (sample, method, k) display; ``shown_positions`` are ``word_index`` values."""
    meta = samples.set_index(samples["id"].astype(str))
    rows = []
    for (sid, method), g in word_scores.groupby(["sample_id", "method"], sort=False):
        g = g.sort_values("word_index")
        for k, display, shown in displays_for_sample(g["word"].tolist(), g["score"].to_numpy(), ks, rank_by):
            rows.append({"sample_id": sid, "label": int(meta.loc[sid, "label"]),
                         "pred": int(meta.loc[sid, "pred"]), "method": method, "k": k,
                         "display": display, "shown_positions": shown, "n_words": len(g)})
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            DISPLAY_COLUMNS, ["str", "int64", "int64", "str", "int64", "str", "object", "int64"],
            strict=True)})
    return pd.DataFrame(rows, columns=DISPLAY_COLUMNS)
