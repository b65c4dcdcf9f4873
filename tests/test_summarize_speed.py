"""The fast training and decoding paths compute exactly what the step-by-step definitions do.

Issue 12 batched the summarizer over time (one fused decoder LSTM call, batched attention and
output layers, the loss on the real target tokens only), replaced the packed encoder by
per-length stretches, bucketed the batches and batched beam search over articles. Each test
compares the fast path with an independent computation of the same quantity: the per-step loop
of the spec, PyTorch's packed ``nn.LSTM``, or the per-article beam search. No timings here (the
speed is measured by ``make bench``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from saliency_repro.summarize.decode import beam_search, beam_search_batch
from saliency_repro.summarize.model import (
    ModelConfig,
    Summarizer,
    reverse_within_length,
    run_lstm_by_length,
    source_lengths,
)
from saliency_repro.summarize.text import STOP_ID, Example
from saliency_repro.summarize.train import (
    TrainConfig,
    autocast_dtype,
    batch_loss,
    epoch_batches,
    train,
)

V = 23


def _model(seed: int = 0, dtype=torch.float64) -> Summarizer:
    torch.manual_seed(seed)
    m = Summarizer(ModelConfig(V, 7, 6, 5, 4)).to(dtype)
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(2.0)
    return m


def _examples(seed: int, n: int = 6) -> list[Example]:
    """Articles and summaries of different lengths (so padding is present on both sides), one
    summary cut by truncation (no [STOP])."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        src = rng.integers(4, V, size=int(rng.integers(2, 11))).tolist()
        tgt = rng.integers(4, V, size=int(rng.integers(1, 8))).tolist()
        dec, targets = [2, *tgt], [*tgt, STOP_ID]
        if i == 1:  # truncated summary: no [STOP]
            dec, targets = dec[:-1], targets[:-1]
        out.append(Example(str(i), [], src, list(range(len(src))), [], dec, targets))
    return out


def _stepwise_loss(model: Summarizer, batch: list[Example]) -> torch.Tensor:
    """The loss as defined: the per-step loop, logits of every padded position, padding masked
    out of the summed cross-entropy (the pre-issue-12 training loss)."""
    def pad(seqs):
        width = max(len(s) for s in seqs)
        return torch.tensor([list(s) + [0] * (width - len(s)) for s in seqs])

    src, dec, tgt = pad([e.src_ids for e in batch]), pad([e.dec_inputs for e in batch]), pad([e.targets for e in batch])
    logits, _ = model.forward_stepwise(src, dec, lengths=torch.tensor([len(e.src_ids) for e in batch]))
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1), reduction="none")
    mask = torch.tensor([[t < len(e.targets) for t in range(tgt.shape[1])] for e in batch])
    return (ce * mask.reshape(-1)).sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_training_loss_and_gradients_equal_the_stepwise_definition(seed):
    batch = _examples(seed)
    fast_model, ref_model = _model(seed), _model(seed)
    fast_model.train()
    ref_model.train()
    fast, n_tok = batch_loss(fast_model, batch, "cpu")
    ref = _stepwise_loss(ref_model, batch)
    assert n_tok == sum(len(e.targets) for e in batch)
    assert float(fast.detach()) == pytest.approx(float(ref.detach()), abs=1e-5, rel=1e-7)
    fast.backward()
    ref.backward()
    for (name, p), q in zip(fast_model.named_parameters(), ref_model.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, atol=1e-8, rtol=1e-6, msg=name)


def test_batched_loss_in_float32_matches_float64_definition():
    batch = _examples(5)
    m32, m64 = _model(5, torch.float32), _model(5, torch.float64)
    assert float(batch_loss(m32, batch, "cpu")[0]) == pytest.approx(float(_stepwise_loss(m64, batch)), abs=1e-4)


