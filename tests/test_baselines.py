"""The ROUGE baselines: sentence splitting, lead-N, the most frequent training summary, the
distinct-summary fraction, and the table that scores them like the model."""

from __future__ import annotations

import pandas as pd
import pytest

from saliency_repro.summarize.baselines import (
    article_sentences,
    distinct_fraction,
    lead_summaries,
    most_frequent_summary,
    rouge_with_baselines,
)
from saliency_repro.summarize.rouge import rouge_per_pair
from saliency_repro.summarize.text import PreprocessConfig

WS = PreprocessConfig(tokenizer="whitespace")


def test_article_sentences_by_hand():
    toks = ('he said " we won . " then -lrb- he left . -rrb- " next " starts here ! and '
            'the rest').split()
    assert article_sentences(toks) == [
        ["he", "said", '"', "we", "won", ".", '"'],          # the open quote closes the sentence
        ["then", "-lrb-", "he", "left", ".", "-rrb-"],       # a closing bracket stays with it
        ['"', "next", '"', "starts", "here", "!"],           # no quote open: '"' opens the next
        ["and", "the", "rest"],                              # no final period: still a sentence
    ]
    assert article_sentences([]) == []


def test_lead_summaries_first_sentences_one_per_line():
    arts = ["a b . c d ? e f ! g h . i j .", "only one sentence"]
    assert lead_summaries(arts, WS, 3) == ["a b .\nc d ?\ne f !", "only one sentence"]
    # the regex tokenizer splits punctuation off first, then the same rule applies
    assert lead_summaries(["Hello world. Bye now! Rest."], PreprocessConfig(), 2) == ["hello world .\nbye now !"]


def test_most_frequent_summary_counts_after_preprocessing():
    summaries = ["The cat sat .", "a dog", "the  cat sat .", "a bird"]
    text, info = most_frequent_summary(summaries, PreprocessConfig(), seed=0)
    assert text == "the cat sat ." and info["count"] == 2 and info["tied"] == 1


def test_most_frequent_summary_tie_goes_to_the_most_central():
    # all unique: "x y z" shares words with most others, "q" with none
    summaries = ["q", "x y z", "x y", "y z", "x z w", "p"]
    text, info = most_frequent_summary(summaries, WS, seed=0, n_candidates=10, n_sample=10)
    assert text == "x y z"
    assert info["tied"] == 6 and info["count"] == 1
    # mean unigram F1 of "x y z" against all 6 (sampled without replacement = all):
    # q 0, itself 1, "x y" 0.8, "y z" 0.8, "x z w" 2*2/6, p 0
    assert info["mean_unigram_f1"] == pytest.approx((0 + 1 + 0.8 + 0.8 + 4 / 6 + 0) / 6)


def test_most_frequent_keeps_highlight_lines():
    text, _ = most_frequent_summary(["first line\nsecond line", "first line\nsecond line", "x"], WS, 0)
    assert text == "first line\nsecond line"


def test_distinct_fraction():
    assert distinct_fraction(["a", "b", "a", "c"]) == 0.75
    assert distinct_fraction(["a"] * 5) == 0.2


def test_rouge_with_baselines_scores_each_system_like_the_model(tmp_path):
    test = pd.DataFrame({"id": ["t1", "t2", "t3"],
                         "article": ["cats sleep . dogs bark . birds sing . fish swim .",
                                     "rain falls today . sun shines later .",
                                     "one . two . three . four ."],
                         "summary": ["cats sleep\nbirds sing", "rain today", "two three"]})
    train = pd.DataFrame({"id": ["a", "b", "c"], "summary": ["rain today", "rain today", "cats sleep"]})
    gen = pd.DataFrame({"id": ["t2", "t1", "t3"],  # any order: matched by id
                        "generated": ["rain falls", "cats sleep .", "rain falls"]})
    for name, df in (("test", test), ("train", train), ("gen", gen)):
        df.to_parquet(tmp_path / f"{name}.parquet")
    cfg = {"preprocessing": {"tokenizer": "whitespace"},
           "decoding": {"method": "greedy", "beam_size": 4, "min_length": 1, "max_length": 5},
           "rouge": {"bootstrap": 20}, "baselines": {"lead_sentences": 3, "frequent_candidates": 5,
                                                     "frequent_sample": 5}}
    table, info = rouge_with_baselines(str(tmp_path / "gen.parquet"), str(tmp_path / "train.parquet"),
                                       str(tmp_path / "test.parquet"), cfg, seed=0)
    assert info["count"] == 2
    systems = list(dict.fromkeys(table["summaries"]))
    assert systems == ["model: greedy, 1-5 tokens", "lead-3", "most frequent training summary"]
    refs = ["rain today", "cats sleep\nbirds sing", "two three"]  # in the generated order
    expected = {
        "lead-3": ["rain falls today .\nsun shines later .", "cats sleep .\ndogs bark .\nbirds sing .",
                   "one .\ntwo .\nthree ."],
        "most frequent training summary": ["rain today"] * 3,
        "model: greedy, 1-5 tokens": ["rain falls", "cats sleep .", "rain falls"],
    }
    for label, hyps in expected.items():
        per = rouge_per_pair(hyps, refs)
        rows = table[table["summaries"] == label].set_index("metric")
        assert rows.loc["ROUGE-1", "f1"] == pytest.approx(per["rouge1_f"].mean())
        assert rows.loc["ROUGE-2", "f1"] == pytest.approx(per["rouge2_f"].mean())
    rows = table.groupby("summaries", sort=False)["distinct_summaries"].first()
    assert rows["most frequent training summary"] == pytest.approx(1 / 3)
    assert rows["model: greedy, 1-5 tokens"] == pytest.approx(2 / 3)
    assert rows["lead-3"] == 1.0
    # hand check of one number: lead-3 (8 tokens) vs "rain today" -> P 2/8, R 2/2, F1 = 0.4
    assert rouge_per_pair([expected["lead-3"][0]], ["rain today"]).loc[0, "rouge1_f"] == pytest.approx(0.4)
