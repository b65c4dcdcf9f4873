"""Word-piece merging, punctuation and aggregation (expected values written by hand)."""

import numpy as np
import pytest

from saliency_repro.saliency.words import (
    BPE,
    SENTENCEPIECE,
    WORDPIECE,
    aggregate,
    detect_scheme,
    group_pieces,
    is_punctuation,
)


def texts(words):
    return [w.text for w in words]


def test_wordpiece_merges_continuations_and_drops_specials_and_punctuation():
    pieces = ["[CLS]", "homo", "##gen", "##ization", "in", "the", "wine", ",", "good", "[SEP]"]
    special = [True] + [False] * 8 + [True]
    words = group_pieces(pieces, WORDPIECE, special)
    assert texts(words) == ["homogenization", "in", "the", "wine", "good"]
    assert words[0].tokens == (1, 2, 3)
    assert [w.text_position for w in words] == [0, 1, 2, 3, 4]


def test_wordpiece_leading_and_trailing_pieces():
    # a text that starts with a continuation piece (e.g. after truncation) and ends on one
    pieces = ["##ing", "the", "end", "##s"]
    words = group_pieces(pieces, WORDPIECE)
    assert texts(words) == ["ing", "the", "ends"]
    assert words[-1].tokens == (2, 3)


def test_continuation_never_joins_across_a_special_token():
    pieces = ["[CLS]", "##x", "[SEP]"]
    words = group_pieces(pieces, WORDPIECE, [True, False, True])
    assert texts(words) == ["x"]


def test_sentencepiece_markers():
    pieces = ["\u2581The", "\u2581wine", "ries", "\u2581are", "\u2581good", "."]
    assert detect_scheme(pieces) == SENTENCEPIECE
    assert texts(group_pieces(pieces, SENTENCEPIECE)) == ["The", "wineries", "are", "good"]


def test_bpe_markers():
    pieces = ["The", "\u0120wine", "ries", "\u0120,", "\u0120good"]
    assert detect_scheme(pieces) == BPE
    assert texts(group_pieces(pieces, BPE)) == ["The", "wineries", "good"]


def test_unknown_token_shows_original_text_with_offsets():
    text = "the \u014boma snow"
    pieces = ["[CLS]", "the", "[UNK]", "snow", "[SEP]"]
    offsets = [(0, 0), (0, 3), (4, 8), (9, 13), (0, 0)]
    special = [True, False, False, False, True]
    words = group_pieces(pieces, WORDPIECE, special, offsets, text)
    assert texts(words) == ["the", "\u014boma", "snow"]
    assert [w.text_position for w in words] == [0, 1, 2]


def test_punctuation_inside_a_whitespace_word_maps_to_its_position():
    text = "i don't know."
    pieces = ["i", "don", "'", "t", "know", "."]
    offsets = [(0, 1), (2, 5), (5, 6), (6, 7), (8, 12), (12, 13)]
    words = group_pieces(pieces, WORDPIECE, None, offsets, text)
    # as in the released displays ("city ' s" shows "city s"): the apostrophe is dropped
    assert texts(words) == ["i", "don", "t", "know"]
    assert [w.text_position for w in words] == [0, 1, 1, 2]


@pytest.mark.parametrize("word,expected", [
    (".", True), (",", True), ("'", True), ("--", True), ("<", True), ("#", True),
    ("$", False), ("&", False), ("=", False), ("a.", False), ("film", False), ("", True),
])
def test_is_punctuation(word, expected):
    assert is_punctuation(word) is expected


def test_aggregate():
    pieces = ["a", "##b", "##c", "d"]
    words = group_pieces(pieces, WORDPIECE)
    scores = np.array([1.0, -4.0, 2.0, 0.5])
    assert aggregate(scores, words, "sum").tolist() == [-1.0, 0.5]
    assert aggregate(scores, words, "mean").tolist() == pytest.approx([-1.0 / 3, 0.5])
    assert aggregate(scores, words, "max_abs").tolist() == [-4.0, 0.5]
    assert aggregate(scores, words, "first").tolist() == [1.0, 0.5]
    with pytest.raises(ValueError):
        aggregate(scores, words, "median")


def test_word_aggregation_per_method():
    from saliency_repro.saliency.settings import word_aggregation_for

    assert word_aggregation_for("integrated_gradients", {}) == "sum"  # the authors' sum
    assert word_aggregation_for("lime", {"word_aggregation": "mean"}) == "mean"
    # attention does not reward piece count by default, and has its own setting
    assert word_aggregation_for("all_attention", {}) == "first"
    assert word_aggregation_for("last_attention", {"word_aggregation": "sum"}) == "first"
    assert word_aggregation_for("last_attention", {"attention_word_aggregation": "mean"}) == "mean"
    assert word_aggregation_for("random", {"word_aggregation": "sum"}) == "first"
    with pytest.raises(ValueError, match="saliency.attention_word_aggregation"):
        word_aggregation_for("all_attention", {"attention_word_aggregation": "median"})


def test_words_cut_counts_only_displayable_words_after_the_last_kept_one():
    from saliency_repro.saliency.words import words_cut

    # a TREC-style question: the trailing "?" is its own whitespace token, never shown
    q = "What is the capital of France ?"
    assert words_cut(q, 5) == (6, 0)       # last kept word "France": nothing was cut
    assert words_cut(q, 3) == (6, 2)       # "of", "France" cut; "?" is no word
    assert words_cut("-- a b !!", -1) == (2, 2)


def test_truncated_fraction_ignores_punctuation_tokens_of_untruncated_texts():
    """The issue's case: texts of at most 16 tokens, none cut by max_length, used to be reported
    as having lost 14 % of their words (every trailing '?' counted as a cut word)."""
    from types import SimpleNamespace

    from saliency_repro.saliency.attribute import truncated_fraction

    texts = ["How far is it from Denver to Aspen ?", "What county is Modesto , California in ?"]
    # the words an encoding keeps: every non-punctuation whitespace word (nothing truncated)
    encoded = [{"words": [SimpleNamespace(text_position=i) for i, w in enumerate(t.split())
                          if any(c.isalnum() for c in w)]} for t in texts]
    assert truncated_fraction(texts, encoded, 64) == 0.0
    # the first text truncated after "from" (position 4): Denver, to, Aspen cut = 3 of 14 words
    encoded[0]["words"] = encoded[0]["words"][:5]
    assert truncated_fraction(texts, encoded, 8) == pytest.approx(3 / 14)