@pytest.mark.parametrize("frozen_steps", [0, 2, 7, 12])
def test_forward_equals_forward_stepwise_with_and_without_frozen_attention(frozen_steps):
    m = _model(3).eval()
    src = torch.tensor([[5, 6, 0, 8, 9, 10, 11], [12, 13, 14, 0, 0, 0, 0], [4, 7, 9, 4, 0, 0, 0]])
    dec = torch.tensor([[2, 5, 6, 7, 8, 9, 10], [2, 8, 9, 0, 0, 0, 0], [2, 4, 4, 4, 4, 0, 0]])
    frozen = None
    with torch.no_grad():
        if frozen_steps:
            raw = torch.rand(3, frozen_steps, 7, dtype=torch.float64) * (src != 0)[:, None, :]
            frozen = raw / raw.sum(-1, keepdim=True)
        fast_logits, fast_att = m(src, dec, attention=frozen)
        ref_logits, ref_att = m.forward_stepwise(src, dec, attention=frozen)
    torch.testing.assert_close(fast_logits, ref_logits, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(fast_att, ref_att, atol=1e-12, rtol=1e-10)


def test_encoder_by_length_equals_packed_lstm():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 4, batch_first=True, bidirectional=True).double()
    lengths = torch.tensor([6, 2, 6, 1, 4, 3])
    x = torch.randn(6, 8, 5, dtype=torch.float64)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, (h_n, c_n) = lstm(packed)
    ref, _ = pad_packed_sequence(out, batch_first=True, total_length=8)
    w = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    w_rev = [lstm.weight_ih_l0_reverse, lstm.weight_hh_l0_reverse, lstm.bias_ih_l0_reverse,
             lstm.bias_hh_l0_reverse]
    fwd, hf, cf = run_lstm_by_length(x, lengths, w, False)
    bwd, hb, cb = run_lstm_by_length(reverse_within_length(x, lengths), lengths, w_rev, False)
    ours = torch.cat([fwd, reverse_within_length(bwd, lengths)], dim=-1)
    torch.testing.assert_close(ours, ref, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(torch.stack([hf, hb]), h_n, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(torch.stack([cf, cb]), c_n, atol=1e-12, rtol=1e-10)


def test_reverse_within_length_by_hand():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]])
    assert reverse_within_length(x, torch.tensor([3, 2])).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]
    assert reverse_within_length(x, source_lengths(x)).tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


def test_epoch_batches_partition_sort_and_determinism():
    rng = np.random.default_rng(0)
    src_len, tgt_len = rng.integers(1, 50, 103).tolist(), rng.integers(1, 30, 103).tolist()
    a = epoch_batches(src_len, tgt_len, 8, seed=3, epoch=1, bucket_batches=4)
    b = epoch_batches(src_len, tgt_len, 8, seed=3, epoch=1, bucket_batches=4)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    flat = sorted(i for batch in a for i in batch.tolist())
    assert flat == list(range(103))  # every article exactly once
    assert all(len(batch) <= 8 for batch in a)
    for batch in a:  # within a batch the articles are in (source, target) length order
        keys = [(src_len[i], tgt_len[i]) for i in batch]
        assert keys == sorted(keys)
    # bucket_batches=1: the plain shuffled order, cut into consecutive batches
    plain = epoch_batches(src_len, tgt_len, 8, seed=3, epoch=1, bucket_batches=1)
    perm = np.random.default_rng(3 + 1).permutation(103)
    assert [x.tolist() for x in plain] == [perm[i: i + 8].tolist() for i in range(0, 103, 8)]
    assert [x.tolist() for x in epoch_batches(src_len, tgt_len, 8, 3, 2, 4)] != [x.tolist() for x in a]


@pytest.mark.parametrize("beam_size", [1, 3])
def test_batched_beam_search_equals_per_article_beam_search(beam_size):
    m = _model(4, torch.float32).eval()
    with torch.no_grad():
        m.out_vocab.bias[STOP_ID] += 1.5
    sources = [[5, 6, 7, 8, 9], [10, 11], [12, 13, 14, 15, 16, 17, 18, 19], [4, 4, 20]]
    batched = beam_search_batch(m, sources, beam_size, min_length=2, max_length=9)
    for src, hb in zip(sources, batched, strict=True):
        h = beam_search(m, src, beam_size, min_length=2, max_length=9)
        assert hb.tokens == h.tokens and hb.stopped == h.stopped
        assert hb.log_prob == pytest.approx(h.log_prob, abs=1e-5)
        assert hb.attention.shape == h.attention.shape
        torch.testing.assert_close(hb.attention, h.attention, atol=1e-5, rtol=1e-4)


def test_autocast_only_on_cuda():
    assert autocast_dtype("cpu", True) is None
    assert autocast_dtype("cpu", False) is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_training_with_mixed_precision(tmp_path):
    """The CUDA path: autocast (bf16, or fp16 with loss scaling) in the loss and in training.
    The mixed-precision loss is close to the full-precision one of the same weights."""
    batch = _examples(7, n=16)
    m = _model(7, torch.float32).cuda().train()
    dtype = autocast_dtype("cuda", True)
    assert dtype in (torch.bfloat16, torch.float16)
    full, n_tok = batch_loss(m, batch, "cuda")
    mixed, n_tok2 = batch_loss(m, batch, "cuda", dtype)
    assert n_tok == n_tok2
    assert float(mixed) == pytest.approx(float(full), rel=5e-2)
    mixed.backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters() if p.grad is not None)
    tr, va = _examples(8, n=24), _examples(9, n=8)
    result = train(tr, va, ModelConfig(V, 7, 6, 5, 4), TrainConfig(optimizer="adam", learning_rate=1e-2,
                   batch_size=8, epochs=2, amp=True), tmp_path / "m.pt", tmp_path / "ck", seed=1,
                   device="cuda")
    assert result["steps"] == 6
    assert all(np.isfinite(h["train_loss"]) and np.isfinite(h["val_loss"]) for h in result["history"])
