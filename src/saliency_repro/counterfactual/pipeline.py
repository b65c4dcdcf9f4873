"""The workflow steps of the counterfactual check; ``scripts/counterfactual_*.py`` call these.

Intermediate files (``R/counterfactual/{dataset}/``):

* ``articles.parquet``: one row per checked article: ``id, src_tokens, src_ids, summary_ids,
  summary, stopped, log_prob, lrp_from`` (``maps`` = the LRP part's maps reused, ``computed`` =
  recomputed here because the summary differs) and ``score_<method>`` (list, one per token).
* ``results.parquet``: one row per decoded perturbation: ``id, n_words, k, k_words, variant
  (free|frozen), method (a ranking method or random), draw (-1, or the random draw 0..R-1),
  positions, summary_ids, stopped`` and the measures ``rouge_l_change, token_change,
  logprob_drop``.
* ``verdicts.parquet``: :func:`saliency_repro.counterfactual.stats.verdicts`.

The original summary is re-decoded here with batched **greedy** decoding (the summarizer's
``min_length``/``max_length``), the decoder used for every perturbed input too, so that the
comparison never mixes two decoders: with no deletion the "new" summary is the original one.
When the summarizer part decodes by beam search, a greedy summary can differ from its output;
the LRP maps of such articles are then computed here with the same LRP code and settings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from saliency_repro.attribution.ranking import top_k
from saliency_repro.attribution.registry import SUMMARIZATION, make_attributor, methods_for
from saliency_repro.counterfactual import figures
from saliency_repro.counterfactual.attribution import SummarizerContext, SummaryExample
from saliency_repro.counterfactual.config import MEASURES, CounterfactualConfig
from saliency_repro.counterfactual.decoding import greedy, teacher_forced
from saliency_repro.counterfactual.deletion import Perturbed, delete, random_draws
from saliency_repro.counterfactual.measures import rouge_l_change, token_change
from saliency_repro.counterfactual.stats import (
    median_draw,
    never_confirmable,
    pick_examples,
    summary_table,
    verdicts,
)
from saliency_repro.io import write_json, write_parquet
from saliency_repro.reporting import caption_for, save_figure, write_table
from saliency_repro.summarize.lrp import lrp_summary
from saliency_repro.summarize.model import Summarizer, load_model
from saliency_repro.summarize.text import START_ID, STOP_ID, Vocab

LOG = logging.getLogger(__name__)

METHOD_LABELS = {**{s.id: s.paper for s in methods_for(SUMMARIZATION)},
                 "random_control": "random (control)"}


def _reusable_maps(maps: pd.DataFrame | None, id_: str, summary: Sequence[int]) -> np.ndarray | None:
    """The LRP part's per-word maps [T, S] of this article if they explain exactly ``summary``."""
    if maps is None:
        return None
    m = maps[(maps["id"] == id_) & (maps["word_id"] != STOP_ID)].sort_values("step")
    if len(m) != len(summary) or [int(w) for w in m["word_id"]] != [int(w) for w in summary]:
        return None
    return np.stack(m["source"].map(np.asarray).tolist())


