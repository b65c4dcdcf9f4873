"""How much a summary changed.

* ``rouge_l_change``: 1 - ROUGE-L F1 (``rouge-score``) between the original and the new summary,
  both as whitespace token sequences (our preprocessing's tokens; rouge-score's own tokenizer
  would drop ``[UNK]`` and punctuation). Identical summaries (both empty included) change 0.
* ``token_change``: the fraction of positions whose token differs, over the longer summary
  (a position present in only one of them counts as changed). Sensitive to shifts, which is
  intended: an inserted word early on changes what the reader sees.
* ``logprob_drop``: log p(original summary | original input) - log p(original summary |
  perturbed input) under teacher forcing (nats, [STOP] included when it stopped); computed in
  :mod:`.pipeline`. Needs no decoding, so it moves even when the argmax summary does not.
"""

from __future__ import annotations

from collections.abc import Sequence

from rouge_score import rouge_scorer


class _WhitespaceTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return text.split()


_SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False, tokenizer=_WhitespaceTokenizer())


def rouge_l_change(original: Sequence, new: Sequence) -> float:
    """1 - ROUGE-L F1 of two token (or id) sequences."""
    a, b = [str(t) for t in original], [str(t) for t in new]
    if a == b:
        return 0.0
    return 1.0 - _SCORER.score(" ".join(a), " ".join(b))["rougeL"].fmeasure


def token_change(original: Sequence, new: Sequence) -> float:
    """Fraction of positions (over the longer sequence) whose token differs."""
    a, b = list(original), list(new)
    n = max(len(a), len(b))
    if n == 0:
        return 0.0
    same = sum(1 for x, y in zip(a, b, strict=False) if x == y)
    return (n - same) / n
