"""Correctness of the fast epsilon-LRP (saliency_repro.summarize.lrp)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from saliency_repro.summarize.lrp import _linear_rule, forward_logits, lrp_summary
from saliency_repro.summarize.model import ModelConfig, Summarizer


def _model(seed=0, V=16, d=6, h=5, hd=4, a=3, scale=2.0) -> Summarizer:
    torch.manual_seed(seed)
    m = Summarizer(ModelConfig(V, d, h, hd, a)).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.mul_(scale)
    return m


SRC = [5, 9, 4, 12, 7, 7, 15, 6]
DEC = [2, 8, 11, 4, 13]
TGT = [8, 11, 4, 13, 3]


@pytest.mark.parametrize("eps", [1e-6, 1e-3, 0.5])
def test_conservation_in_float64(eps):
    res = lrp_summary(_model(), SRC, DEC, TGT, eps=eps, dtype=torch.float64)
    total = res.source.sum(-1) + res.decoder_inputs.sum(-1) + res.absorbed
    np.testing.assert_allclose(total.numpy(), res.logit.numpy(), atol=1e-6)
    assert res.residual().abs().max() < 1e-10
    # decoder inputs after the explained step get nothing
    assert torch.all(torch.triu(res.decoder_inputs, diagonal=1) == 0)
    if eps <= 1e-3:  # with a small stabilizer the input words carry a real share
        assert res.source.abs().sum() > 0.05 * res.logit.abs().sum()


def test_lrp_forward_matches_model_forward():
    m = _model(1)
    with torch.no_grad():
        logits, attn = m(torch.tensor([SRC]), torch.tensor([DEC]))
    np.testing.assert_allclose(forward_logits(m, SRC, DEC).numpy(), logits[0].numpy(), atol=1e-12)
    res = lrp_summary(m, SRC, DEC, TGT)
    np.testing.assert_allclose(res.logit.numpy(), logits[0, range(5), TGT].numpy(), atol=1e-12)
    np.testing.assert_allclose(res.attention.numpy(), attn[0].numpy(), atol=1e-12)


def test_batched_all_output_words_equals_one_at_a_time():
    m = _model(2)
    full = lrp_summary(m, SRC, DEC, TGT, eps=1e-3)
    for t in range(len(DEC)):
        one = lrp_summary(m, SRC, DEC, TGT, eps=1e-3, steps=[t])
        np.testing.assert_allclose(one.source[0].numpy(), full.source[t].numpy(), atol=1e-12)
        np.testing.assert_allclose(one.decoder_inputs[0].numpy(), full.decoder_inputs[t].numpy(), atol=1e-12)
        np.testing.assert_allclose(float(one.absorbed[0]), float(full.absorbed[t]), atol=1e-12)


def test_float32_option_is_close_to_float64():
    m = _model(3)
    r64 = lrp_summary(m, SRC, DEC, TGT, dtype=torch.float64)
    r32 = lrp_summary(m, SRC, DEC, TGT, dtype=torch.float32)
    assert r32.source.dtype == torch.float32
    np.testing.assert_allclose(r32.source.double().numpy(), r64.source.numpy(), atol=1e-4)


def test_known_answer_only_one_input_word_can_matter():
    """Only word 9 has a non-zero embedding component that the encoder reads, and the decoder
    ignores its inputs: all input-word relevance must go to word 9's positions."""
    m = _model(4, scale=1.5)
    with torch.no_grad():
        m.embedding.weight[:, 0] = 0.0
        m.embedding.weight[9, 0] = 2.0
        for name in ("weight_ih_l0", "weight_ih_l0_reverse"):
            getattr(m.encoder, name)[:, 1:] = 0.0
        m.decoder.weight_ih.zero_()
    src = [5, 6, 9, 7, 8, 10]
    res = lrp_summary(m, src, DEC, TGT, eps=1e-6)
    others = [i for i, w in enumerate(src) if w != 9]
    assert res.source[:, others].abs().max() < 1e-12
    assert torch.all(res.decoder_inputs.abs() < 1e-12)
    np.testing.assert_allclose(res.source[:, 2].numpy(), (res.logit - res.absorbed).numpy(), atol=1e-9)
    assert res.source[:, 2].abs().min() > 1e-6


def test_epsilon_rule_matches_captum_on_linear_relu_network():
    from captum.attr import LRP
    from captum.attr._utils.lrp_rules import EpsilonRule

    eps = 1e-2
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    for layer in net:
        if isinstance(layer, nn.Linear):
            layer.rule = EpsilonRule(epsilon=eps)
    x = torch.randn(4, 7, dtype=torch.float64)
    target = 1
    captum = LRP(net).attribute(x.clone().requires_grad_(), target=target).detach()
    for b in range(x.shape[0]):
        acts = [x[b]]
        for layer in net:
            acts.append(layer(acts[-1]).detach())
        rel = torch.zeros(1, 3, dtype=torch.float64)
        rel[0, target] = acts[-1][target]
        for k in range(len(net) - 1, -1, -1):
            layer = net[k]
            if isinstance(layer, nn.Linear):  # ReLU: relevance passes unchanged
                rel, _ = _linear_rule(acts[k], layer.weight.detach(), layer.bias.detach(),
                                      acts[k + 1], rel, eps)
        np.testing.assert_allclose(rel[0].numpy(), captum[b].numpy(), atol=1e-10)


def test_runs_on_model_dict_and_device_argument():
    m = _model(5)
    res = lrp_summary(m.state_dict(), SRC[:1], DEC[:1], TGT[:1], device="cpu")
    assert res.source.shape == (1, 1) and res.decoder_inputs.shape == (1, 1)
    assert abs(float(res.residual()[0])) < 1e-10


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu():
    m = _model(6)
    cpu = lrp_summary(m, SRC, DEC, TGT)
    gpu = lrp_summary(m, SRC, DEC, TGT, device="cuda")
    np.testing.assert_allclose(gpu.source.cpu().numpy(), cpu.source.numpy(), atol=1e-9)