def method_scores(
    model: Summarizer, src: Sequence[int], summary: Sequence[int], stopped: bool,
    attention: np.ndarray, lrp_maps: np.ndarray, cf: CounterfactualConfig,
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """One importance score per input token for every configured method, through the method
    registry (task ``summarization``), and the methods' per-article diagnostics (IG's
    completeness delta)."""
    context = SummarizerContext(model, cf.gradient_target, cf.ig_steps, cf.ig_internal_batch_size,
                                cf.lrp_word_step)
    example = SummaryExample(list(src), list(summary), bool(stopped), attention, lrp_maps)
    scores: dict[str, np.ndarray] = {}
    diagnostics: dict[str, float] = {}
    for m in cf.methods:
        result = make_attributor(m, SUMMARIZATION, context).attribute([example])
        scores[m] = result.scores[0]
        diagnostics.update({f"{key}_{m}": float(v[0]) for key, v in result.diagnostics.items()})
    return scores, diagnostics


def check_article(
    model: Summarizer, id_: str, src: Sequence[int], cf: CounterfactualConfig,
    min_length: int, max_length: int, seed: int, lrp_cfg: dict[str, Any],
    maps: pd.DataFrame | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Decode, rank, delete, re-decode and measure one article (all perturbations of a variant
    in one batch). Returns the article record and the result rows."""
    src = [int(t) for t in src]
    S = len(src)
    orig = Perturbed(src, [], S)
    (summary,), (stopped,), _ = greedy(model, [orig], min_length, max_length)
    with torch.no_grad():
        lp0, att0 = teacher_forced(model, [orig], summary, stopped)
    lp0 = float(lp0[0])
    lrp_maps = _reusable_maps(maps, id_, summary)
    lrp_from = "maps"
    if lrp_maps is None and summary and any(m.startswith("lrp") for m in cf.methods):
        lrp_from = "computed"
        dtype = torch.float64 if lrp_cfg.get("dtype", "float64") == "float64" else torch.float32
        res = lrp_summary(model.state_dict(), src, [START_ID] + summary[:-1], summary,
                          eps=lrp_cfg.get("epsilon", 1e-3), dtype=dtype,
                          device=next(model.parameters()).device)
        lrp_maps = res.source.cpu().numpy()
    if not summary:  # nothing to explain: ranking by LRP is undefined
        lrp_maps = np.zeros((1, S))
    scores, method_diagnostics = method_scores(model, src, summary, stopped, att0[0].cpu().numpy(),
                                               lrp_maps, cf)
    article = {"id": id_, "src_ids": src, "summary_ids": summary, "stopped": bool(stopped),
               "log_prob": lp0, "lrp_from": lrp_from,
               **{f"score_{m}": s.tolist() for m, s in scores.items()}, **method_diagnostics}
    plan = []  # (k, k_words, method, draw, positions)
    for k in cf.k:
        kw = cf.words_for(k, S)
        if kw is None:
            continue
        for m in cf.methods:
            plan.append((k, kw, m, -1, sorted(int(i) for i in top_k(scores[m], kw, cf.relevance_sign))))
        for r, pos in enumerate(random_draws(S, kw, cf.random_draws, seed, id_)):
            plan.append((k, kw, "random", r, pos))
    rows: list[dict[str, Any]] = []
    if not plan:
        return article, rows
    for variant in cf.variants:
        frozen = variant == "frozen"
        items = [delete(src, p[4], cf.operator, frozen=frozen) for p in plan]
        att = att0 if frozen else None
        new, new_stop, lp = [], [], []
        for b0 in range(0, len(items), cf.batch_size):  # bounded memory: [B, T, V] logits
            chunk = items[b0: b0 + cf.batch_size]
            ids_, st_, _ = greedy(model, chunk, min_length, max_length,
                                  attention=None if att is None else att.expand(len(chunk), -1, -1))
            new.extend(ids_)
            new_stop.extend(st_)
            with torch.no_grad():
                lp.extend(teacher_forced(model, chunk, summary, stopped, attention=att)[0].tolist())
        for (k, kw, m, r, pos), ids, st, lpi in zip(plan, new, new_stop, lp, strict=True):
            rows.append({"id": id_, "n_words": S, "k": float(k), "k_words": kw, "variant": variant,
                         "method": m, "draw": r, "positions": pos, "summary_ids": ids,
                         "stopped": bool(st), "rouge_l_change": rouge_l_change(summary, ids),
                         "token_change": token_change(summary, ids),
                         "logprob_drop": lp0 - float(lpi)})
    return article, rows


def run_check(
    model_path: str, vocab: Vocab, summaries_parquet: str, maps_parquet: str | None,
    summarizer_cfg: dict[str, Any], lrp_cfg: dict[str, Any], cf_section: dict[str, Any],
    seed: int, device: str, out_articles: str, out_results: str, out_meta: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The check over the first ``n_articles`` test summaries of the summarizer part."""
    cf = CounterfactualConfig.from_config(cf_section)
    dec = summarizer_cfg.get("decoding", {})
    min_len, max_len = int(dec.get("min_length", 35)), int(dec.get("max_length", 100))
    model = load_model(model_path, device)
    summ = pd.read_parquet(summaries_parquet)
    summ = summ.iloc[: cf.n_articles]
    if len(summ) < cf.n_articles:
        LOG.warning("only %d test summaries available (counterfactual.n_articles = %d)",
                    len(summ), cf.n_articles)
    maps = pd.read_parquet(maps_parquet) if maps_parquet else None
    t0 = time.time()
    arts, rows = [], []
    same = 0
    for r in tqdm(summ.itertuples(index=False), total=len(summ), desc="counterfactual", mininterval=5.0):
        art, res = check_article(model, str(r.id), list(r.src_ids), cf, min_len, max_len, seed,
                                 lrp_cfg, maps)
        art["src_tokens"] = list(r.src_tokens)
        art["summary"] = " ".join(vocab.decode(art["summary_ids"]))
        same += int([int(t) for t in r.generated_ids] == art["summary_ids"])
        arts.append(art)
        rows.extend(res)
    articles, results = pd.DataFrame(arts), pd.DataFrame(rows)
    warn_short_articles(cf, [len(a["src_ids"]) for a in arts])
    LOG.info("%d articles, %d decoded perturbations in %.1f s; greedy original == summarizer "
             "output for %d; LRP maps reused for %d", len(articles), len(results),
             time.time() - t0, same, int((articles["lrp_from"] == "maps").sum()))
    write_parquet(articles, out_articles)
    write_parquet(results, out_results)
    if out_meta:
        write_json(out_meta, {"articles": len(articles), "perturbations": len(results),
                              "seconds": time.time() - t0, "greedy_equals_summarizer": same,
                              "lrp_maps_reused": int((articles["lrp_from"] == "maps").sum()),
                              "device": device, "config": cf_section})
    return articles, results


def warn_short_articles(cf: CounterfactualConfig, lengths: Sequence[int]) -> dict[float, int]:
    """Per k, the articles too short to delete k words from (they have no row at that k, and
    the table's ``articles`` column counts fewer); warns naming ``counterfactual.k``."""
    skipped = {k: sum(cf.words_for(k, n) is None for n in lengths) for k in cf.k}
    for k, n in skipped.items():
        if n:
            LOG.warning("config key 'counterfactual.k': %s leaves no word in %d of %d articles; "
                        "they are left out at that k", _k_label(k, cf), n, len(lengths))
    return skipped


def _k_label(k: float, cf: CounterfactualConfig) -> str:
    return f"k={int(k)}" if cf.k_unit == "words" else f"k={k:g} of the article"


def write_tables(results_parquet: str, cf_section: dict[str, Any], run: str, dataset: str,
                 out_verdicts: str, out_stem: str) -> pd.DataFrame:
    """Verdicts per article and the table of confirmed fractions, CIs and Wilcoxon tests."""
    cf = CounterfactualConfig.from_config(cf_section)
    res = pd.read_parquet(results_parquet)
    v = verdicts(res, MEASURES, cf.alpha)
    write_parquet(v, out_verdicts)
    table = summary_table(v, cf.ci_level, cf.ci_method, cf.wilcoxon_alternative, cf.methods,
                          alpha=cf.alpha)
    unit = "words" if cf.k_unit == "words" else "fraction of the article's tokens"
    write_table(table, out_stem, caption_for(
        run, f"Counterfactual deletion check ({dataset}, operator '{cf.operator}', k in {unit}): "
             f"an article's map is confirmed when the Monte-Carlo p-value of its top-k deletion, "
             f"p = (1 + #{{random deletions changing the summary at least as much}}) / (R + 1) "
             f"with R = {cf.random_draws} random deletions of k words, is <= alpha = {cf.alpha:g}. "
             f"Confirmed fraction with {cf.ci_level:.0%} {cf.ci_method} binomial CI; p_median = "
             f"median p over articles; null_rate_max = the rule's false-positive rate when the "
             f"important words are no different from random ones (no ties; ties lower it). "
             f"Wilcoxon signed-rank test ({cf.wilcoxon_alternative}) of important vs mean random "
             f"change across articles. free = attention recomputed; frozen = attention fixed to the "
             f"original run. random_control = random draw 0 judged against the other R - 1 draws "
             f"(estimates the false-positive rate)." + _small_r_note(cf)),
        float_format="{:.3g}")
    return table


def _small_r_note(cf: CounterfactualConfig) -> str:
    """Warn (log and table note) when R is too small for p <= alpha to be possible: the smallest
    p is 1 / (R + 1) for a method and 1 / R for the random control."""
    notes = []
    if never_confirmable(cf.random_draws, cf.alpha):
        notes.append(f"with R = {cf.random_draws} random draws the smallest possible p-value is "
                     f"1/{cf.random_draws + 1} > alpha = {cf.alpha:g}, so no map can be confirmed "
                     f"(counterfactual.random_draws must be at least {_min_draws(cf.alpha)})")
    elif never_confirmable(cf.random_draws - 1, cf.alpha):
        notes.append(f"the random control is judged against R - 1 = {cf.random_draws - 1} draws, so "
                     f"its smallest p-value 1/{cf.random_draws} > alpha = {cf.alpha:g}: it can never "
                     f"be confirmed and does not estimate the false-positive rate "
                     f"(counterfactual.random_draws >= {_min_draws(cf.alpha) + 1} fixes this)")
    for n in notes:
        LOG.warning("counterfactual: %s", n)
    return "".join(f" WARNING: {n}." for n in notes)


def _min_draws(alpha: float) -> int:
    """The smallest R for which a p-value <= alpha is possible."""
    r = 1
    while never_confirmable(r, alpha):
        r += 1
    return r


def write_figures(articles_parquet: str, results_parquet: str, verdicts_parquet: str, vocab: Vocab,
                  cf_section: dict[str, Any], run: str, dataset: str, fig_confirmed: str,
                  fig_unconfirmed: str, fig_distribution: str, fig_curves: str,
                  out_examples: str | None = None) -> dict[str, str | None]:
    """The two worked examples (chosen by :func:`~.stats.pick_examples`), the distribution
    plot and the confirmed-fraction curves."""
    cf = CounterfactualConfig.from_config(cf_section)
    arts = pd.read_parquet(articles_parquet).set_index("id", drop=False)
    res = pd.read_parquet(results_parquet)
    v = pd.read_parquet(verdicts_parquet)
    k_pref = float(cf.example_k_value())
    picked = pick_examples(v, cf.example_method, k_pref, cf.primary_measure, ks=[float(k) for k in cf.k])
    LOG.info("worked examples (%s, %s, preferred %s): %s", cf.example_method, cf.primary_measure,
             _k_label(k_pref, cf), picked)
    for kind, stem in (("confirmed", fig_confirmed), ("unconfirmed", fig_unconfirmed)):
        id_, k_ex = picked[kind], picked[f"{kind}_k"]
        if id_ is None:
            save_figure(figures.placeholder(caption_for(
                run, f"No {kind} article at any k for {cf.example_method}")), stem)
            continue
        a = arts.loc[id_]
        r = res[(res["id"] == id_) & (res["k"] == k_ex)]
        free = r[r["variant"] == "free"]
        imp = free[free["method"] == cf.example_method].iloc[0]
        rnd = free[free["method"] == "random"].sort_values("draw")
        d = median_draw(rnd[cf.primary_measure].to_numpy())
        rand = rnd.iloc[d]
        lines = [("original summary", a["summary_ids"], None),
                 (f"after deleting the {imp['k_words']} most important words "
                  f"({METHOD_LABELS[cf.example_method]})", imp["summary_ids"], imp),
                 (f"after deleting {rand['k_words']} random words (draw {d}, the median change "
                  f"of {len(rnd)})", rand["summary_ids"], rand)]
        fr = r[(r["variant"] == "frozen") & (r["method"] == cf.example_method)]
        if len(fr):
            lines.append(("important words deleted, attention frozen", fr.iloc[0]["summary_ids"],
                          fr.iloc[0]))
        vv = v[(v["id"] == id_) & (v["k"] == k_ex) & (v["variant"] == "free")
               & (v["method"] == cf.example_method) & (v["measure"] == cf.primary_measure)].iloc[0]
        ref = "Figures 4 and 6" if kind == "confirmed" else "Figures 5 and 7"
        article_kind = "a confirmed" if kind == "confirmed" else "an unconfirmed"
        title = caption_for(run, f"{ref} (as in Tuckey et al.): {article_kind} article ({id_}, {dataset}, "
                                 f"{_k_label(k_ex, cf)}); "
                                 f"{cf.primary_measure} {vv['important']:.2f}, Monte-Carlo p = "
                                 f"{vv['p_value']:.3g} against {int(vv['draws'])} random deletions "
                                 f"(alpha {cf.alpha:g}, operator '{cf.operator}')")
        save_figure(figures.worked_example(
            list(a["src_tokens"]), list(imp["positions"]), list(rand["positions"]),
            [(lab, vocab.decode(ids), None if row is None else row) for lab, ids, row in lines],
            title, cf.figure_max_input_words), stem)
    meas_labels = {"rouge_l_change": "1 - ROUGE-L F1", "token_change": "fraction of changed tokens",
                   "logprob_drop": "drop in log p(original summary)"}
    save_figure(figures.distributions(res, list(cf.methods), list(cf.k), meas_labels, METHOD_LABELS,
                                      caption_for(run, f"Summary change after deleting the top-k words "
                                                       f"of each method vs k random words (mean of "
                                                       f"{cf.random_draws} draws per article), {dataset}")),
                fig_distribution)
    table = summary_table(v, cf.ci_level, cf.ci_method, cf.wilcoxon_alternative, cf.methods,
                          alpha=cf.alpha)
    save_figure(figures.curves(table, list(cf.methods) + ["random_control"], meas_labels,
                               METHOD_LABELS, cf.alpha, cf.k_unit, caption_for(
                                   run, f"Confirmed fraction ({cf.ci_level:.0%} CI) against k, "
                                        f"attention free (solid) and frozen (dashed), {dataset}")),
                fig_curves)
    if out_examples:
        write_json(out_examples, {"rule": "confirmed: largest margin (important change - the "
                                          "critical random change of the p-value rule) among "
                                          "confirmed articles; unconfirmed: most negative margin "
                                          "among unconfirmed; "
                                          "at the preferred k, else the nearest k with such an article",
                                  "method": cf.example_method, "preferred_k": k_pref,
                                  "measure": cf.primary_measure, "variant": "free", **picked})
    return picked
