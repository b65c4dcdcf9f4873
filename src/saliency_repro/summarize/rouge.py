"""ROUGE-1/2/L and summary-level ROUGE-Lsum of generated against reference summaries
(``rouge-score``), with the texts compared made explicit.

**What is compared.** Generated: the decoded tokens as stored in ``test_summaries.parquet``
(``[UNK]`` kept: the baseline model has no copy mechanism, so an out-of-vocabulary word it
"meant" is a miss, as in See et al.'s baseline). Reference: the data layer's full summary,
tokenized with the summarizer's own preprocessing (lower-casing, tokenizer), **not
truncated**. ``test_summaries.parquet``'s ``reference`` is cut at
``preprocessing.max_summary_tokens`` because training needs that; scoring against it would
silently drop the end of long references and raise recall. ``rouge.reference_max_tokens``
truncates on purpose, and then the table says so (column ``reference`` and the caption).

**Tokens.** Every ROUGE type and both stemmer modes split on whitespace only and compare each
token as written (``[UNK]``, ``-lrb-``, ``,``, ``n't``, case). rouge-score's default tokenizer,
which it uses whenever ``use_stemmer=True`` and no tokenizer is given, lower-cases and turns
every non-alphanumeric character into a space (``[UNK]`` -> ``unk``, ``-lrb-`` -> ``lrb``,
punctuation dropped), so the two modes used to compare different texts. With
``use_stemmer``, alphabetic tokens of more than 3 characters are replaced by their Porter stem
(rouge-score's stemmer, nltk's, without its lower-casing; rouge-score's length rule); all other
tokens stay as written.

**Sentences (ROUGE-Lsum).** rouge-score's ``rougeLsum`` is the summary-level LCS of Lin (2004)
over sentences separated by ``"\\n"``, what See et al. report as ROUGE-L (pyrouge on one
sentence per line). Rule (:func:`sentence_lines`): a text that has line breaks keeps them (one
highlight per line in See et al.'s data; a caller's lead-3 baseline); otherwise a sentence ends
after every token in ``rouge.sentence_end_tokens`` (default ``.``), the rule of See et al.'s
``write_for_rouge`` for decoded output. Generated summaries never have line breaks, so they
are always split this way; references keep their highlight lines (the data layer keeps line
breaks in summaries) and fall back to the same rule only when a file has none. The caption
counts which rule each reference got. Without sentence ends both texts are one sentence and ROUGE-Lsum = ROUGE-L.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from rouge_score import rouge_scorer, tokenizers

from saliency_repro.reporting import caption_for, write_table
from saliency_repro.summarize.text import PreprocessConfig, tokenize

LOG = logging.getLogger(__name__)

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
METRIC_NAMES = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L",
                "rougeLsum": "ROUGE-Lsum"}
SENTENCE_END_TOKENS = (".",)


class WhitespaceTokenizer:
    """rouge-score tokenizer: ``text.split()``, each token as written; with ``use_stemmer``,
    alphabetic tokens longer than 3 characters become their Porter stem (case kept)."""

    def __init__(self, use_stemmer: bool = False) -> None:
        # the stemmer rouge-score's own tokenizer uses (nltk's Porter stemmer)
        self._stemmer = tokenizers.porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        tokens = text.split()
        if self._stemmer is None:
            return tokens
        return [self._stemmer.stem(t, to_lowercase=False) if len(t) > 3 and t.isalpha() else t
                for t in tokens]


def split_sentences(tokens: Sequence[str], end_tokens: Sequence[str] = SENTENCE_END_TOKENS) -> list[list[str]]:
    """Sentences of a token list: each ends after a token in ``end_tokens`` (the rest, if any,
    is the last sentence)."""
    ends = set(end_tokens)
    out: list[list[str]] = [[]]
    for t in tokens:
        out[-1].append(t)
        if t in ends:
            out.append([])
    return [s for s in out if s]


def sentence_lines(text: str, end_tokens: Sequence[str] = SENTENCE_END_TOKENS) -> str:
    """``text`` as one sentence per line for ROUGE-Lsum (see the module docstring): line breaks
    already there are kept, else sentences end after ``end_tokens``."""
    if "\n" in text:
        return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.split())
    return "\n".join(" ".join(s) for s in split_sentences(text.split(), end_tokens))


def rouge_per_pair(
    generated: Sequence[str], references: Sequence[str], use_stemmer: bool = False
) -> pd.DataFrame:
    """Per-pair precision, recall and F1 of ROUGE-1, -2, -L and -Lsum (columns ``rouge1_p``,
    ``rouge1_r``, ``rouge1_f``, ...), tokens compared as written (:class:`WhitespaceTokenizer`).

    Sentences for ROUGE-Lsum are the texts' lines; pass texts through :func:`sentence_lines`
    first (ROUGE-1/2/L ignore line breaks, so this changes nothing else).
    """
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer,
                                      tokenizer=WhitespaceTokenizer(use_stemmer))
    rows = []
    for gen, ref in zip(generated, references, strict=True):
        scores = scorer.score(ref, gen)
        row = {}
        for rt in ROUGE_TYPES:
            s = scores[rt]
            row.update({f"{rt}_p": s.precision, f"{rt}_r": s.recall, f"{rt}_f": s.fmeasure})
        rows.append(row)
    return pd.DataFrame(rows, columns=[f"{rt}_{x}" for rt in ROUGE_TYPES for x in "prf"])


def rouge_table(per_pair: pd.DataFrame, label: str, seed: int = 0, n_boot: int = 1000,
                reference: str = "full") -> pd.DataFrame:
    """Mean P/R/F1 per ROUGE type present in ``per_pair`` with a bootstrap 95% CI of the F1
    mean; ``reference`` (a column) says what the summaries were scored against."""
    rng = np.random.default_rng(seed)
    out = []
    n = len(per_pair)
    for rt in ROUGE_TYPES:
        if f"{rt}_f" not in per_pair:
            continue
        f = per_pair[f"{rt}_f"].to_numpy()
        boots = f[rng.integers(0, n, size=(n_boot, n))].mean(axis=1) if n else np.array([np.nan])
        out.append({"summaries": label, "metric": METRIC_NAMES[rt],
                    "precision": per_pair[f"{rt}_p"].mean(), "recall": per_pair[f"{rt}_r"].mean(),
                    "f1": f.mean() if n else np.nan,
                    "f1_ci_low": np.quantile(boots, 0.025), "f1_ci_high": np.quantile(boots, 0.975),
                    "n": n, "reference": reference})
    return pd.DataFrame(out)


def reference_texts(summaries: Sequence[str], pcfg: PreprocessConfig, max_tokens: int | None = None,
                    end_tokens: Sequence[str] = SENTENCE_END_TOKENS) -> tuple[list[str], dict[str, int]]:
    """Raw reference summaries -> token texts, one sentence per line, for :func:`rouge_per_pair`.

    Tokenized line by line with the summarizer's preprocessing (so line breaks survive), split
    into sentences by :func:`sentence_lines`' rule, truncated to the first ``max_tokens``
    tokens only when given. Returns the texts and counts: ``lines`` (references that had line
    breaks), ``end_tokens`` (split after sentence-end tokens), ``truncated`` (references cut).
    """
    texts: list[str] = []
    stats = {"lines": 0, "end_tokens": 0, "truncated": 0}
    for raw in summaries:
        if "\n" in raw:
            stats["lines"] += 1
            sents = [tokenize(line, pcfg) for line in raw.split("\n")]
        else:
            stats["end_tokens"] += 1
            sents = split_sentences(tokenize(raw, pcfg), end_tokens)
        sents = [s for s in sents if s]
        if max_tokens is not None and sum(map(len, sents)) > max_tokens:
            stats["truncated"] += 1
            kept, left = [], max_tokens
            for s in sents:
                if left <= 0:
                    break
                kept.append(s[:left])
                left -= len(kept[-1])
            sents = kept
        texts.append("\n".join(" ".join(s) for s in sents))
    return texts, stats


def _rouge_options(rouge_cfg: dict[str, Any]) -> tuple[bool, int, int | None, tuple[str, ...]]:
    """The ``summarizer.rouge`` keys, checked beyond what the schema can say."""
    max_tokens = rouge_cfg.get("reference_max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise ValueError("config key 'summarizer.rouge.reference_max_tokens': a positive integer "
                         f"or null (full reference), got {max_tokens!r}")
    ends = tuple(rouge_cfg.get("sentence_end_tokens", SENTENCE_END_TOKENS))
    if not ends or any(not isinstance(t, str) or t.split() != [t] for t in ends):
        raise ValueError("config key 'summarizer.rouge.sentence_end_tokens': non-empty tokens "
                         f"without spaces, got {list(ends)!r}")
    return bool(rouge_cfg.get("use_stemmer", False)), int(rouge_cfg.get("bootstrap", 1000)), \
        max_tokens, ends


def write_rouge(summaries_parquet: str, test_parquet: str, out_stem: str, run: str, dataset: str,
                summarizer_cfg: dict[str, Any], seed: int) -> pd.DataFrame:
    """ROUGE table of the generated test summaries against the data layer's test references.

    ``summarizer_cfg`` needs ``preprocessing``, ``decoding`` and ``rouge``. References are
    matched by ``id``; a generated summary without a reference is an error.
    """
    use_stemmer, n_boot, max_tokens, ends = _rouge_options(summarizer_cfg["rouge"])
    pcfg = PreprocessConfig.from_config(summarizer_cfg["preprocessing"])
    gen = pd.read_parquet(summaries_parquet, columns=["id", "generated"])
    test = pd.read_parquet(test_parquet, columns=["id", "summary"])
    ref_of = dict(zip(test["id"].astype(str), test["summary"], strict=True))
    missing = [i for i in gen["id"].astype(str) if i not in ref_of]
    if missing:
        raise ValueError(f"{len(missing)} generated summaries have no reference in {test_parquet} "
                         f"(first: {missing[0]!r})")
    refs, stats = reference_texts([ref_of[i] for i in gen["id"].astype(str)], pcfg, max_tokens, ends)
    hyps = [sentence_lines(g, ends) for g in gen["generated"]]
    per = rouge_per_pair(hyps, refs, use_stemmer)
    dcfg = summarizer_cfg["decoding"]
    label = (f"beam {dcfg['beam_size']}" if dcfg["method"] == "beam" else "greedy") + \
        f", {dcfg['min_length']}-{dcfg['max_length']} tokens"
    if max_tokens is None:
        reference, ref_note = "full", "the full reference (not truncated)"
    else:
        reference = f"first {max_tokens} tokens ({stats['truncated']} of {len(refs)} cut)"
        ref_note = (f"the reference TRUNCATED to its first {max_tokens} tokens "
                    f"(summarizer.rouge.reference_max_tokens; {stats['truncated']} of {len(refs)} "
                    f"references cut)")
        LOG.warning("ROUGE against references truncated to %d tokens (%d of %d cut)", max_tokens,
                    stats["truncated"], len(refs))
    table = rouge_table(per, label, seed=seed, n_boot=n_boot, reference=reference)
    end_list = " ".join(f"'{t}'" for t in ends)
    stem_note = ("Porter-stemmed alphabetic tokens of more than 3 characters" if use_stemmer
                 else "no stemming")
    write_table(table, out_stem, caption_for(
        run, f"ROUGE F1 (mean, bootstrap 95% CI), precision and recall of generated vs reference "
             f"test summaries, {dataset}, seq2seq+attention without pointer/coverage; scored "
             f"against {ref_note}. Tokens compared as written after the summarizer's "
             f"preprocessing (whitespace-separated; [UNK] and punctuation kept; {stem_note}). "
             f"ROUGE-Lsum = summary-level LCS over sentences: generated summaries split after "
             f"{end_list}; references: {stats['lines']} by their line breaks, "
             f"{stats['end_tokens']} (no line breaks in the data) after {end_list}."))
    return table
