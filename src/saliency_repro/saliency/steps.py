"""The saliency steps of the workflow, file in / file out (called by ``scripts/saliency_*.py``)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from saliency_repro.io import read_json, write_json, write_parquet
from saliency_repro.reporting import save_figure, write_table

LOG = logging.getLogger(__name__)


def attribute_step(samples: str, model_dir: str, out: str, diagnostics: str, cfg: dict[str, Any],
                   max_length: int, seed: int, device: str, ks: list[int] | None = None,
                   rank_by: str = "score") -> None:
    """``attribute``: load the model once, score every sample with every method.

    The diagnostics also hold the method-pair diagnostic at the dataset's display sizes ``ks``
    (:mod:`saliency_repro.saliency.pairs`): a pair of methods that coincide is logged as a
    warning, since every crowd table would then compare one method with itself."""
    from saliency_repro.classify.model import load_classifier
    from saliency_repro.saliency.attribute import attribute_samples
    from saliency_repro.saliency.pairs import KEY, coincidence_note, method_pair_diagnostic

    df = pd.read_parquet(samples)
    # SDPA attention: the attention methods switch to eager for their own pass only
    model, tokenizer = load_classifier(model_dir, device, eager_attention=False)
    ws, diag = attribute_samples(model, tokenizer, df, cfg, max_length, seed=seed, device=device)
    diag[KEY] = method_pair_diagnostic(ws, list(ks or cfg.get("k") or [5]), rank_by)
    note = coincidence_note(diag)
    if note:
        LOG.warning("%s (%s)", note, diagnostics)
    write_parquet(ws, out)
    write_json(diagnostics, diag)


def displays_step(word_scores: str, samples: str, out: str, ks: list[int], rank_by: str,
                  k_key: str = "saliency.k") -> None:
    """``make_displays``: every method x k display in the released format (``k_key``: the
    config key the grid came from, for the warning)."""
    from saliency_repro.saliency.attribute import make_displays

    ws = pd.read_parquet(word_scores)
    for k in ks:
        warn_k_beyond_texts(ws, k, k_key)
    write_parquet(make_displays(ws, pd.read_parquet(samples), ks, rank_by), out)


def warn_k_beyond_texts(word_scores: pd.DataFrame, k: int, key: str) -> int:
    """Warn (naming the config key) when ``k`` is at least the length of most texts: their
    displays then show the whole text, and a method cannot differ from RANDOM on them.
    Returns the number of texts with at most ``k`` displayable words."""
    if word_scores.empty:
        return 0
    lengths = word_scores.groupby("sample_id")["word_index"].nunique()
    short = int((lengths <= k).sum())
    if short > len(lengths) / 2:
        LOG.warning("config key '%s': k = %d is at least the length of %d of %d texts (longest %d "
                    "words): their top-k shows every word, so no method can differ there", key, k,
                    short, len(lengths), int(lengths.max()))
    return short


def overlap_step(word_scores: str, stem: str, k: int, rank_by: str, caption: str,
                 k_key: str = "saliency.overlap_k", diagnostics: str | None = None,
                 paper_ref: str = "", pairs_stem: str | None = None, pairs_caption: str = "") -> None:
    """``method_overlap`` (Table 1) over the correctly classified evaluation samples.

    ``pairs_stem``: also write the method-pair diagnostic of ``diagnostics`` as a table
    (:func:`~saliency_repro.saliency.pairs.pair_table`), captioned ``pairs_caption``.

    ``diagnostics``: the attribute rule's diagnostics of these samples; every pair of methods
    that coincides there (:func:`saliency_repro.saliency.pairs.coinciding_pairs`) is named in
    the caption with its numbers. ``paper_ref`` (``lu2024/table1``): the printed Table 1 is
    stacked under this run's, with the difference (:func:`~saliency_repro.saliency.tables.
    overlap_vs_paper`)."""
    from saliency_repro.saliency.pairs import (
        KEY,
        coincidence_note,
        method_pair_diagnostic,
        pair_table,
    )
    from saliency_repro.saliency.paper_values import BY_REF, TABLE1_K, TABLE1_SAMPLES
    from saliency_repro.saliency.tables import overlap_table, overlap_vs_paper

    ws = pd.read_parquet(word_scores)
    short = warn_k_beyond_texts(ws, k, k_key)
    n = ws["sample_id"].nunique()
    if short > n / 2:
        caption += (f" {short} of {n} samples have at most {k} words: their top-{k} is the whole "
                    f"text, where every pair of methods overlaps 100 % ({k_key}).")
    if diagnostics is not None:
        diag = read_json(diagnostics)
        if KEY not in diag:  # diagnostics written before the pair diagnostic existed
            diag[KEY] = method_pair_diagnostic(ws, [k], rank_by)
        note = coincidence_note(diag)
        if note:
            caption += " " + note
        if pairs_stem is not None:
            write_table(pair_table(diag[KEY]), pairs_stem, pairs_caption, float_format="{:.4f}")
    df = overlap_table(ws, k, rank_by)
    if df.empty or len(df.columns) == 1:
        df = pd.DataFrame({"method": ["(no evaluation samples: no overlap computed)"]})
    elif paper_ref in BY_REF:
        df = overlap_vs_paper(df, BY_REF[paper_ref])
        caption += (f" Rows 'paper': Lu et al.'s printed Table 1 ({paper_ref}: top-{TABLE1_K} words, "
                    f"{TABLE1_SAMPLES} IMDB reviews, bert-base-uncased); rows 'this run - paper': the "
                    f"difference in percentage points"
                    + (f" (this run uses top-{k}, not {TABLE1_K})" if k != TABLE1_K else "") + ".")
    write_table(df, stem, caption, float_format="{:.1f}")


def method_table_step(stem: str, cfg: dict[str, Any], caption: str) -> None:
    """``method_table`` (Table 2)."""
    from saliency_repro.saliency.tables import method_table

    write_table(method_table(cfg["methods"], cfg), stem, caption)


def rationale_step(word_scores: list[str], samples: list[str], sample_sets: list[str], stem: str,
                   ks: list[int], rank_by: str, caption: str) -> None:
    """``rationale_recall``: recall@k and AUPRC against the planted cues, per sample set."""
    from saliency_repro.saliency.tables import rationale_table

    parts = [rationale_table(pd.read_parquet(w), pd.read_parquet(s), ks, name, rank_by)
             for w, s, name in zip(word_scores, samples, sample_sets, strict=True)]
    write_table(pd.concat(parts, ignore_index=True), stem, caption)


def figure_step(word_scores: str, samples: str, stem: str, k: int, label_names: list[str],
                title: str) -> None:
    """``top_words_figure`` (Figure 4) on one correctly classified sample."""
    from saliency_repro.saliency.tables import pick_figure_sample, top_words_figure

    s = pd.read_parquet(samples)
    sid = pick_figure_sample(s, k)
    label, cues, distractors = "", (), ()
    if sid is not None:
        row = s.set_index("id").loc[sid]
        label = label_names[int(row["label"])]
        cues, distractors = row.get("rationale", ()), row.get("distractors", ())
    fig = top_words_figure(pd.read_parquet(word_scores), sid, k, title=title, label_name=label,
                           cues=cues, distractors=distractors)
    save_figure(fig, stem)
