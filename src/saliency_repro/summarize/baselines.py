"""ROUGE of the summarizer beside two baselines the pipeline computes itself.

A ROUGE number of a summarizer says little without the scores of trivial systems on the same
references. Both baselines are scored exactly like the model (same references, tokens, sentence
rule and bootstrap; the functions of :mod:`saliency_repro.summarize.rouge`):

* **lead-3**: the first ``lead_sentences`` sentences of the (untruncated) article, the classic
  extractive baseline of CNN/Daily Mail (See et al. 2017 report 40.34 / 17.70 / 36.57 for it).
  Sentences end after ``.``, ``!`` or ``?`` together with any closing quotes or brackets that
  follow (:func:`article_sentences`), on the summarizer's tokens.
* **most frequent training summary**: one constant summary for every test article, what a
  summarizer that ignores its input can at best be expected to write. The training summary that
  occurs most often (after the summarizer's preprocessing); when several are equally frequent (on
  CNN/DM nearly every summary is unique) the tie is broken by the most "central" of them: among
  a seeded sample of ``frequent_candidates`` tied summaries, the one with the highest mean
  unigram F1 against a seeded sample of ``frequent_sample`` training summaries. Training data
  only, never the test references.

Each row also gives ``distinct_summaries``: the number of distinct summaries divided by the
number of articles (1.0 = every summary different, 1/n = one summary for all), the first check
that a model conditions on its input.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.reporting import caption_for, write_table
from saliency_repro.summarize.rouge import (
    SENTENCE_END_TOKENS,
    reference_texts,
    rouge_per_pair,
    rouge_table,
    sentence_lines,
)
from saliency_repro.summarize.text import PreprocessConfig, tokenize

LOG = logging.getLogger(__name__)

LEAD_END_TOKENS = (".", "!", "?")
# tokens that still belong to a sentence after its final punctuation (PTB and raw forms)
CLOSING_TOKENS = ("''", "'", "-rrb-", "-rsb-", "-rcb-", ")", "]", "}")


def article_sentences(tokens: Sequence[str], end_tokens: Sequence[str] = LEAD_END_TOKENS) -> list[list[str]]:
    """Sentences of an article's tokens: a sentence ends after a token in ``end_tokens`` plus
    the closing quotes and brackets right after it. A ``"`` there closes the sentence only if a
    quotation is open (an odd number of ``"`` so far), else it opens the next sentence."""
    ends = set(end_tokens)
    out: list[list[str]] = []
    cur: list[str] = []
    quote_open = False
    ended = False
    for tok in tokens:
        if ended:
            if tok in CLOSING_TOKENS or (tok == '"' and quote_open):
                cur.append(tok)
                if tok == '"':
                    quote_open = False
                continue
            out.append(cur)
            cur, ended = [], False
        cur.append(tok)
        if tok == '"':
            quote_open = not quote_open
        if tok in ends:
            ended = True
    if cur:
        out.append(cur)
    return out


def lead_summaries(articles: Sequence[str], pcfg: PreprocessConfig, n_sentences: int = 3) -> list[str]:
    """The first ``n_sentences`` sentences of each article, tokenized as the summarizer does,
    one sentence per line (the ROUGE-Lsum sentences)."""
    return ["\n".join(" ".join(s) for s in article_sentences(tokenize(a, pcfg))[:n_sentences])
            for a in articles]


def summary_text(raw: str, pcfg: PreprocessConfig) -> str:
    """A raw summary as token text, its lines (highlights) kept as lines."""
    lines = [" ".join(tokenize(line, pcfg)) for line in raw.split("\n")]
    return "\n".join(line for line in lines if line)


def _unigram_f1(a: Counter, b: Counter, na: int, nb: int) -> float:
    overlap = sum((a & b).values())
    return 0.0 if overlap == 0 else 2 * overlap / (na + nb)


def most_frequent_summary(summaries: Sequence[str], pcfg: PreprocessConfig, seed: int,
                          n_candidates: int = 500, n_sample: int = 1000) -> tuple[str, dict[str, Any]]:
    """The most frequent training summary (token text) and how it was chosen (see the module
    docstring for the tie-break)."""
    texts = [summary_text(s, pcfg) for s in summaries]
    texts = [t for t in texts if t]
    if not texts:
        raise ValueError("no non-empty training summary to choose the most frequent one from")
    counts = Counter(texts)
    top = max(counts.values())
    tied = [t for t in dict.fromkeys(texts) if counts[t] == top]  # first-occurrence order
    info: dict[str, Any] = {"count": top, "tied": len(tied), "training_summaries": len(texts)}
    if len(tied) == 1:
        return tied[0], info
    rng = np.random.default_rng(seed)
    cands = [tied[i] for i in sorted(rng.choice(len(tied), min(n_candidates, len(tied)), replace=False))]
    sample = [texts[i] for i in rng.choice(len(texts), min(n_sample, len(texts)), replace=False)]
    bags = [(Counter(t.split()), len(t.split())) for t in sample]
    best, best_score = cands[0], -1.0
    for cand in cands:
        bag, n = Counter(cand.split()), len(cand.split())
        score = float(np.mean([_unigram_f1(bag, b, n, nb) for b, nb in bags]))
        if score > best_score:
            best, best_score = cand, score
    info.update({"candidates": len(cands), "sample": len(sample), "mean_unigram_f1": best_score})
    return best, info


def distinct_fraction(summaries: Sequence[str]) -> float:
    """Number of distinct summaries / number of summaries (nan for none)."""
    return len(set(summaries)) / len(summaries) if len(summaries) else float("nan")


def rouge_with_baselines(summaries_parquet: str, train_parquet: str, test_parquet: str,
                         summarizer_cfg: dict[str, Any], seed: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    """ROUGE rows of the model, lead-3 and the most frequent training summary on the decoded
    test articles, each with ``distinct_summaries`` and ``mean_tokens``; plus a record of how
    the frequent summary was chosen."""
    rcfg = summarizer_cfg["rouge"]
    bcfg = summarizer_cfg["baselines"]
    pcfg = PreprocessConfig.from_config(summarizer_cfg["preprocessing"])
    ends = tuple(rcfg.get("sentence_end_tokens", SENTENCE_END_TOKENS))
    max_tokens = rcfg.get("reference_max_tokens")
    use_stemmer, n_boot = bool(rcfg.get("use_stemmer", False)), int(rcfg.get("bootstrap", 1000))
    gen = pd.read_parquet(summaries_parquet, columns=["id", "generated"])
    test = pd.read_parquet(test_parquet, columns=["id", "article", "summary"]).set_index("id")
    ids = gen["id"].astype(str).tolist()
    missing = [i for i in ids if i not in test.index]
    if missing:
        raise ValueError(f"{len(missing)} generated summaries have no test article in {test_parquet} "
                         f"(first: {missing[0]!r})")
    test = test.loc[ids]
    refs, _ = reference_texts(test["summary"].tolist(), pcfg, max_tokens, ends)
    frequent, info = most_frequent_summary(
        pd.read_parquet(train_parquet, columns=["summary"])["summary"].tolist(), pcfg, seed,
        bcfg["frequent_candidates"], bcfg["frequent_sample"])
    LOG.info("most frequent training summary: %s (%s)", frequent[:120].replace("\n", " / "), info)
    dcfg = summarizer_cfg["decoding"]
    model_label = (f"model: beam {dcfg['beam_size']}" if dcfg["method"] == "beam" else "model: greedy") + \
        f", {dcfg['min_length']}-{dcfg['max_length']} tokens"
    n_lead = bcfg["lead_sentences"]
    systems = {
        model_label: [sentence_lines(g, ends) for g in gen["generated"]],
        f"lead-{n_lead}": lead_summaries(test["article"].tolist(), pcfg, n_lead),
        "most frequent training summary": [frequent] * len(ids),
    }
    reference = "full" if max_tokens is None else f"first {max_tokens} tokens"
    tables = []
    for label, hyps in systems.items():
        per = rouge_per_pair(hyps, refs, use_stemmer)
        table = rouge_table(per, label, seed=seed, n_boot=n_boot, reference=reference)
        table["distinct_summaries"] = distinct_fraction(hyps)
        table["mean_tokens"] = float(np.mean([len(h.split()) for h in hyps])) if hyps else np.nan
        tables.append(table)
    return pd.concat(tables, ignore_index=True), info


def write_rouge_baselines(summaries_parquet: str, train_parquet: str, test_parquet: str, out_stem: str,
                          run: str, dataset: str, summarizer_cfg: dict[str, Any], seed: int) -> pd.DataFrame:
    """The table of :func:`rouge_with_baselines` (csv/md/tex)."""
    table, info = rouge_with_baselines(summaries_parquet, train_parquet, test_parquet, summarizer_cfg, seed)
    how = (f"occurs {info['count']} times in {info['training_summaries']} training summaries"
           if info["tied"] == 1 else
           f"{info['tied']} training summaries tie at {info['count']} occurrence(s); the most central "
           f"of {info['candidates']} sampled (mean unigram F1 {info['mean_unigram_f1']:.3f} against "
           f"{info['sample']} sampled training summaries)")
    write_table(table, out_stem, caption_for(
        run, f"ROUGE F1 (mean, bootstrap 95% CI) of the summarizer's test summaries beside two "
             f"baselines on the same {int(table['n'].iloc[0])} test articles of {dataset}, scored "
             f"alike: lead-{summarizer_cfg['baselines']['lead_sentences']} (the article's first "
             f"sentences) and one constant summary, the most frequent training summary ({how}). "
             f"distinct_summaries = distinct summaries / articles; mean_tokens = summary length."))
    return table
