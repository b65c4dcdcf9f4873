"""The fast batched LRP agrees with the independent reference (tests/lrp_reference.py).

Both follow docs/SUMMARIZER_MODEL.md and were written separately; agreement to 1e-6 on small
random networks of the same architecture is the check that neither misreads the spec.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lrp_reference import reference_forward, reference_lrp

from saliency_repro.summarize.lrp import lrp_summary
from saliency_repro.summarize.model import ModelConfig, Summarizer


def _random_case(seed: int, V=14, d=5, h=4, hd=6, a=3, S=7, T=5):
    torch.manual_seed(seed)
    model = Summarizer(ModelConfig(vocab_size=V, embedding_dim=d, hidden_dim=h,
                                   decoder_hidden_dim=hd, attention_dim=a)).double().eval()
    with torch.no_grad():  # larger weights than the default init: less trivial relevances
        for prm in model.parameters():
            prm.mul_(2.0)
    rng = np.random.default_rng(seed)
    src = rng.integers(4, V, size=S).tolist()
    dec = [2] + rng.integers(4, V, size=T - 1).tolist()
    targets = rng.integers(3, V, size=T).tolist()
    params = {k: v.double().numpy() for k, v in model.state_dict().items()}
    return model, params, src, dec, targets


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_matches_reference(seed):
    model, params, src, dec, _ = _random_case(seed)
    ref = reference_forward(params, src, dec)
    with torch.no_grad():
        logits, attn = model(torch.tensor([src]), torch.tensor([dec]))
    np.testing.assert_allclose(logits[0].numpy(), ref["logits"], atol=1e-10)
    np.testing.assert_allclose(attn[0].numpy(), ref["attention"], atol=1e-10)


@pytest.mark.parametrize("seed,eps", [(0, 1e-3), (1, 1e-2), (2, 1e-3), (3, 0.1)])
def test_lrp_matches_reference(seed, eps):
    model, params, src, dec, targets = _random_case(seed)
    fast = lrp_summary(model, src, dec, targets, eps=eps, dtype=torch.float64)
    for t in range(len(dec)):
        ref = reference_lrp(params, src, dec, step=t, target=targets[t], eps=eps)
        np.testing.assert_allclose(float(fast.logit[t]), ref["logit"], atol=1e-6)
        np.testing.assert_allclose(fast.source[t].numpy(), ref["source"], atol=1e-6)
        np.testing.assert_allclose(fast.decoder_inputs[t, : t + 1].numpy(),
                                   ref["decoder_inputs"], atol=1e-6)
        np.testing.assert_allclose(float(fast.absorbed[t]), ref["absorbed"], atol=1e-6)


@pytest.mark.parametrize("S,T", [(1, 1), (2, 3), (9, 2)])
def test_lrp_matches_reference_on_edge_lengths(S, T):
    model, params, src, dec, targets = _random_case(7 + S + T, S=S, T=T, hd=8, h=3)
    fast = lrp_summary(model, src, dec, targets, eps=1e-3)
    for t in range(T):
        ref = reference_lrp(params, src, dec, step=t, target=targets[t], eps=1e-3)
        np.testing.assert_allclose(fast.source[t].numpy(), ref["source"], atol=1e-6)
        np.testing.assert_allclose(float(fast.absorbed[t]), ref["absorbed"], atol=1e-6)
