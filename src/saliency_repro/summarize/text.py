"""Preprocessing in the See et al. (2017) tradition and the vocabulary.

Articles and summaries are lower-cased, tokenized and truncated (400 / 100 tokens by default);
the vocabulary keeps the most frequent training words. Tokenization works word by word on
``text.split()`` and remembers, for every token, the whitespace word it came from, so that
positions given in words by the data layer (``source_positions``) can be mapped to the tokens the
model sees.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PAD, UNK, START, STOP = "[PAD]", "[UNK]", "[START]", "[STOP]"
SPECIALS = (PAD, UNK, START, STOP)
PAD_ID, UNK_ID, START_ID, STOP_ID = 0, 1, 2, 3

# PTB-like: words with inner hyphens/apostrophes/periods/commas in numbers stay together,
# clitics ('s, n't) are split off, every other punctuation mark is its own token.
_TOKEN_RE = re.compile(r"[^\W_]+(?:[-.,][^\W_]+)*(?=n't)|n't|'(?:s|re|ve|ll|d|m)(?![^\W_])|[^\W_]+(?:[-.,][^\W_]+)*|\S")


@dataclass(frozen=True)
class PreprocessConfig:
    """The ``summarizer.preprocessing`` config section."""

    lowercase: bool = True
    tokenizer: str = "regex"
    max_article_tokens: int = 400
    max_summary_tokens: int = 100
    vocab_size: int = 50000
    min_count: int = 1

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> PreprocessConfig:
        return cls(**section)


def tokenize_words(text: str, cfg: PreprocessConfig) -> tuple[list[str], list[int]]:
    """Tokens of ``text`` and, for each token, the index of its word in ``text.split()``."""
    tokens: list[str] = []
    word_of: list[int] = []
    for w_index, word in enumerate(text.split()):
        if cfg.lowercase:
            word = word.lower()
        parts = [word] if cfg.tokenizer == "whitespace" else _TOKEN_RE.findall(word)
        tokens.extend(parts)
        word_of.extend([w_index] * len(parts))
    return tokens, word_of


def tokenize(text: str, cfg: PreprocessConfig) -> list[str]:
    """Lower-cased tokens of ``text`` (no truncation)."""
    return tokenize_words(text, cfg)[0]


@dataclass
class Vocab:
    """Token <-> id map with the fixed special ids of ``docs/SUMMARIZER_MODEL.md``."""

    tokens: list[str]
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if tuple(self.tokens[:4]) != SPECIALS:
            raise ValueError(f"vocabulary must start with {SPECIALS}")
        self._index = {t: i for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        return self._index.get(token, UNK_ID)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.id(t) for t in tokens]

    def decode(self, ids: Iterable[int], strip: bool = True) -> list[str]:
        """Tokens of ``ids``; ``strip`` stops at [STOP] and drops [PAD]/[START]."""
        out = []
        for i in ids:
            i = int(i)
            if strip and i == STOP_ID:
                break
            if strip and i in (PAD_ID, START_ID):
                continue
            out.append(self.tokens[i])
        return out

    def to_json(self) -> dict[str, Any]:
        return {"tokens": self.tokens}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Vocab:
        return cls(list(obj["tokens"]))


def build_vocab(
    texts: Iterable[str | list[str]], cfg: PreprocessConfig
) -> tuple[Vocab, dict[str, Any]]:
    """The ``vocab_size`` most frequent tokens (specials included in the count), ties by token.

    ``texts`` are raw strings (tokenized here) or token lists (counted as given; the caller
    passes truncated articles and summaries, as the model never sees the rest). Returns the
    vocabulary and statistics (types seen, coverage of training tokens) for ``vocab.json``.
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text, cfg) if isinstance(text, str) else text)
    ranked = sorted(
        ((tok, n) for tok, n in counts.items() if n >= cfg.min_count and tok not in SPECIALS),
        key=lambda kv: (-kv[1], kv[0]),
    )
    kept = ranked[: max(0, cfg.vocab_size - len(SPECIALS))]
    total = sum(counts.values())
    covered = sum(n for _, n in kept)
    stats = {"types_seen": len(counts), "tokens_seen": total, "size": len(kept) + len(SPECIALS),
             "coverage": covered / total if total else 0.0}
    return Vocab(list(SPECIALS) + [t for t, _ in kept]), stats


@dataclass
class Example:
    """One article-summary pair as the model sees it."""

    id: str
    src_tokens: list[str]
    src_ids: list[int]
    src_word_of: list[int]
    tgt_tokens: list[str]
    dec_inputs: list[int]
    targets: list[int]


def encode_example(
    id_: str, article: str, summary: str, vocab: Vocab, cfg: PreprocessConfig
) -> Example:
    """Tokenize, truncate and map to ids.

    Decoder inputs are ``[START] + summary`` and targets ``summary + [STOP]``; as in See et al.,
    a summary cut by truncation gets no [STOP] (the model must not learn to stop there).
    """
    src_tokens, word_of = tokenize_words(article, cfg)
    src_tokens = src_tokens[: cfg.max_article_tokens]
    word_of = word_of[: cfg.max_article_tokens]
    tgt_all = tokenize(summary, cfg)
    tgt = tgt_all[: cfg.max_summary_tokens]
    tgt_ids = vocab.encode(tgt)
    dec_inputs = [START_ID] + tgt_ids
    targets = tgt_ids + [STOP_ID]
    if len(tgt_all) > cfg.max_summary_tokens:
        dec_inputs, targets = dec_inputs[:-1], targets[:-1]
    if not src_tokens:
        src_tokens, word_of = [PAD], [0]
    return Example(id_, src_tokens, vocab.encode(src_tokens), word_of, tgt, dec_inputs, targets)


def word_positions_to_tokens(word_positions: Iterable[int], word_of: list[int]) -> list[int]:
    """Token positions (within the truncated article) of the given whitespace-word positions."""
    wanted = set(int(p) for p in word_positions)
    return [t for t, w in enumerate(word_of) if w in wanted]
