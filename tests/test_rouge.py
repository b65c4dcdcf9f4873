"""ROUGE: summary-level ROUGE-Lsum beside ROUGE-L (hand-computed), tokens compared as written in
both stemmer modes, sentence splitting, and the full vs truncated reference stated in the
table. Expected values are worked out by hand in the comments."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from saliency_repro.summarize.rouge import (
    WhitespaceTokenizer,
    reference_texts,
    rouge_per_pair,
    rouge_table,
    sentence_lines,
    split_sentences,
    write_rouge,
)
from saliency_repro.summarize.text import PreprocessConfig


def test_lsum_differs_from_l_on_reordered_sentences() -> None:
    # ref "a b | c d", gen "c d | a b": ROUGE-L LCS over the flat sequences is 2 of 4
    # (P = R = F = 1/2); summary-level: each reference sentence is matched by a whole
    # generated sentence, 4 hits of 4 (P = R = F = 1)
    per = rouge_per_pair(["c d\na b"], ["a b\nc d"])
    assert per.loc[0, ["rougeL_p", "rougeL_r", "rougeL_f"]].tolist() == pytest.approx([0.5] * 3)
    assert per.loc[0, ["rougeLsum_p", "rougeLsum_r", "rougeLsum_f"]].tolist() == pytest.approx([1.0] * 3)


def test_lsum_known_answer_with_unequal_lengths() -> None:
    ref = "the cat sat\non the mat"  # 6 tokens
    gen = "on the mat\nthe cat"  # 5 tokens
    per = rouge_per_pair([gen], [ref])
    # ROUGE-L: LCS("the cat sat on the mat", "on the mat the cat") = "on the mat" = 3:
    # P = 3/5, R = 3/6, F = 2 PR / (P + R) = 6/11
    assert per.loc[0, "rougeL_p"] == pytest.approx(3 / 5)
    assert per.loc[0, "rougeL_r"] == pytest.approx(1 / 2)
    assert per.loc[0, "rougeL_f"] == pytest.approx(6 / 11)
    # Lsum: "the cat sat" x {"on the mat" -> the; "the cat" -> the cat}: union {the, cat} = 2;
    # "on the mat" x {"on the mat" -> all 3; "the cat" -> the}: union 3; hits 5:
    # P = 5/5, R = 5/6, F = 10/11
    assert per.loc[0, "rougeLsum_p"] == pytest.approx(1.0)
    assert per.loc[0, "rougeLsum_r"] == pytest.approx(5 / 6)
    assert per.loc[0, "rougeLsum_f"] == pytest.approx(10 / 11)
    # one line each: Lsum is ROUGE-L
    one = rouge_per_pair(["on the mat the cat"], ["the cat sat on the mat"])
    assert one.loc[0, "rougeLsum_f"] == pytest.approx(6 / 11)


@pytest.mark.parametrize("stem", [False, True])
def test_unk_and_punctuation_compared_as_written(stem: bool) -> None:
    # rouge-score's default tokenizer would make "[UNK]" -> "unk" and drop "," "." "-lrb-"
    per = rouge_per_pair(["[UNK] , ."], ["[UNK] , . x"], use_stemmer=stem)
    assert per.loc[0, "rouge1_p"] == pytest.approx(3 / 3)  # all three tokens match
    assert per.loc[0, "rouge1_r"] == pytest.approx(3 / 4)
    # "[UNK]" is not "unk", "-lrb-" is not "lrb": only "cnn" matches (1 of 4 each way)
    per = rouge_per_pair(["[UNK] -lrb- cnn -rrb-"], ["unk lrb cnn rrb"], use_stemmer=stem)
    assert per.loc[0, "rouge1_p"] == pytest.approx(1 / 4) and per.loc[0, "rouge1_r"] == pytest.approx(1 / 4)
    # the stemmer does not lower-case "[UNK]" (nltk's Porter would, by default)
    assert rouge_per_pair(["[UNK]"], ["[unk]"], use_stemmer=stem).loc[0, "rouge1_f"] == 0.0


def test_stemmer_only_stems_alphabetic_tokens() -> None:
    # "running" -> "run", "cats" -> "cat": matched only with the stemmer
    assert rouge_per_pair(["running cats"], ["run cat"]).loc[0, "rouge1_f"] == 0.0
    assert rouge_per_pair(["running cats"], ["run cat"], use_stemmer=True).loc[0, "rouge1_f"] == 1.0
    tok = WhitespaceTokenizer(use_stemmer=True)
    # short, non-alphabetic and special tokens stay as written; case is kept
    assert tok.tokenize("cats n't -lrb- u.s [UNK] 1,000 Running") == \
        ["cat", "n't", "-lrb-", "u.s", "[UNK]", "1,000", "Run"]


def test_sentence_splitting_rule() -> None:
    assert split_sentences("a b . c d . e".split()) == [["a", "b", "."], ["c", "d", "."], ["e"]]
    assert split_sentences([]) == []
    assert sentence_lines("a b . c !", end_tokens=(".", "!")) == "a b .\nc !"
    assert sentence_lines("x y z") == "x y z"  # no sentence end: one sentence
    # line breaks present: kept, sentence-end tokens then ignored
    assert sentence_lines("a . b\n\nc d ") == "a . b\nc d"


PCFG = PreprocessConfig()  # lower-case, regex tokenizer


def test_reference_texts_full_by_default_and_truncation_counted() -> None:
    raws = ["The cat sat. It was happy.", "First line\nSecond, longer line"]
    texts, stats = reference_texts(raws, PCFG)
    assert texts == ["the cat sat .\nit was happy .", "first line\nsecond , longer line"]
    assert stats == {"lines": 1, "end_tokens": 1, "truncated": 0}
    texts, stats = reference_texts(raws, PCFG, max_tokens=5)
    # first: 8 tokens -> "the cat sat ." + "it"; second: 6 tokens -> "first line" + "second , longer"
    assert texts == ["the cat sat .\nit", "first line\nsecond , longer"]
    assert stats["truncated"] == 2
    assert reference_texts(raws, PCFG, max_tokens=7)[1]["truncated"] == 1  # only the 8-token one


def _write_inputs(tmp_path):
    # reference 'The cat sat. It was happy.' -> 8 tokens in 2 sentences; the `reference`
    # column of test_summaries is a truncated stand-in that must not be what is scored
    summ = pd.DataFrame({"id": ["t1"], "generated": ["the cat sat ."],
                         "reference": ["the cat sat ."]})
    test = pd.DataFrame({"id": ["t1"], "summary": ["The cat sat. It was happy."]})
    summ.to_parquet(tmp_path / "s.parquet")
    test.to_parquet(tmp_path / "t.parquet")
    return str(tmp_path / "s.parquet"), str(tmp_path / "t.parquet")


def _cfg(**rouge):
    return {"preprocessing": {}, "rouge": {"use_stemmer": False, "bootstrap": 10, **rouge},
            "decoding": {"method": "greedy", "min_length": 1, "max_length": 10, "beam_size": 4}}


def test_write_rouge_scores_the_full_reference(tmp_path) -> None:
    s, t = _write_inputs(tmp_path)
    table = write_rouge(s, t, str(tmp_path / "rouge"), "test", "toy", _cfg(), seed=0).set_index("metric")
    assert list(table.index) == ["ROUGE-1", "ROUGE-2", "ROUGE-L", "ROUGE-Lsum"]
    # gen "the cat sat ." vs ref "the cat sat . it was happy .": 4 unigram matches of 4 / 8:
    # F = 2 (1)(1/2) / (3/2) = 2/3
    assert table.loc["ROUGE-1", "precision"] == pytest.approx(1.0)
    assert table.loc["ROUGE-1", "recall"] == pytest.approx(0.5)
    assert table.loc["ROUGE-1", "f1"] == pytest.approx(2 / 3)
    assert set(table["reference"]) == {"full"}
    md = (tmp_path / "rouge.md").read_text()
    assert "full reference (not truncated)" in md and "TRUNCATED" not in md
    assert "1 (no line breaks in the data) after '.'" in md


def test_write_rouge_states_truncation(tmp_path, caplog) -> None:
    s, t = _write_inputs(tmp_path)
    with caplog.at_level(logging.WARNING):
        table = write_rouge(s, t, str(tmp_path / "rouge"), "test", "toy",
                            _cfg(reference_max_tokens=4), seed=0).set_index("metric")
    # the reference cut to "the cat sat .": a perfect match
    assert table.loc["ROUGE-1", "f1"] == pytest.approx(1.0)
    assert table.loc["ROUGE-Lsum", "f1"] == pytest.approx(1.0)
    assert set(table["reference"]) == {"first 4 tokens (1 of 1 cut)"}
    md = (tmp_path / "rouge.md").read_text()
    assert "TRUNCATED to its first 4 tokens" in md and "first 4 tokens (1 of 1 cut)" in md
    assert "truncated to 4 tokens" in caplog.text
    csv = pd.read_csv(tmp_path / "rouge.csv")
    assert "reference" in csv.columns and csv["reference"].str.contains("cut").all()


def test_write_rouge_config_errors_name_the_key(tmp_path) -> None:
    s, t = _write_inputs(tmp_path)
    with pytest.raises(ValueError, match="summarizer.rouge.reference_max_tokens"):
        write_rouge(s, t, str(tmp_path / "r"), "test", "toy", _cfg(reference_max_tokens=0), 0)
    with pytest.raises(ValueError, match="summarizer.rouge.sentence_end_tokens"):
        write_rouge(s, t, str(tmp_path / "r"), "test", "toy", _cfg(sentence_end_tokens=[". ."]), 0)
    pd.DataFrame({"id": ["other"], "summary": ["x"]}).to_parquet(tmp_path / "t2.parquet")
    with pytest.raises(ValueError, match="no reference"):
        write_rouge(s, str(tmp_path / "t2.parquet"), str(tmp_path / "r"), "test", "toy", _cfg(), 0)


def test_rouge_table_keeps_its_interface_and_adds_the_reference_column() -> None:
    per = rouge_per_pair(["a b", "[UNK] x"], ["a b c d", "y z"])
    table = rouge_table(per, "lead-3", seed=0, n_boot=50)
    assert list(table["metric"]) == ["ROUGE-1", "ROUGE-2", "ROUGE-L", "ROUGE-Lsum"]
    # ROUGE-1 F: pair 1 P = 1, R = 1/2 -> 2/3; pair 2 -> 0; mean 1/3
    assert table.loc[0, "f1"] == pytest.approx(1 / 3)
    assert set(table["summaries"]) == {"lead-3"} and set(table["reference"]) == {"full"}
    only = rouge_table(per[["rouge1_p", "rouge1_r", "rouge1_f"]], "x", n_boot=10)
    assert list(only["metric"]) == ["ROUGE-1"]
