"""Self-checks of tests/lrp_reference.py, without the fast implementation.

The torch module below is built from the module table of docs/SUMMARIZER_MODEL.md only
(attribute names chosen so that its state_dict keys are the spec's keys).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from lrp_reference import reference_forward, reference_lrp
from torch import nn

V, D, H, HD, A = 12, 5, 4, 6, 3


class SpecSummarizer(nn.Module):
    """Torch version of the spec's model (See et al. 2017 baseline, no pointer/coverage)."""

    def __init__(self, vocab: int, d: int, h: int, hd: int, a: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, d, padding_idx=0)
        self.encoder = nn.LSTM(d, h, batch_first=True, bidirectional=True)
        self.reduce_h = nn.Linear(2 * h, hd)
        self.reduce_c = nn.Linear(2 * h, hd)
        self.decoder = nn.LSTMCell(d, hd)
        self.attn_enc = nn.Linear(2 * h, a, bias=False)
        self.attn_dec = nn.Linear(hd, a)
        self.attn_v = nn.Linear(a, 1, bias=False)
        self.out_hidden = nn.Linear(hd + 2 * h, hd)
        self.out_vocab = nn.Linear(hd, vocab)

    def forward(self, src: torch.Tensor, dec_inputs: torch.Tensor):
        # src [1, S], dec_inputs [1, T]; single unpadded article
        enc_out, (h_n, c_n) = self.encoder(self.embedding(src))  # enc_out [1, S, 2H]
        # h_n[0] = hf_{S-1}, h_n[1] = hb_0 (PyTorch bidirectional convention)
        s = torch.relu(self.reduce_h(torch.cat([h_n[0], h_n[1]], dim=-1)))
        c = torch.relu(self.reduce_c(torch.cat([c_n[0], c_n[1]], dim=-1)))
        enc_proj = self.attn_enc(enc_out)  # [1, S, A]
        logits, attn = [], []
        for t in range(dec_inputs.shape[1]):
            s, c = self.decoder(self.embedding(dec_inputs[:, t]), (s, c))
            scores = self.attn_v(torch.tanh(enc_proj + self.attn_dec(s)[:, None, :]))[..., 0]
            a = torch.softmax(scores, dim=-1)  # [1, S]
            ctx = torch.bmm(a[:, None, :], enc_out)[:, 0, :]
            u = self.out_hidden(torch.cat([s, ctx], dim=-1))
            logits.append(self.out_vocab(u))
            attn.append(a)
        return torch.stack(logits, dim=1), torch.stack(attn, dim=1)


SPEC_KEYS = {
    "embedding.weight",
    "encoder.weight_ih_l0",
    "encoder.weight_hh_l0",
    "encoder.bias_ih_l0",
    "encoder.bias_hh_l0",
    "encoder.weight_ih_l0_reverse",
    "encoder.weight_hh_l0_reverse",
    "encoder.bias_ih_l0_reverse",
    "encoder.bias_hh_l0_reverse",
    "reduce_h.weight",
    "reduce_h.bias",
    "reduce_c.weight",
    "reduce_c.bias",
    "decoder.weight_ih",
    "decoder.weight_hh",
    "decoder.bias_ih",
    "decoder.bias_hh",
    "attn_enc.weight",
    "attn_dec.weight",
    "attn_dec.bias",
    "attn_v.weight",
    "out_hidden.weight",
    "out_hidden.bias",
    "out_vocab.weight",
    "out_vocab.bias",
}


def make_model(seed: int, scale: float = 0.6) -> SpecSummarizer:
    """Random model with weights large enough that the nonlinearities are not near-linear."""
    torch.manual_seed(seed)
    model = SpecSummarizer(V, D, H, HD, A).double()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale)
        model.embedding.weight[0].zero_()  # padding_idx row
    return model.eval()


def to_params(model: nn.Module) -> dict[str, np.ndarray]:
    return {k: v.double().numpy().copy() for k, v in model.state_dict().items()}


