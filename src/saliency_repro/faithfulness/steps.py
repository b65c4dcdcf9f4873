"""The faithfulness steps of the workflow, file in / file out (called by ``scripts/faithfulness_*.py``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.io import write_json, write_parquet
from saliency_repro.reporting import save_figure, write_table

LOG = logging.getLogger(__name__)


def faithfulness_note(cfg: Mapping[str, Any], ks: Sequence[int], k_key: str, saliency_note: str = "") -> str:
    """The faithfulness settings every faithfulness / Table 5 caption states.

    ``ks`` is the dataset's own display grid (``datasets.<name>.saliency.k`` when set, else
    ``saliency.k``; ``k_key`` says which), the grid its per-k columns use: a caption that
    printed the global grid beside columns of the dataset's grid said something false."""
    how = "removed" if cfg["perturbation"] == "remove" else "replaced by [MASK]"
    curves = "every k" if cfg.get("curve_points") is None else f"{cfg['curve_points']} fractions"
    return (f"Words {how} (all their pieces; the rest keeps its order); AOPC = mean over the bins "
            f"{', '.join(f'{b:g}' for b in cfg['bins'])} % of the words (ERASER's scorer); k grid "
            f"{', '.join(str(k) for k in ks)} words ({k_key}); curves over {curves}; probability "
            f"of the explained class. {saliency_note}").strip()


def sample_inputs(samples: pd.DataFrame, word_scores: pd.DataFrame, tokenizer, max_length: int,
                  explained_class: str) -> list:
    """:class:`~saliency_repro.faithfulness.metrics.SampleInput` of every sample: the same
    tokenization and words as the ``attribute`` rule, each method's scores by ``word_index``,
    the explained class, and the planted rationale where the data have one.

    Fails with the sample id when the words do not match the word scores (scores made with
    another tokenizer or ``max_length``).
    """
    from saliency_repro.faithfulness.metrics import SampleInput
    from saliency_repro.faithfulness.model import mask_token_id
    from saliency_repro.saliency.attribute import encode_samples, explained_targets

    encoded = encode_samples(tokenizer, samples["text"].astype(str).tolist(), max_length)
    targets = explained_targets(samples, explained_class)
    mask_id = mask_token_id(tokenizer)
    by_sample = {sid: g for sid, g in word_scores.groupby("sample_id", sort=False)}
    out = []
    for (_, row), enc, target in zip(samples.iterrows(), encoded, targets, strict=True):
        sid = str(row["id"])
        words = enc["words"]
        g = by_sample.get(sid)
        if g is None:
            raise ValueError(f"sample {sid}: no word scores (word_scores.parquet of another sample set?)")
        scores = {}
        for method, gm in g.groupby("method", sort=False):
            gm = gm.sort_values("word_index")
            if len(gm) != len(words) or list(gm["word"]) != [w.text for w in words]:
                raise ValueError(
                    f"sample {sid}, method {method}: {len(gm)} scored words but the tokenizer gives "
                    f"{len(words)} words (or different ones); the word scores were made with another "
                    f"tokenizer or classifier.max_length")
            scores[method] = gm["score"].to_numpy(dtype=float)
        truth = None
        rationale = row.get("rationale") if "rationale" in row.index else None
        if rationale is not None and len(rationale):
            cues = {int(p) for p in rationale}
            truth = np.array([w.text_position in cues for w in words], dtype=bool)
        out.append(SampleInput(sid, list(enc["input_ids"]), [w.tokens for w in words], int(target),
                               scores, truth, mask_id))
    return out


