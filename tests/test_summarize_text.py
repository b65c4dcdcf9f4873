"""Preprocessing and vocabulary of the summarizer (See et al. conventions)."""

from __future__ import annotations

import pytest

from saliency_repro.summarize.text import (
    PAD_ID,
    SPECIALS,
    START_ID,
    STOP_ID,
    UNK_ID,
    PreprocessConfig,
    Vocab,
    build_vocab,
    encode_example,
    tokenize,
    tokenize_words,
    word_positions_to_tokens,
)


def test_tokenizer_lowercases_and_splits_punctuation_and_clitics():
    toks, word_of = tokenize_words("(CNN) The Palestinian's won't, state-of-the-art 3,000", PreprocessConfig())
    assert toks == ["(", "cnn", ")", "the", "palestinian", "'s", "wo", "n't", ",",
                    "state-of-the-art", "3,000"]
    assert word_of == [0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5]


def test_whitespace_tokenizer_and_no_lowercase():
    cfg = PreprocessConfig(lowercase=False, tokenizer="whitespace")
    assert tokenize("Hello, World!", cfg) == ["Hello,", "World!"]


def test_whitespace_tokenizer_keeps_see_et_al_tokens_that_regex_splits():
    see = "the u.s. -lrb- cnn -rrb- said it 's n't over -- really"
    ws = PreprocessConfig(tokenizer="whitespace")
    assert tokenize(see, ws) == see.split()
    assert tokenize_words("a\nb  c", ws) == (["a", "b", "c"], [0, 1, 2])
    regex = tokenize(see, PreprocessConfig())
    assert "-lrb-" not in regex and "lrb" in regex  # why See-format data needs "whitespace"


def test_vocab_most_frequent_with_specials_first_and_ties_by_token():
    vocab, stats = build_vocab(["b a a c", "c a"], PreprocessConfig(vocab_size=6))
    assert tuple(vocab.tokens[:4]) == SPECIALS
    assert vocab.tokens[4:] == ["a", "c"]  # a:3, then b/c tie at... c:2 beats b:1
    assert vocab.id("b") == UNK_ID and vocab.id("a") == 4
    assert stats["coverage"] == pytest.approx(5 / 6)


def test_vocab_min_count_and_roundtrip():
    vocab, _ = build_vocab(["x x y"], PreprocessConfig(min_count=2))
    assert vocab.tokens[4:] == ["x"]
    assert Vocab.from_json(vocab.to_json()).tokens == vocab.tokens
    with pytest.raises(ValueError):
        Vocab(["a", "b", "c", "d"])


def test_encode_example_truncates_and_adds_start_stop():
    cfg = PreprocessConfig(max_article_tokens=3, max_summary_tokens=2)
    vocab, _ = build_vocab(["a b c d e"], cfg)
    ex = encode_example("1", "a b c d e", "a b", vocab, cfg)
    assert ex.src_tokens == ["a", "b", "c"] and ex.src_word_of == [0, 1, 2]
    assert ex.dec_inputs == [START_ID, vocab.id("a"), vocab.id("b")]
    assert ex.targets == [vocab.id("a"), vocab.id("b"), STOP_ID]
    cut = encode_example("2", "a", "a b c", vocab, cfg)  # summary truncated: no [STOP]
    assert cut.targets == [vocab.id("a"), vocab.id("b")]
    assert cut.dec_inputs == [START_ID, vocab.id("a")]
    assert STOP_ID not in cut.targets and PAD_ID not in cut.src_ids


def test_unknown_words_map_to_unk_and_word_positions_map_to_tokens():
    cfg = PreprocessConfig()
    vocab, _ = build_vocab(["known"], cfg)
    ex = encode_example("1", "known unknown's", "known", vocab, cfg)
    assert ex.src_ids == [vocab.id("known"), UNK_ID, UNK_ID]
    assert word_positions_to_tokens([1], ex.src_word_of) == [1, 2]
    assert vocab.decode([4, STOP_ID, 4]) == ["known"]


def test_vocab_from_token_lists_counts_only_what_is_given():
    vocab, stats = build_vocab([["a", "a"], ["b"]], PreprocessConfig())
    assert vocab.tokens[4:] == ["a", "b"] and stats["tokens_seen"] == 3
