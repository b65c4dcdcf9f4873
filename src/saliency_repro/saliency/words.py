"""From token scores to word scores: merging word pieces, dropping what is never shown.

Tokenizers split words into pieces with different markers:

* WordPiece (BERT): continuation pieces start with ``##`` (``homo ##gen ##ization``);
* SentencePiece (ALBERT, T5, XLNet): a piece starting with ``▁`` (U+2581) starts a word;
* byte-level BPE (GPT-2, RoBERTa): a piece starting with ``Ġ`` (U+0120) starts a word.

A word's score aggregates its pieces' scores (``sum``, ``mean``, ``first``: the score of the
word's first piece, or ``max_abs``: the signed score of the piece with the largest magnitude).
Which one a method uses is :func:`saliency_repro.saliency.settings.word_aggregation_for`:
``sum`` for the gradient and perturbation methods (attributions are additive, as the authors
summed them), ``first`` for attention (``sum`` would reward a word for being split into many
pieces). Special tokens and punctuation are never shown to the crowd, as in the paper's
display, so they get no word.

What counts as punctuation was read off the authors' released data (all 200 samples): every
piece made only of non-alphanumeric characters is dropped (``. , ' " ( ) - ! ? : ; / < > \\
#``) except the six symbols that do appear in their displays, ``& * = ` $ +``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WORDPIECE = "wordpiece"
SENTENCEPIECE = "sentencepiece"
BPE = "bpe"
SP_MARK = "\u2581"
BPE_MARK = "\u0120"

#: Non-alphanumeric pieces that the authors' displays nevertheless show.
KEPT_SYMBOLS = frozenset({"&", "*", "=", "`", "$", "+"})


def is_punctuation(word: str) -> bool:
    """True for words the crowd display never shows (see the module docstring)."""
    w = word.strip()
    if not w:
        return True
    return w not in KEPT_SYMBOLS and not any(c.isalnum() for c in w)


def words_cut(text: str, last_seen: int) -> tuple[int, int]:
    """``(words, cut)`` of one text: its displayable whitespace words (punctuation-only tokens
    such as a TREC question's trailing ``?`` are never shown, so they do not count) and how
    many of them lie after ``last_seen``, the ``text.split()`` index of the last word that the
    ``classifier.max_length`` truncation kept (-1: none). A text that was not truncated keeps
    its last displayable word, so nothing counts as cut."""
    shown = [i for i, w in enumerate(text.split()) if not is_punctuation(w)]
    return len(shown), sum(1 for i in shown if i > last_seen)


def detect_scheme(pieces: Sequence[str]) -> str:
    """Guess the marker convention of a tokenizer from its pieces (or its vocabulary)."""
    has_sp = any(p.startswith(SP_MARK) for p in pieces)
    has_bpe = any(p.startswith(BPE_MARK) for p in pieces)
    if has_sp and not has_bpe:
        return SENTENCEPIECE
    if has_bpe and not has_sp:
        return BPE
    return WORDPIECE


def starts_word(piece: str, scheme: str, first: bool) -> bool:
    """Whether ``piece`` begins a new word under the tokenizer's ``scheme``."""
    if first:
        return True
    if scheme == WORDPIECE:
        return not piece.startswith("##")
    if scheme == SENTENCEPIECE:
        return piece.startswith(SP_MARK)
    if scheme == BPE:
        return piece.startswith(BPE_MARK)
    raise ValueError(f"unknown word-piece scheme {scheme!r}")


def strip_marker(piece: str, scheme: str) -> str:
    if scheme == WORDPIECE and piece.startswith("##"):
        return piece[2:]
    if scheme == SENTENCEPIECE:
        return piece.lstrip(SP_MARK)
    if scheme == BPE:
        return piece.lstrip(BPE_MARK)
    return piece


@dataclass(frozen=True)
class Word:
    """One displayable word: its text, the token positions it covers, its whitespace position."""

    text: str
    tokens: tuple[int, ...]
    text_position: int


def group_pieces(
    pieces: Sequence[str],
    scheme: str = WORDPIECE,
    special: Sequence[bool] | None = None,
    offsets: Sequence[tuple[int, int]] | None = None,
    text: str | None = None,
) -> list[Word]:
    """Group token positions into displayable words, in text order.

    ``special`` marks special tokens ([CLS], [SEP], padding), which belong to no word.
    With ``offsets`` and ``text`` (fast tokenizers), a word's text is the original characters
    it spans, so an unknown token (``[UNK]``) shows what was written, and its
    ``text_position`` is the index in ``text.split()`` of the whitespace word it starts in
    (the positions the data's ``rationale`` uses). Without them the text is the pieces joined
    with their markers removed, and ``text_position`` counts the words in order.
    A piece that starts a word but sits inside the same whitespace word as the previous piece
    (``don ' t``: three pre-tokenized words) is its own word, as in the released displays.
    A punctuation piece is always a word of its own (and is then dropped), even where a
    SentencePiece/BPE tokenizer glues it to the previous word (``good`` ``.``).
    """
    special = special if special is not None else [False] * len(pieces)
    ws_index = _whitespace_index(text) if (offsets is not None and text is not None) else None
    groups: list[list[int]] = []
    prev_punct = False
    for i, piece in enumerate(pieces):
        if special[i]:
            continue
        if offsets is not None and offsets[i][0] == offsets[i][1] and not piece:
            continue
        punct = is_punctuation(strip_marker(piece, scheme))
        new = starts_word(piece, scheme, first=not groups) or punct or prev_punct
        prev_punct = punct
        if not new and groups and groups[-1][-1] != i - 1:
            new = True  # a continuation after a special token cannot join across it
        if new:
            groups.append([i])
        else:
            groups[-1].append(i)
    words: list[Word] = []
    for n, g in enumerate(groups):
        if offsets is not None and text is not None:
            start, end = offsets[g[0]][0], offsets[g[-1]][1]
            surface = text[start:end].strip()
            pos = int(ws_index[start]) if ws_index is not None and start < len(ws_index) else n
        else:
            surface = "".join(strip_marker(pieces[i], scheme) for i in g)
            pos = n
        if is_punctuation(surface):
            continue
        words.append(Word(surface, tuple(g), pos))
    if offsets is None or text is None:
        words = [Word(w.text, w.tokens, k) for k, w in enumerate(words)]
    return words


def _whitespace_index(text: str) -> np.ndarray:
    """For each character of ``text``, the index of the ``text.split()`` word it is in."""
    idx = np.full(len(text) + 1, -1, dtype=int)
    word = -1
    in_word = False
    for c, ch in enumerate(text):
        if ch.isspace():
            in_word = False
        else:
            if not in_word:
                word += 1
                in_word = True
        idx[c] = max(word, 0)
    idx[len(text)] = max(word, 0)
    return idx


def aggregate(scores: np.ndarray, words: Sequence[Word], how: str = "sum") -> np.ndarray:
    """Word scores from token scores ``scores`` (1-D over token positions)."""
    out = np.empty(len(words), dtype=float)
    for n, w in enumerate(words):
        s = np.asarray(scores, dtype=float)[list(w.tokens)]
        if how == "sum":
            out[n] = s.sum()
        elif how == "mean":
            out[n] = s.mean()
        elif how == "first":
            out[n] = s[0]
        elif how == "max_abs":
            out[n] = s[np.argmax(np.abs(s))]
        else:
            raise ValueError(f"unknown word aggregation {how!r}")
    return out