def metrics_step(samples: str, word_scores: str, model_dir: str, out: str, run_json: str,
                 cfg: Mapping[str, Any], k_grid: Sequence[int], rank_by: str, explained_class: str,
                 max_length: int, device: str) -> None:
    """``faithfulness_metrics``: every metric of every method on every (capped) sample."""
    from saliency_repro.classify.model import load_classifier
    from saliency_repro.faithfulness.metrics import Counter, FaithfulnessSettings, evaluate
    from saliency_repro.faithfulness.model import BatchedClassifier

    settings = FaithfulnessSettings.from_config(cfg, k_grid, rank_by)
    df = pd.read_parquet(samples)
    if cfg.get("n_samples"):
        df = df.head(int(cfg["n_samples"]))
    ws = pd.read_parquet(word_scores)
    ws = ws[ws["sample_id"].isin(set(df["id"].astype(str)))]
    model, tokenizer = load_classifier(model_dir, device, eager_attention=False)
    predict = BatchedClassifier(model, tokenizer.pad_token_id, device, int(cfg.get("batch_size", 64)))
    inputs = sample_inputs(df, ws, tokenizer, max_length, explained_class)
    counter = Counter()
    t0 = time.perf_counter()
    per_sample = evaluate(inputs, predict, settings, progress=True, counter=counter)
    seconds = time.perf_counter() - t0
    write_parquet(per_sample, out)
    n = max(1, len(inputs))
    info = {
        "n_samples": len(inputs), "methods": sorted(ws["method"].unique().tolist()), "device": device,
        "settings": {"bins": list(settings.bins), "k_grid": list(settings.k_grid),
                     "perturbation": settings.perturbation, "curve_points": settings.curve_points,
                     "rank_by": rank_by, "explained_class": explained_class,
                     "batch_size": predict.batch_size},
        "forward_inputs": predict.inputs, "forward_batches": predict.batches,
        "forward_seconds": predict.seconds, "seconds": seconds,
        "inputs_per_second": predict.inputs / predict.seconds if predict.seconds else None,
        "seconds_per_sample": seconds / n, "inputs_per_sample": predict.inputs / n,
        "distinct_inputs_per_method": counter.per_method_inputs,
    }
    LOG.info("%d samples, %d forward inputs in %d batches, %.1f s (%.1f inputs/s, %.3f s/sample) on %s",
             len(inputs), predict.inputs, predict.batches, seconds, info["inputs_per_second"] or 0.0,
             info["seconds_per_sample"], device)
    write_json(run_json, info)


def metrics_table_step(per_sample: str, stem: str, cfg: Mapping[str, Any], k_grid: Sequence[int],
                       caption: str) -> None:
    """``faithfulness_metrics``: per method, the mean of every metric over the samples."""
    from saliency_repro.faithfulness.compare import metrics_table

    bins = [float(b) for b in cfg.get("bins", (1, 5, 10, 20, 50))]
    write_table(metrics_table(pd.read_parquet(per_sample), bins, k_grid), stem, caption,
                float_format="{:.3f}")


def compare_step(per_sample: str, aggregates: Sequence[str], crowd_sources: Sequence[str],
                 crowd_types: Mapping[str, str], dataset: str, cfg: Mapping[str, Any], seed: int,
                 with_paper: bool, model_label: str, values_out: str, agreement_out: str,
                 comparison_stem: str, agreement_stem: str, figure_stem: str, claims_stem: str,
                 captions: Mapping[str, str]) -> None:
    """``faithfulness_compare``: the extended Table 5, the agreement table and heat map, the
    Q2 claims of one dataset over all its crowd sources."""
    from saliency_repro.claims import claims_frame
    from saliency_repro.faithfulness.compare import (
        CompareSettings,
        compare,
        comparison_table,
        printed_agreement,
        q2_claims,
        q2_printed_claims,
    )
    from saliency_repro.faithfulness.figures import agreement_heatmap

    settings = CompareSettings.from_config(cfg)
    ps = pd.read_parquet(per_sample)
    aggs = {src: pd.read_parquet(path) for src, path in zip(crowd_sources, aggregates, strict=True)}
    values, agreement = compare(ps, aggs, settings, seed)
    write_parquet(values, values_out)
    write_parquet(agreement, agreement_out)
    write_table(comparison_table(values, with_paper, model_label, dataset, crowd_types),
                comparison_stem, captions["comparison"])
    table = pd.concat([agreement, printed_agreement()], ignore_index=True) if with_paper else agreement
    write_table(table, agreement_stem, captions["agreement"], float_format="{:.3f}")
    save_figure(agreement_heatmap(agreement, captions["figure"], settings.level), figure_stem)
    rows: list[dict] = []
    for src in crowd_sources:
        rows += q2_claims(dataset, src, values, agreement, level=settings.level)
    if with_paper:
        rows += q2_printed_claims()
    write_table(claims_frame(rows), claims_stem, captions["claims"], float_format="{:.4g}")
