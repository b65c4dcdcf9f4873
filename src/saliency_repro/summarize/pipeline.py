"""The workflow steps of the summarizer / LRP part; ``scripts/summarize_*.py`` call these.

Intermediate files (see docs/ARCHITECTURE.md, section "Summarizer and LRP files"):

* ``R/summarizer/{dataset}/vocab.json``: ``{"tokens": [...], "stats": {...}, "preprocessing": {...}}``
* ``R/summarizer/{dataset}/model.pt``: ``{"config", "state_dict", "history", "selected"}``
  (load with :func:`saliency_repro.summarize.model.load_model`); ``checkpoints/`` beside it.
* ``R/summarizer/{dataset}/training.json``: loss history, selected checkpoint, timing.
* ``R/summarizer/{dataset}/test_summaries.parquet``: one row per test article.
* ``R/lrp/{dataset}/maps.parquet``: one row per explained output word.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from saliency_repro.io import read_json, write_json, write_parquet
from saliency_repro.reporting import caption_for, save_figure, write_table
from saliency_repro.summarize import analysis, figures
from saliency_repro.summarize.decode import beam_search_batch, greedy_decode
from saliency_repro.summarize.lrp import lrp_summary
from saliency_repro.summarize.model import ModelConfig, load_model
from saliency_repro.summarize.text import (
    START_ID,
    PreprocessConfig,
    Vocab,
    build_vocab,
    encode_example,
    tokenize,
    word_positions_to_tokens,
)
from saliency_repro.summarize.train import TrainConfig, train

LOG = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- vocabulary
def make_vocab(train_parquet: str, summarizer_cfg: dict[str, Any], out_json: str) -> Vocab:
    """Vocabulary from the training articles and summaries (See et al. count both)."""
    pcfg = PreprocessConfig.from_config(summarizer_cfg["preprocessing"])
    df = pd.read_parquet(train_parquet, columns=["article", "summary"])
    texts = [tokenize(a, pcfg)[: pcfg.max_article_tokens] for a in df["article"]]
    texts += [tokenize(s, pcfg)[: pcfg.max_summary_tokens] for s in df["summary"]]
    vocab, stats = build_vocab(texts, pcfg)
    LOG.info("vocabulary: %d tokens, coverage of training tokens %.4f", len(vocab), stats["coverage"])
    write_json(out_json, {**vocab.to_json(), "stats": stats, "preprocessing": summarizer_cfg["preprocessing"]})
    return vocab


def load_vocab(path: str) -> tuple[Vocab, PreprocessConfig]:
    obj = read_json(path)
    return Vocab.from_json(obj), PreprocessConfig.from_config(obj["preprocessing"])


def _examples(df: pd.DataFrame, vocab: Vocab, pcfg: PreprocessConfig):
    return [encode_example(str(r.id), r.article, r.summary, vocab, pcfg)
            for r in df.itertuples(index=False)]


# ---------------------------------------------------------------------------- training
def train_summarizer(train_parquet: str, validation_parquet: str | None, vocab_json: str,
                     summarizer_cfg: dict[str, Any], out_model: str, out_json: str,
                     checkpoint_dir: str, seed: int, device: str) -> dict[str, Any]:
    """Preprocess, train (resuming from ``checkpoint_dir``) and write model + history."""
    vocab, pcfg = load_vocab(vocab_json)
    tcfg = TrainConfig.from_config(summarizer_cfg["training"])
    tr = pd.read_parquet(train_parquet)
    if tcfg.max_train_articles:
        tr = tr.iloc[: tcfg.max_train_articles]
    va = pd.read_parquet(validation_parquet) if validation_parquet and os.path.exists(validation_parquet) else tr.iloc[:0]
    t0 = time.time()
    result = train(_examples(tr, vocab, pcfg), _examples(va, vocab, pcfg),
                   ModelConfig.from_config(summarizer_cfg["model"], len(vocab)), tcfg,
                   out_model, checkpoint_dir, seed=seed, device=device)
    result.update({"train_articles": len(tr), "validation_articles": len(va),
                   "seconds": time.time() - t0, "device": device})
    write_json(out_json, result)
    return result


# ---------------------------------------------------------------------------- decoding
def _known_token_positions(article: str, summary: str, source_positions: Sequence, word_of: list[int],
                           pcfg: PreprocessConfig) -> dict[str, list[int]]:
    """Map each summary token to the article token positions its word was copied from."""
    known: dict[str, set[int]] = {}
    if source_positions is None or len(source_positions) == 0:
        return {}
    for word, positions in zip(summary.split(), source_positions, strict=False):
        toks = word_positions_to_tokens(list(positions), word_of)
        for t in tokenize(word, pcfg):
            known.setdefault(t, set()).update(toks)
    return {k: sorted(v) for k, v in known.items()}


def generate_summaries(model_path: str, vocab_json: str, test_parquet: str,
                       summarizer_cfg: dict[str, Any], out_parquet: str, device: str) -> pd.DataFrame:
    """Decode the test split (beam or greedy, as configured) and store everything later steps
    need, ids included, so LRP and the counterfactual check never re-tokenize."""
    vocab, pcfg = load_vocab(vocab_json)
    dcfg = summarizer_cfg["decoding"]
    model = load_model(model_path, device)
    df = pd.read_parquet(test_parquet)
    if dcfg["max_test_articles"]:
        df = df.iloc[: dcfg["max_test_articles"]]
    exs = _examples(df, vocab, pcfg)
    # batches of articles of similar length (less padding in the encoder and the attention);
    # each article's summary does not depend on its batch, the output keeps test order
    order = sorted(range(len(exs)), key=lambda i: len(exs[i].src_ids))
    hyps: list = [None] * len(exs)
    bs = dcfg["batch_size"]
    greedy = dcfg["method"] == "greedy"
    for start in tqdm(range(0, len(order), bs), desc="greedy decoding" if greedy else "beam search",
                      mininterval=5.0, unit="batch"):
        idx = order[start: start + bs]
        srcs = [exs[i].src_ids for i in idx]
        if greedy:
            out = greedy_decode(model, srcs, dcfg["min_length"], dcfg["max_length"])
        else:
            out = beam_search_batch(model, srcs, dcfg["beam_size"], dcfg["min_length"],
                                    dcfg["max_length"], dcfg["length_normalize"])
        for i, h in zip(idx, out, strict=True):
            hyps[i] = h
    rows = []
    has_pos = "source_positions" in df.columns
    for r, e, h in zip(df.itertuples(index=False), exs, hyps, strict=True):
        known = _known_token_positions(r.article, r.summary, r.source_positions if has_pos else [],
                                       e.src_word_of, pcfg)
        rows.append({
            "id": e.id, "src_tokens": e.src_tokens, "src_ids": e.src_ids,
            "src_word_of": e.src_word_of, "reference": " ".join(e.tgt_tokens),
            "generated": " ".join(vocab.decode(h.tokens)), "generated_ids": h.tokens,
            "stopped": h.stopped, "log_prob": h.log_prob,
            "known_tokens": list(known.keys()), "known_positions": list(known.values()),
        })
    out = pd.DataFrame(rows)
    write_parquet(out, out_parquet)
    return out


# ---------------------------------------------------------------------------- LRP
def compute_lrp_maps(model_path: str, summaries_parquet: str, lrp_cfg: dict[str, Any],
                     vocab_json: str, out_parquet: str, device: str) -> pd.DataFrame:
    """LRP maps of every generated word (and [STOP] if configured) of the first ``n_articles``
    test summaries; all words of a summary in one batched pass."""
    vocab, _ = load_vocab(vocab_json)
    model = load_model(model_path, "cpu")
    dtype = torch.float64 if lrp_cfg["dtype"] == "float64" else torch.float32
    # converted once; lrp_summary's own .to() is then a no-op
    sd = {k: v.to(device=device, dtype=dtype) for k, v in model.state_dict().items()}
    df = pd.read_parquet(summaries_parquet)
    if lrp_cfg["n_articles"]:
        df = df.iloc[: lrp_cfg["n_articles"]]
    rows = []
    for r in tqdm(df.itertuples(index=False), total=len(df), desc="LRP", mininterval=5.0):
        gen = list(r.generated_ids) + ([3] if (lrp_cfg["explain_stop"] and r.stopped) else [])
        if not gen:
            continue
        dec = [START_ID] + gen[:-1]
        res = lrp_summary(sd, list(r.src_ids), dec, gen, eps=lrp_cfg["epsilon"], dtype=dtype,
                          device=device)
        known = dict(zip(r.known_tokens, r.known_positions, strict=True))
        src = res.source.cpu().numpy()
        deci = res.decoder_inputs.cpu().numpy()
        att = res.attention.cpu().numpy()
        for t, w in enumerate(gen):
            word = vocab.tokens[w]
            rows.append({
                "id": r.id, "step": t, "word": word, "word_id": int(w),
                "logit": float(res.logit[t]), "source": src[t].tolist(),
                "decoder_inputs": deci[t, : t + 1].tolist(), "absorbed": float(res.absorbed[t]),
                "source_total": float(src[t].sum()), "decoder_total": float(deci[t].sum()),
                "attention": att[t].tolist(),
                "known_positions": [int(p) for p in known.get(word, [])],
            })
    out = pd.DataFrame(rows)
    write_parquet(out, out_parquet)
    return out


def write_lrp_tables(maps_parquet: str, lrp_cfg: dict[str, Any], run: str, dataset: str, seed: int,
                     similarity_stem: str, conservation_stem: str,
                     per_summary_out: str | None = None) -> None:
    """Similarity table (LRP vs attention vs shuffled control) and conservation breakdown."""
    maps = pd.read_parquet(maps_parquet)
    per = analysis.similarity_per_summary(maps, lrp_cfg["similarity_transform"],
                                          lrp_cfg["shuffle_repeats"], seed)
    if per_summary_out:
        write_parquet(per, per_summary_out)
    write_table(analysis.similarity_table(per), similarity_stem, caption_for(
        run, f"Mean pairwise similarity between the maps of different output words of the same "
             f"summary ({dataset}; {lrp_cfg['similarity_transform']} LRP relevance), averaged over "
             f"summaries with at least two words; attention distributions of the same steps; "
             f"shuffled = each map permuted over input positions ({lrp_cfg['shuffle_repeats']} draws)."))
    write_table(analysis.conservation_table(maps), conservation_stem, caption_for(
        run, f"Relevance accounting of the LRP maps ({dataset}, epsilon={lrp_cfg['epsilon']}, "
             f"{lrp_cfg['dtype']}): explained logit = input words + decoder-side inputs + absorbed "
             f"by bias and stabilizer terms; mean over maps."), float_format="{:.4g}")


def write_lrp_recall(maps_parquet: str, lrp_cfg: dict[str, Any], run: str, dataset: str,
                     out_stem: str) -> pd.DataFrame:
    """Top-k recall of known source positions (synthetic data only)."""
    maps = pd.read_parquet(maps_parquet)
    table = analysis.recall_table(maps, lrp_cfg["recall_k"], lrp_cfg["similarity_transform"])
    write_table(table, out_stem, caption_for(
        run, f"Recall of the known source positions of generated words among the top-k input "
             f"words of their LRP map, their attention distribution, and by chance (k/S), "
             f"{dataset}; output words that were copied from the article."))
    return table


# ---------------------------------------------------------------------------- figures
def pick_example(maps: pd.DataFrame, summaries: pd.DataFrame, lrp_cfg: dict[str, Any]) -> str:
    """The figure article: ``figure_article`` (an id) if set, else the first explained test
    article (test order) whose generated summary has at least ``figure_min_words`` words."""
    if lrp_cfg["figure_article"]:
        return str(lrp_cfg["figure_article"])
    counts = maps.groupby("id", sort=False).size()
    for id_ in summaries["id"]:
        if counts.get(id_, 0) >= lrp_cfg["figure_min_words"]:
            return str(id_)
    return str(counts.index[0])


def write_figures(maps_parquet: str, summaries_parquet: str, lrp_cfg: dict[str, Any], run: str,
                  dataset: str, fig1: str, fig2: str, fig3: str) -> str:
    """Figures 1-3 for the example article chosen by :func:`pick_example`."""
    maps = pd.read_parquet(maps_parquet)
    summ = pd.read_parquet(summaries_parquet)
    id_ = pick_example(maps, summ, lrp_cfg)
    row = summ[summ["id"] == id_].iloc[0]
    m = maps[maps["id"] == id_].sort_values("step")
    tokens = list(row["src_tokens"])
    n_in = min(len(tokens), lrp_cfg["figure_max_input_words"])
    gen = row["generated"].split()
    save_figure(figures.figure_example(tokens, gen, row["reference"].split(), caption_for(
        run, f"Figure 1: input article {id_} ({dataset}) and the summary the model generated")), fig1)
    k = min(lrp_cfg["figure_output_word"], len(m) - 1)
    w = m.iloc[k]
    save_figure(figures.figure_word_map(tokens[:n_in], np.asarray(w["source"])[:n_in], w["word"],
                                        caption_for(run, f"Figure 2: LRP saliency map of output word "
                                                         f"{k + 1} '{w['word']}' over the input ({id_})")), fig2)
    mm = m.iloc[: lrp_cfg["figure_max_output_words"]]
    save_figure(figures.figure_map_matrix(
        tokens[:n_in], [f"{i + 1}:{x}" for i, x in enumerate(mm["word"])],
        np.stack(mm["source"].map(lambda v: np.asarray(v)[:n_in]).tolist()),
        np.stack(mm["attention"].map(lambda v: np.asarray(v)[:n_in]).tolist()),
        caption_for(run, f"Figure 3: LRP maps (top) and attention (bottom) of the output words ({id_})")), fig3)
    return id_