def make_inputs(seed: int, n_src: int = 6, n_dec: int = 4) -> tuple[list[int], list[int]]:
    rng = np.random.default_rng(1000 + seed)
    src = [int(x) for x in rng.integers(1, V, size=n_src)]  # [UNK] allowed, no [PAD]
    dec = [2] + [int(x) for x in rng.integers(3, V, size=n_dec - 1)]
    return src, dec


def total(rel: dict) -> float:
    return float(rel["source"].sum() + rel["decoder_inputs"].sum() + rel["absorbed"])


def test_state_dict_keys_match_spec():
    assert set(make_model(0).state_dict()) == SPEC_KEYS


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forward_matches_torch(seed):
    model = make_model(seed)
    src, dec = make_inputs(seed, n_src=5 + seed, n_dec=3 + seed)
    with torch.no_grad():
        logits_t, attn_t = model(torch.tensor([src]), torch.tensor([dec]))
    out = reference_forward(to_params(model), src, dec)
    assert out["logits"].shape == (len(dec), V)
    assert out["attention"].shape == (len(dec), len(src))
    assert out["logits"].dtype == np.float64
    np.testing.assert_allclose(out["logits"], logits_t[0].numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(out["attention"], attn_t[0].numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("eps", [1e-6, 1e-2, 0.5])
def test_conservation(seed, eps):
    model = make_model(seed)
    params = to_params(model)
    src, dec = make_inputs(seed)
    logits = reference_forward(params, src, dec)["logits"]
    rng = np.random.default_rng(seed)
    for step in range(len(dec)):
        for target in (int(np.argmax(logits[step])), int(rng.integers(0, V))):
            rel = reference_lrp(params, src, dec, step, target, eps)
            assert rel["source"].shape == (len(src),)
            assert rel["decoder_inputs"].shape == (step + 1,)
            assert rel["logit"] == pytest.approx(logits[step, target], abs=1e-12)
            assert abs(total(rel) - rel["logit"]) < 1e-9


def test_absorbed_grows_with_eps():
    model = make_model(5)
    params = to_params(model)
    src, dec = make_inputs(5)
    step = len(dec) - 1
    target = 7
    small = reference_lrp(params, src, dec, step, target, 1e-6)
    large = reference_lrp(params, src, dec, step, target, 1e4)
    logit = small["logit"]
    assert abs(logit) > 1e-3
    # with a huge stabilizer nearly everything is absorbed
    assert abs(large["absorbed"] - logit) < 1e-2 * abs(logit)
    assert abs(large["absorbed"] - logit) < abs(small["absorbed"] - logit)
    # and the input relevances shrink towards zero
    mass = lambda r: np.abs(r["source"]).sum() + np.abs(r["decoder_inputs"]).sum()  # noqa: E731
    assert mass(large) < 1e-2 * mass(small)
    # monotone growth of the absorbed share over a range of eps (for this model)
    shares = [
        abs(reference_lrp(params, src, dec, step, target, e)["absorbed"] - logit)
        for e in (1e-3, 1e-1, 1e1, 1e3)
    ]
    assert shares == sorted(shares, reverse=True)


def zero_biases(params: dict[str, np.ndarray]) -> None:
    for k in params:
        if "bias" in k:
            params[k][...] = 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_known_answer_single_source_word(seed):
    """Only one source word has a nonzero embedding: it gets all non-absorbed relevance.

    With every bias zero the network has no bias sink, so with a tiny eps that word gets
    (almost) the whole logit.
    """
    model = make_model(seed)
    params = to_params(model)
    special = 9
    emb = params["embedding.weight"]
    keep = emb[special].copy()
    emb[...] = 0.0
    emb[special] = keep
    src = [5, 6, 4, special, 7, 8]  # the special word only at position 3
    dec = [2, 4, 6, 5]  # decoder inputs have zero embeddings
    step = 2
    target = 10

    rel = reference_lrp(params, src, dec, step, target, 1e-3)
    others = [i for i in range(len(src)) if i != 3]
    assert np.all(rel["source"][others] == 0.0)
    assert np.all(rel["decoder_inputs"] == 0.0)
    assert rel["source"][3] == pytest.approx(rel["logit"] - rel["absorbed"], abs=1e-9)
    assert rel["source"][3] != 0.0

    zero_biases(params)
    rel = reference_lrp(params, src, dec, step, target, 1e-12)
    assert abs(rel["logit"]) > 1e-4
    assert np.all(rel["source"][others] == 0.0)
    assert np.all(rel["decoder_inputs"] == 0.0)
    assert abs(rel["absorbed"]) < 1e-6 * abs(rel["logit"])
    assert rel["source"][3] == pytest.approx(rel["logit"], rel=1e-6)


def test_known_answer_single_decoder_input():
    """All source embeddings zero, one decoder input word nonzero: it gets everything."""
    model = make_model(3)
    params = to_params(model)
    special = 11
    emb = params["embedding.weight"]
    keep = emb[special].copy()
    emb[...] = 0.0
    emb[special] = keep
    zero_biases(params)
    src = [4, 5, 6, 7]
    dec = [2, 4, special, 5, 6]
    step = 3
    target = 1
    rel = reference_lrp(params, src, dec, step, target, 1e-12)
    assert abs(rel["logit"]) > 1e-4
    assert np.all(rel["source"] == 0.0)
    assert np.all(rel["decoder_inputs"][[0, 1, 3]] == 0.0)
    assert abs(rel["absorbed"]) < 1e-6 * abs(rel["logit"])
    assert rel["decoder_inputs"][2] == pytest.approx(rel["logit"], rel=1e-6)
    # a later decoder input than the explained step does not exist in the map
    assert rel["decoder_inputs"].shape == (step + 1,)


def test_single_step_by_hand():
    """One source word, one decoder step, all biases zero: check the rules by hand.

    Decoder and reduce paths are cut (reduce weights zero -> s_{-1} = c_{-1} = 0 and the
    [START] embedding zero -> s_0 = 0), so the logit flows only through ctx_0 = h_0
    (a single source word has attention weight 1) into the two encoder cells, whose c_prev
    and h_prev are zero. Then: R(h_0 dir) -> R(c) -> R(g) = i g / (c + eps) R(c) and
    the g pre-activation is W_g e with no bias, so R(e) = sum_j W_g[j] e / (W_g e)_j R(g_j).
    """
    model = make_model(4)
    params = to_params(model)
    zero_biases(params)
    params["reduce_h.weight"][...] = 0.0
    params["reduce_c.weight"][...] = 0.0
    params["embedding.weight"][2] = 0.0
    src, dec, target, eps = [8], [2], 6, 1e-4
    rel = reference_lrp(params, src, dec, 0, target, eps)

    e = params["embedding.weight"][8]
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    sgn = lambda x: np.where(x >= 0, 1.0, -1.0)  # noqa: E731
    expected_src, expected_abs = 0.0, 0.0
    # encoder states of both directions, from zero state
    hs, caches = [], []
    for suffix in ("", "_reverse"):
        pre = params[f"encoder.weight_ih_l0{suffix}"] @ e
        i_g, g, o = sig(pre[:H]), np.tanh(pre[2 * H : 3 * H]), sig(pre[3 * H :])
        c = i_g * g
        hs.append(o * np.tanh(c))
        caches.append((pre[2 * H : 3 * H], i_g, g, c))
    h0 = np.concatenate(hs)
    s0 = np.zeros(HD)
    u = params["out_hidden.weight"] @ np.concatenate([s0, h0])
    w = params["out_vocab.weight"][target]
    logit = w @ u
    assert rel["logit"] == pytest.approx(logit, abs=1e-12)
    r_u = u * w / (logit + eps * sgn(logit)) * logit
    expected_abs += eps * sgn(logit) / (logit + eps * sgn(logit)) * logit
    w_oh = params["out_hidden.weight"]
    z = w_oh @ np.concatenate([s0, h0])
    r_in = (w_oh * np.concatenate([s0, h0])[None, :] / (z + eps * sgn(z))[:, None]).T @ r_u
    expected_abs += np.sum(eps * sgn(z) / (z + eps * sgn(z)) * r_u)
    r_ctx = r_in[HD:]
    # attention: ctx = 1.0 * h0
    r_h = h0 / (h0 + eps * sgn(h0)) * r_ctx
    expected_abs += np.sum(eps * sgn(h0) / (h0 + eps * sgn(h0)) * r_ctx)
    for k, (pre_g, i_g, g, c) in enumerate(caches):
        r_c = r_h[k * H : (k + 1) * H]
        r_g = i_g * g / (c + eps * sgn(c)) * r_c
        expected_abs += np.sum(eps * sgn(c) / (c + eps * sgn(c)) * r_c)
        suffix = "" if k == 0 else "_reverse"
        w_g = params[f"encoder.weight_ih_l0{suffix}"][2 * H : 3 * H]
        r_e = (w_g * e[None, :] / (pre_g + eps * sgn(pre_g))[:, None]).T @ r_g
        expected_abs += np.sum(eps * sgn(pre_g) / (pre_g + eps * sgn(pre_g)) * r_g)
        expected_src += r_e.sum()
    assert rel["source"][0] == pytest.approx(expected_src, abs=1e-12)
    assert rel["absorbed"] == pytest.approx(expected_abs, abs=1e-12)
    assert rel["decoder_inputs"][0] == 0.0


def test_rejects_padding_and_bad_step():
    params = to_params(make_model(0))
    with pytest.raises(ValueError):
        reference_forward(params, [4, 0], [2])
    with pytest.raises(ValueError):
        reference_lrp(params, [4, 5], [2, 6], 2, 3, 0.01)


# ---- multi-step checks of the recursion and the cell-sum split, in vectorized NumPy ------
def _sgnv(x):
    return np.where(x >= 0, 1.0, -1.0)


def _lstm_run(w_ih, w_hh, xs, n, h0=None, c0=None):
    """Bias-free LSTM (zero state by default); per step (x, h_prev, c_prev, i, f, g, c, h)."""
    h = np.zeros(n) if h0 is None else h0
    c = np.zeros(n) if c0 is None else c0
    out = []
    for x in xs:
        pre = w_ih @ x + w_hh @ h
        i_g = 1 / (1 + np.exp(-pre[:n]))
        f_g = 1 / (1 + np.exp(-pre[n : 2 * n]))
        g = np.tanh(pre[2 * n : 3 * n])
        o = 1 / (1 + np.exp(-pre[3 * n :]))
        c_new = f_g * c + i_g * g
        h_new = o * np.tanh(c_new)
        out.append((x, h, c, i_g, f_g, g, c_new, h_new))
        h, c = h_new, c_new
    return out


def _lstm_lrp_vec(steps, w_ih, w_hh, r_h_ext, n, eps, r_c_last=None):
    """Relevance of the inputs of a bias-free LSTM given external relevance on each h
    (and on the last c). Returns (R(x) per step, absorbed, R(h_init), R(c_init))."""
    r_h = np.zeros(n)
    r_c = np.zeros(n) if r_c_last is None else r_c_last
    r_x, absorbed = [None] * len(steps), 0.0
    w_g = np.concatenate([w_ih[2 * n : 3 * n], w_hh[2 * n : 3 * n]], axis=1)
    for t in range(len(steps) - 1, -1, -1):
        x, h_prev, c_prev, i_g, f_g, g, c, _ = steps[t]
        r_c = r_c + r_h + r_h_ext[t]
        den = c + eps * _sgnv(c)
        r_g = i_g * g / den * r_c
        absorbed += np.sum(eps * _sgnv(c) / den * r_c)
        r_c = f_g * c_prev / den * r_c
        inp = np.concatenate([x, h_prev])
        z = w_g @ inp
        r_inp = (w_g * inp[None, :] / (z + eps * _sgnv(z))[:, None]).T @ r_g
        absorbed += np.sum(eps * _sgnv(z) / (z + eps * _sgnv(z)) * r_g)
        r_x[t], r_h = r_inp[: len(x)], r_inp[len(x) :]
    return r_x, absorbed, r_h, r_c


def _out_layers(params, s, ctx, target, eps):
    """Relevance of [s; ctx] from logits[target] (all biases zero)."""
    u = params["out_hidden.weight"] @ np.concatenate([s, ctx])
    w = params["out_vocab.weight"][target]
    logit = w @ u
    den = logit + eps * _sgnv(logit)
    r_u = u * w / den * logit
    absorbed = eps * _sgnv(logit) / den * logit
    w_oh, inp = params["out_hidden.weight"], np.concatenate([s, ctx])
    z = w_oh @ inp
    r_in = (w_oh * inp[None, :] / (z + eps * _sgnv(z))[:, None]).T @ r_u
    absorbed += np.sum(eps * _sgnv(z) / (z + eps * _sgnv(z)) * r_u)
    return logit, r_in, absorbed


@pytest.mark.parametrize("eps", [1e-4, 0.3])
def test_encoder_recursion_by_hand(eps):
    """Three source words, forward encoder only (reverse cut), decoder cut."""
    params = to_params(make_model(6))
    zero_biases(params)
    for k in params:
        if k.endswith("_reverse") or k.startswith("reduce_"):
            params[k][...] = 0.0
    params["embedding.weight"][2] = 0.0  # [START]: s_0 = 0
    src, dec, target = [8, 5, 9], [2], 4
    rel = reference_lrp(params, src, dec, 0, target, eps)
    a = reference_forward(params, src, dec)["attention"][0]

    emb = params["embedding.weight"]
    w_ih, w_hh = params["encoder.weight_ih_l0"], params["encoder.weight_hh_l0"]
    steps = _lstm_run(w_ih, w_hh, [emb[x] for x in src], H)
    hf = [st[7] for st in steps]
    ctx_f = sum(a[i] * hf[i] for i in range(len(src)))
    ctx = np.concatenate([ctx_f, np.zeros(H)])
    logit, r_in, absorbed = _out_layers(params, np.zeros(HD), ctx, target, eps)
    r_ctx_f = r_in[HD : HD + H]
    den = ctx_f + eps * _sgnv(ctx_f)
    absorbed += np.sum(eps * _sgnv(ctx_f) / den * r_ctx_f)
    r_h_ext = [a[i] * hf[i] / den * r_ctx_f for i in range(len(src))]
    r_x, ab, _, _ = _lstm_lrp_vec(steps, w_ih, w_hh, r_h_ext, H, eps)
    absorbed += ab
    assert rel["logit"] == pytest.approx(logit, abs=1e-12)
    np.testing.assert_allclose(rel["source"], [r.sum() for r in r_x], rtol=0, atol=1e-12)
    assert rel["absorbed"] == pytest.approx(absorbed, abs=1e-12)
    assert np.all(rel["decoder_inputs"] == 0.0)


@pytest.mark.parametrize("eps", [1e-4, 0.3])
def test_decoder_recursion_by_hand(eps):
    """Source side cut (zero source embeddings, zero biases): only the decoder recursion."""
    params = to_params(make_model(7))
    zero_biases(params)
    src, dec, step, target = [4, 5, 6], [2, 9, 10, 11], 2, 3
    for x in src:
        params["embedding.weight"][x] = 0.0
    rel = reference_lrp(params, src, dec, step, target, eps)

    emb = params["embedding.weight"]
    w_ih, w_hh = params["decoder.weight_ih"], params["decoder.weight_hh"]
    steps = _lstm_run(w_ih, w_hh, [emb[y] for y in dec[: step + 1]], HD)
    logit, r_in, absorbed = _out_layers(params, steps[step][7], np.zeros(2 * H), target, eps)
    r_h_ext = [np.zeros(HD)] * step + [r_in[:HD]]
    r_x, ab, _, _ = _lstm_lrp_vec(steps, w_ih, w_hh, r_h_ext, HD, eps)
    absorbed += ab
    assert rel["logit"] == pytest.approx(logit, abs=1e-12)
    np.testing.assert_allclose(rel["decoder_inputs"], [r.sum() for r in r_x], rtol=0, atol=1e-12)
    assert rel["absorbed"] == pytest.approx(absorbed, abs=1e-12)
    assert np.all(rel["source"] == 0.0)


@pytest.mark.parametrize("eps", [1e-4, 0.3])
def test_reduce_path_by_hand(eps):
    """Attention path cut (ctx columns of out_hidden zero), [START] embedding zero: the logit
    reaches the source only through s_{-1}, c_{-1} = relu(reduce_h/c([.. S-1; .. 0]))."""
    params = to_params(make_model(8))
    zero_biases(params)
    params["out_hidden.weight"][:, HD:] = 0.0
    params["embedding.weight"][2] = 0.0
    src, dec, target = [8, 5, 9], [2], 4
    rel = reference_lrp(params, src, dec, 0, target, eps)

    emb = params["embedding.weight"]
    xs = [emb[x] for x in src]
    wf = (params["encoder.weight_ih_l0"], params["encoder.weight_hh_l0"])
    wb = (params["encoder.weight_ih_l0_reverse"], params["encoder.weight_hh_l0_reverse"])
    fwd = _lstm_run(*wf, xs, H)
    bwd = _lstm_run(*wb, xs[::-1], H)  # bwd[k] is source position S-1-k
    red_h_in = np.concatenate([fwd[-1][7], bwd[-1][7]])  # [hf_{S-1}; hb_0]
    red_c_in = np.concatenate([fwd[-1][6], bwd[-1][6]])  # [cf_{S-1}; cb_0]
    zh = params["reduce_h.weight"] @ red_h_in
    zc = params["reduce_c.weight"] @ red_c_in
    s_init, c_init = np.maximum(zh, 0), np.maximum(zc, 0)
    assert np.any(s_init > 0) and np.any(c_init > 0) and np.any(zh < 0)
    wd = (params["decoder.weight_ih"], params["decoder.weight_hh"])
    dsteps = _lstm_run(*wd, [emb[2]], HD, s_init, c_init)
    logit, r_in, absorbed = _out_layers(params, dsteps[0][7], np.zeros(2 * H), target, eps)
    _, ab, r_s_init, r_c_init = _lstm_lrp_vec(dsteps, *wd, [r_in[:HD]], HD, eps)
    absorbed += ab
    r_red = []
    for w, inp, r in (
        (params["reduce_h.weight"], red_h_in, r_s_init),
        (params["reduce_c.weight"], red_c_in, r_c_init),
    ):
        z = w @ inp
        r_red.append((w * inp[None, :] / (z + eps * _sgnv(z))[:, None]).T @ r)
        absorbed += np.sum(eps * _sgnv(z) / (z + eps * _sgnv(z)) * r)
    zeros = [np.zeros(H)] * len(src)
    r_f, ab_f, _, _ = _lstm_lrp_vec(
        fwd, *wf, zeros[:-1] + [r_red[0][:H]], H, eps, r_c_last=r_red[1][:H]
    )
    r_b, ab_b, _, _ = _lstm_lrp_vec(
        bwd, *wb, zeros[:-1] + [r_red[0][H:]], H, eps, r_c_last=r_red[1][H:]
    )
    absorbed += ab_f + ab_b
    expected = [r_f[i].sum() + r_b[len(src) - 1 - i].sum() for i in range(len(src))]
    assert rel["logit"] == pytest.approx(logit, abs=1e-12)
    np.testing.assert_allclose(rel["source"], expected, rtol=0, atol=1e-12)
    assert rel["absorbed"] == pytest.approx(absorbed, abs=1e-12)
    assert rel["decoder_inputs"][0] == 0.0
