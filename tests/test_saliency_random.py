"""RANDOM must not favour words made of several word pieces (issue 9, item 2).

On texts where many words are split into pieces, every displayed word must be equally likely
to be in RANDOM's top-k: with n words, each one is in the top-k of a fraction k / n of the
samples. The frequencies are counted over many seeds and sample ids through the real driver
(`attribute_samples` -> word scores -> `top_k`), with WordPiece tokenizers that really split
the words: one with a hand-written vocabulary and the demo's trained tokenizer with a tiny
vocabulary. The same check is run on the old behaviour (one draw per piece, summed into the
word) to show that it would have failed.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from saliency_repro.attribution.ranking import top_k  # noqa: E402
from saliency_repro.saliency.attribute import attribute_samples, encode_samples  # noqa: E402
from saliency_repro.saliency.words import aggregate  # noqa: E402

TEXT = "the unbelievable film was superb and wonderfully overrated but the plot"
HAND_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "was", "and", "but",
              "plot", "un", "##believ", "##able", "super", "##b", "wonder", "##ful", "##ly",
              "over", "##rat", "##ed"]
N_SEEDS, N_IDS = 4, 500  # 2000 random draws of the whole text
Z = 4.5  # per-word tolerance in binomial standard deviations (Bonferroni-safe over ~12 words)


def hand_tokenizer():
    """A BERT-style WordPiece tokenizer over ``HAND_VOCAB`` (3-piece and 2-piece words)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(HAND_VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def trained_tokenizer():
    """The demo's own tokenizer code, trained on the demo's filler vocabulary with a vocabulary
    so small that the words of ``TEXT`` that are not filler words split into 4-11 pieces."""
    from saliency_repro.classify.model import train_wordpiece_tokenizer
    from saliency_repro.data.synthetic import FILLER

    return train_wordpiece_tokenizer([" ".join(FILLER)] * 3 + [TEXT], vocab_size=300, max_length=64)


def tiny_model(vocab_size: int):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
                     intermediate_size=16, max_position_embeddings=64, num_labels=2)
    return BertForSequenceClassification(cfg).eval()


TOKENIZERS = {"hand_vocab": hand_tokenizer(), "demo_trained": trained_tokenizer()}


@functools.cache
def random_scores(name: str) -> np.ndarray:
    """RANDOM's word scores of ``TEXT`` from the driver, ``[draws, words]``, over seeds and ids."""
    tok = TOKENIZERS[name]
    model = tiny_model(len(tok))
    samples = pd.DataFrame({"id": [f"s{i}" for i in range(N_IDS)], "text": TEXT,
                            "label": 0, "pred": 0})
    rows = []
    for seed in range(N_SEEDS):
        ws, _ = attribute_samples(model, tok, samples, {"methods": ["random"], "batch_size": 64},
                                  max_length=64, seed=seed)
        for _, g in ws.groupby("sample_id"):
            rows.append(g.sort_values("word_index")["score"].to_numpy())
    return np.vstack(rows)


def random_word_frequencies(name: str, k: int) -> tuple[np.ndarray, int]:
    """How often each displayed word of ``TEXT`` is in RANDOM's top-k, over all draws."""
    scores = random_scores(name)
    counts = np.zeros(scores.shape[1])
    for row in scores:
        counts[top_k(row, k)] += 1
    return counts, len(scores)


def per_piece_frequencies(tok, k: int) -> tuple[np.ndarray, int]:
    """The old behaviour: one uniform draw per *piece*, summed into each word."""
    words = encode_samples(tok, [TEXT], 64)[0]["words"]
    n_tokens = max(t for w in words for t in w.tokens) + 2
    rng = np.random.default_rng(0)
    counts = np.zeros(len(words))
    trials = N_SEEDS * N_IDS
    for _ in range(trials):
        counts[top_k(aggregate(rng.random(n_tokens), words, "sum"), k)] += 1
    return counts, trials


def uniform_within_tolerance(counts: np.ndarray, trials: int, k: int) -> bool:
    """Every word's count within ``Z`` binomial standard deviations of ``trials * k / n``."""
    p = k / len(counts)
    sd = np.sqrt(trials * p * (1 - p))
    return bool(np.all(np.abs(counts - trials * p) <= Z * sd))


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_the_texts_really_have_multi_piece_words(name):
    words = encode_samples(TOKENIZERS[name], [TEXT], 64)[0]["words"]
    assert [w.text for w in words] == TEXT.split()
    pieces = [len(w.tokens) for w in words]
    assert sum(n > 1 for n in pieces) >= 3 and max(pieces) >= 3


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_every_word_is_equally_likely_in_random_top_k(name, k):
    counts, trials = random_word_frequencies(name, k)
    assert counts.sum() == trials * k
    assert uniform_within_tolerance(counts, trials, k), (counts, trials * k / len(counts))


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_the_check_rejects_the_old_per_piece_draws(name):
    tok = TOKENIZERS[name]
    counts, trials = per_piece_frequencies(tok, 3)
    assert not uniform_within_tolerance(counts, trials, 3)
    # and it is the multi-piece words that win
    words = encode_samples(tok, [TEXT], 64)[0]["words"]
    multi = np.array([len(w.tokens) > 1 for w in words])
    assert counts[multi].mean() > 2 * counts[~multi].mean()
