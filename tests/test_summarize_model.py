"""Summarizer model, decoding, teacher-forced scoring, training resume and ROUGE."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from saliency_repro.summarize.decode import beam_search, greedy_decode, sequence_log_prob
from saliency_repro.summarize.model import ModelConfig, Summarizer, load_model, save_model
from saliency_repro.summarize.rouge import rouge_per_pair, rouge_table
from saliency_repro.summarize.text import STOP_ID, Example
from saliency_repro.summarize.train import TrainConfig, train

V = 20
SOURCES = [[5, 6, 7, 8, 9, 10], [11, 12, 13], [14, 4, 15, 16, 17, 18, 19, 5]]


def _model(seed=0, stop_bias=0.0) -> Summarizer:
    torch.manual_seed(seed)
    m = Summarizer(ModelConfig(V, 8, 6, 7, 5)).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(3.0)
        m.out_vocab.bias[STOP_ID] += stop_bias
    return m


def test_state_dict_keys_are_the_spec_names():
    keys = set(_model().state_dict())
    for k in ["embedding.weight", "encoder.weight_ih_l0", "encoder.weight_hh_l0_reverse",
              "encoder.bias_ih_l0", "reduce_h.weight", "reduce_c.bias", "decoder.weight_ih",
              "decoder.bias_hh", "attn_enc.weight", "attn_dec.bias", "attn_v.weight",
              "out_hidden.weight", "out_vocab.bias"]:
        assert k in keys
    assert "attn_enc.bias" not in keys and "attn_v.bias" not in keys


def test_padding_in_a_batch_does_not_change_an_article():
    m = _model()
    with torch.no_grad():
        alone, _ = m(torch.tensor([SOURCES[1]]), torch.tensor([[2, 5, 6]]))
        src = torch.tensor([SOURCES[1] + [0] * 5, SOURCES[0] + [0, 0]])
        batched, attn = m(src, torch.tensor([[2, 5, 6], [2, 5, 6]]))
    np.testing.assert_allclose(batched[0].numpy(), alone[0].numpy(), atol=1e-5)
    assert torch.all(attn[0, :, 3:] == 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_equals_beam_of_size_one(seed):
    m = _model(seed, stop_bias=2.0)
    greedy = greedy_decode(m, SOURCES, min_length=1, max_length=8)
    for src, g in zip(SOURCES, greedy, strict=True):
        b = beam_search(m, src, beam_size=1, min_length=1, max_length=8)
        assert b.tokens == g.tokens and b.stopped == g.stopped
        assert b.log_prob == pytest.approx(g.log_prob, abs=1e-4)


def test_min_and_max_length_are_respected():
    eager = _model(0, stop_bias=50.0)  # [STOP] wins whenever it is allowed
    for src in SOURCES:
        h = beam_search(eager, src, beam_size=3, min_length=3, max_length=6)
        assert len(h.tokens) == 3 and h.stopped
        assert len(greedy_decode(eager, [src], min_length=3, max_length=6)[0].tokens) == 3
    never = _model(0, stop_bias=-50.0)  # [STOP] never wins
    for src in SOURCES:
        h = beam_search(never, src, beam_size=3, min_length=0, max_length=6)
        assert len(h.tokens) == 6 and not h.stopped
        assert len(greedy_decode(never, [src], min_length=0, max_length=6)[0].tokens) == 6


def test_frozen_attention_reproduces_the_summary_and_scoring_matches_decoding():
    m = _model(1, stop_bias=3.0)
    hyps = greedy_decode(m, SOURCES, min_length=1, max_length=8)
    for src, h in zip(SOURCES, hyps, strict=True):
        frozen = beam_search(m, src, beam_size=1, min_length=1, max_length=8,
                             attention=h.attention)
        assert frozen.tokens == h.tokens
        total, per_tok = sequence_log_prob(m, [src], [h.tokens], add_stop=h.stopped)
        assert float(total[0]) == pytest.approx(h.log_prob, abs=1e-4)
        frozen_total, _ = sequence_log_prob(m, [src], [h.tokens], add_stop=h.stopped,
                                            attention=h.attention[None].to(torch.float32))
        assert float(frozen_total[0]) == pytest.approx(h.log_prob, abs=1e-4)
    # a changed source changes the score, frozen attention or not
    changed = [1] + SOURCES[0][1:]
    t0, _ = sequence_log_prob(m, [SOURCES[0]], [hyps[0].tokens])
    t1, _ = sequence_log_prob(m, [changed], [hyps[0].tokens])
    assert float(t0[0]) != float(t1[0])


def _toy_examples(n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        src = rng.integers(4, V, size=int(rng.integers(3, 8))).tolist()
        tgt = src[:2]
        out.append(Example(str(i), [], src, list(range(len(src))), [], [2] + tgt, tgt + [STOP_ID]))
    return out


def test_training_resumes_from_checkpoint_exactly(tmp_path):
    tr, va = _toy_examples(40, 0), _toy_examples(8, 1)
    mcfg = ModelConfig(V, 8, 6, 7, 5)
    cfg = TrainConfig(optimizer="adagrad", batch_size=8, epochs=2, checkpoint_every_steps=1,
                      select_best=False)
    # uninterrupted: 2 epochs x 5 batches
    train(tr, va, mcfg, cfg, tmp_path / "a.pt", tmp_path / "ck_a", seed=3)
    # "killed" after 7 steps (mid-epoch 2), then restarted with the full config
    train(tr, va, mcfg, TrainConfig(**{**cfg.__dict__, "max_steps": 7}), tmp_path / "tmp.pt",
          tmp_path / "ck_b", seed=3)
    result = train(tr, va, mcfg, cfg, tmp_path / "b.pt", tmp_path / "ck_b", seed=3)
    assert result["steps"] == 10
    a, b = load_model(str(tmp_path / "a.pt")), load_model(str(tmp_path / "b.pt"))
    for k, v in a.state_dict().items():
        torch.testing.assert_close(b.state_dict()[k], v, atol=1e-6, rtol=0)
    # checkpoints of other settings are not resumed
    other = train(tr, va, mcfg, TrainConfig(**{**cfg.__dict__, "learning_rate": 0.05, "max_steps": 2}),
                  tmp_path / "c.pt", tmp_path / "ck_b", seed=3)
    assert other["steps"] == 2
    losses = [h["train_loss"] for h in result["history"]]
    assert all(np.isfinite(losses)) and np.isfinite(result["history"][-1]["val_loss"])


def test_save_and_load_model_roundtrip(tmp_path):
    m = _model()
    save_model(m, str(tmp_path / "m.pt"))
    m2 = load_model(str(tmp_path / "m.pt"))
    for k, v in m.state_dict().items():
        assert torch.equal(m2.state_dict()[k], v)


def test_rouge_on_a_hand_checked_pair():
    per = rouge_per_pair(["the cat lay on the mat"], ["the cat sat on the mat"])
    assert per.loc[0, "rouge1_f"] == pytest.approx(5 / 6)
    assert per.loc[0, "rouge2_f"] == pytest.approx(3 / 5)
    assert per.loc[0, "rougeL_f"] == pytest.approx(5 / 6)
    per2 = rouge_per_pair(["a b", "[UNK] x"], ["a b c d", "y z"])
    assert per2.loc[0, "rouge1_p"] == 1.0 and per2.loc[0, "rouge1_r"] == 0.5
    assert per2.loc[1, "rouge1_f"] == 0.0
    table = rouge_table(per2, "test", n_boot=50)
    assert list(table["metric"]) == ["ROUGE-1", "ROUGE-2", "ROUGE-L", "ROUGE-Lsum"]
    assert table.loc[0, "f1"] == pytest.approx((2 / 3) / 2)


def test_embedding_input_path_and_inner_padding():
    from saliency_repro.summarize.model import source_lengths

    m = _model(2)
    src = torch.tensor([SOURCES[0]])
    dec = torch.tensor([[2, 5, 6]])
    with torch.no_grad():
        by_ids, _ = m(src, dec)
        by_emb, _ = m(src, dec, src_embeddings=m.embedding(src))
        padded = src.clone()
        padded[0, 2] = 0  # "deleted by padding": keeps its position, masked from attention
        _, attn = m(padded, dec)
    torch.testing.assert_close(by_emb, by_ids)
    assert source_lengths(padded).tolist() == [len(SOURCES[0])]
    assert torch.all(attn[0, :, 2] == 0)
