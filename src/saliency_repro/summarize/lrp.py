"""Epsilon-LRP for the summarizer, for all output words of a summary at once.

Implements the rules of ``docs/SUMMARIZER_MODEL.md`` (Bach et al. 2015 epsilon-rule for every
linear map; Arras et al. 2017 for the LSTM cells: signal-take-all at gate products, the cell sum
split by contribution; attention weights held constant). The forward pass is recomputed from the
``state_dict`` in the requested dtype (float64 by default) so every intermediate value the rules
need is at hand.

Batching: the explained logits of all T output words share one teacher-forced forward pass (the
same article and decoder inputs), so the relevances of the T explanations are a batch dimension
``B = T`` of every backward step. Loops run over time steps only, never over output words.

Every unit of relevance is accounted for: what reaches the source word embeddings, what reaches
the decoder-side input embeddings ([START] and previously generated words), and what bias terms
and stabilizers absorb (computed term by term, not as a residual), so that
``logit == source.sum() + decoder_inputs.sum() + absorbed`` up to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from saliency_repro.summarize.model import Summarizer


@dataclass
class LRPResult:
    """Maps of T explained output words of one summary (numpy-convertible tensors).

    ``source`` [T, S]: relevance per input token; ``decoder_inputs`` [T, T]: row t holds the
    relevance of decoder inputs 0..t (zeros above the diagonal); ``absorbed`` [T]: bias and
    stabilizer shares; ``logit`` [T]: the explained logits; ``attention`` [T, S].
    """

    source: torch.Tensor
    decoder_inputs: torch.Tensor
    absorbed: torch.Tensor
    logit: torch.Tensor
    attention: torch.Tensor

    def residual(self) -> torch.Tensor:
        """logit minus everything accounted for (zero up to rounding)."""
        return self.logit - self.source.sum(-1) - self.decoder_inputs.sum(-1) - self.absorbed


def _stab(z: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(z + eps*sgn(z), eps*sgn(z)) with sgn(0) = +1."""
    e = torch.where(z >= 0, eps, -eps).to(z.dtype)
    return z + e, e


def _linear_rule(
    x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor | None, z: torch.Tensor,
    r_out: torch.Tensor, eps: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Epsilon-rule through ``z = W x + b`` for a batch of relevances ``r_out`` [B, out].

    ``x`` [in] and ``z`` [out] are shared by the batch. Returns ``(r_in [B, in], absorbed [B])``.
    """
    den, e = _stab(z, eps)
    q = r_out / den
    r_in = x * (q @ w)
    absorbed_num = e if bias is None else bias + e
    return r_in, (q * absorbed_num).sum(-1)


def _lstm_cell_forward(x, h, c, w_ih, w_hh, b):
    pre = x @ w_ih.T + h @ w_hh.T + b
    i_, f_, g_, o_ = pre.chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i_), torch.sigmoid(f_), torch.tanh(g_), torch.sigmoid(o_)
    c_new = f * c + i * g
    h_new = o * torch.tanh(c_new)
    return {"x": x, "h_prev": h, "c_prev": c, "i": i, "f": f, "g": g, "zg": g_,
            "c": c_new, "h": h_new}


def _lstm_cell_backward(rec, r_h, r_c, w_g, b_g, eps):
    """Relevance of one LSTM step: (r_h, r_c) of its outputs -> (r_x, r_h_prev, r_c_prev, absorbed).

    h = o * tanh(c): all to tanh(c), passed to c. c = f*c_prev + i*g: split by contribution,
    stabilizer absorbed. i*g: all to g, through tanh to the g pre-activation, whose linear map
    over [x; h_prev] (bias b_ih + b_hh) uses the epsilon-rule.
    """
    r_c = r_c + r_h
    den, e = _stab(rec["c"], eps)
    q = r_c / den
    r_c_prev = rec["f"] * rec["c_prev"] * q
    r_g = rec["i"] * rec["g"] * q
    absorbed = (e * q).sum(-1)
    xh = torch.cat([rec["x"], rec["h_prev"]])
    r_in, ab = _linear_rule(xh, w_g, b_g, rec["zg"], r_g, eps)
    d = rec["x"].shape[0]
    return r_in[:, :d], r_in[:, d:], r_c_prev, absorbed + ab


def _g_rows(w: torch.Tensor, n: int) -> torch.Tensor:
    return w[2 * n: 3 * n]


def lrp_summary(
    model: Summarizer | dict[str, torch.Tensor],
    src: Sequence[int],
    dec_inputs: Sequence[int],
    targets: Sequence[int],
    eps: float = 1e-3,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    steps: Sequence[int] | None = None,
) -> LRPResult:
    """Explain ``logits_t[targets[t]]`` for every step t in ``steps`` (default: all) at once.

    ``src``: article ids (no padding); ``dec_inputs``: ``[START] + generated[:-1]`` (length T);
    ``targets``: the generated words (length T). ``model`` may be a module or its state_dict.
    """
    sd = model.state_dict() if isinstance(model, torch.nn.Module) else model
    p = {k: v.detach().to(device=device, dtype=dtype) for k, v in sd.items()}
    src_t = torch.as_tensor(list(src), dtype=torch.long, device=device)
    y_t = torch.as_tensor(list(dec_inputs), dtype=torch.long, device=device)
    T, S = len(dec_inputs), len(src)
    steps_t = torch.arange(T, device=device) if steps is None else torch.as_tensor(
        list(steps), dtype=torch.long, device=device)
    tgt_all = torch.as_tensor(list(targets), dtype=torch.long, device=device)
    tgt = tgt_all[steps_t]
    B = steps_t.shape[0]
    E = p["embedding.weight"]
    H = p["encoder.weight_hh_l0"].shape[1]
    Hd = p["decoder.weight_hh"].shape[1]

    # ---------------------------------------------------------------- forward (recorded)
    emb_src = E[src_t]
    zeros_h = torch.zeros(H, dtype=dtype, device=device)
    enc = {}
    for direction, suffix, order in (("f", "", range(S)), ("b", "_reverse", range(S - 1, -1, -1))):
        w_ih, w_hh = p[f"encoder.weight_ih_l0{suffix}"], p[f"encoder.weight_hh_l0{suffix}"]
        b = p[f"encoder.bias_ih_l0{suffix}"] + p[f"encoder.bias_hh_l0{suffix}"]
        h, c, recs = zeros_h, zeros_h, {}
        for i in order:
            recs[i] = _lstm_cell_forward(emb_src[i], h, c, w_ih, w_hh, b)
            h, c = recs[i]["h"], recs[i]["c"]
        enc[direction] = recs
    hf = torch.stack([enc["f"][i]["h"] for i in range(S)])
    hb = torch.stack([enc["b"][i]["h"] for i in range(S)])
    states = torch.cat([hf, hb], dim=-1)  # [S, 2H]
    red_h_in = torch.cat([enc["f"][S - 1]["h"], enc["b"][0]["h"]])
    red_c_in = torch.cat([enc["f"][S - 1]["c"], enc["b"][0]["c"]])
    red_h_z = red_h_in @ p["reduce_h.weight"].T + p["reduce_h.bias"]
    red_c_z = red_c_in @ p["reduce_c.weight"].T + p["reduce_c.bias"]
    s, c = torch.relu(red_h_z), torch.relu(red_c_z)
    w_ih_d, w_hh_d = p["decoder.weight_ih"], p["decoder.weight_hh"]
    b_d = p["decoder.bias_ih"] + p["decoder.bias_hh"]
    enc_proj = states @ p["attn_enc.weight"].T
    dec, attn, ctxs, us, feats = [], [], [], [], []
    for t in range(T):
        rec = _lstm_cell_forward(E[y_t[t]], s, c, w_ih_d, w_hh_d, b_d)
        s, c = rec["h"], rec["c"]
        dec.append(rec)
        score = torch.tanh(enc_proj + s @ p["attn_dec.weight"].T + p["attn_dec.bias"]) @ p["attn_v.weight"][0]
        a = torch.softmax(score, dim=0)
        ctx = a @ states
        feat = torch.cat([s, ctx])
        attn.append(a)
        ctxs.append(ctx)
        feats.append(feat)
        us.append(feat @ p["out_hidden.weight"].T + p["out_hidden.bias"])
    attn_m, ctx_m, u_m, feat_m = torch.stack(attn), torch.stack(ctxs), torch.stack(us), torch.stack(feats)

    # ---------------------------------------------------------------- output layers (batched)
    u_b = u_m[steps_t]  # [B, Hd]
    w_row = p["out_vocab.weight"][tgt]  # [B, Hd]
    logit = (u_b * w_row).sum(-1) + p["out_vocab.bias"][tgt]
    den, e = _stab(logit, eps)
    r_u = u_b * w_row / den[:, None] * logit[:, None]
    absorbed = (p["out_vocab.bias"][tgt] + e) / den * logit
    # out_hidden: inputs differ per explained step, so apply the rule row-wise
    den_u, e_u = _stab(u_b, eps)
    q = r_u / den_u
    r_feat = feat_m[steps_t] * (q @ p["out_hidden.weight"])
    absorbed = absorbed + (q * (p["out_hidden.bias"] + e_u)).sum(-1)
    r_s_out, r_ctx = r_feat[:, :Hd], r_feat[:, Hd:]
    # context = sum_i a_ti h_i, attention constant: epsilon-rule without bias
    den_c, e_c = _stab(ctx_m[steps_t], eps)
    q = r_ctx / den_c  # [B, 2H]
    r_states = attn_m[steps_t][:, :, None] * states[None] * q[:, None, :]  # [B, S, 2H]
    absorbed = absorbed + (q * e_c).sum(-1)

    # ---------------------------------------------------------------- decoder recursion
    w_g_d = torch.cat([_g_rows(w_ih_d, Hd), _g_rows(w_hh_d, Hd)], dim=1)
    b_g_d = _g_rows(b_d, Hd)
    r_dec_inputs = torch.zeros(B, T, dtype=dtype, device=device)
    r_s = torch.zeros(B, Hd, dtype=dtype, device=device)
    r_c = torch.zeros(B, Hd, dtype=dtype, device=device)
    t_max = int(steps_t.max().item()) if B else -1
    for k in range(t_max, -1, -1):
        r_s = r_s + r_s_out * (steps_t == k)[:, None].to(dtype)
        r_x, r_s, r_c, ab = _lstm_cell_backward(dec[k], r_s, r_c, w_g_d, b_g_d, eps)
        r_dec_inputs[:, k] = r_x.sum(-1)
        absorbed = absorbed + ab

    # ---------------------------------------------------------------- reduce layers (relu passes)
    r_red_h, ab_h = _linear_rule(red_h_in, p["reduce_h.weight"], p["reduce_h.bias"], red_h_z, r_s, eps)
    r_red_c, ab_c = _linear_rule(red_c_in, p["reduce_c.weight"], p["reduce_c.bias"], red_c_z, r_c, eps)
    absorbed = absorbed + ab_h + ab_c
    r_states[:, S - 1, :H] += r_red_h[:, :H]
    r_states[:, 0, H:] += r_red_h[:, H:]

    # ---------------------------------------------------------------- encoder recursions
    r_source = torch.zeros(B, S, dtype=dtype, device=device)
    for direction, suffix, order, part, c_extra in (
        ("f", "", range(S - 1, -1, -1), slice(0, H), r_red_c[:, :H]),
        ("b", "_reverse", range(S), slice(H, 2 * H), r_red_c[:, H:]),
    ):
        w_ih, w_hh = p[f"encoder.weight_ih_l0{suffix}"], p[f"encoder.weight_hh_l0{suffix}"]
        b = p[f"encoder.bias_ih_l0{suffix}"] + p[f"encoder.bias_hh_l0{suffix}"]
        w_g = torch.cat([_g_rows(w_ih, H), _g_rows(w_hh, H)], dim=1)
        b_g = _g_rows(b, H)
        r_h_carry = torch.zeros(B, H, dtype=dtype, device=device)
        r_c_carry = c_extra
        for i in order:
            r_h = r_states[:, i, part] + r_h_carry
            r_x, r_h_carry, r_c_carry, ab = _lstm_cell_backward(
                enc[direction][i], r_h, r_c_carry, w_g, b_g, eps)
            r_source[:, i] += r_x.sum(-1)
            absorbed = absorbed + ab
    mask = torch.arange(T, device=device)[None, :] <= steps_t[:, None]
    return LRPResult(r_source, r_dec_inputs * mask, absorbed, logit, attn_m[steps_t])


def forward_logits(
    model: Summarizer | dict[str, torch.Tensor], src: Sequence[int], dec_inputs: Sequence[int],
    dtype: torch.dtype = torch.float64,
) -> torch.Tensor:
    """Teacher-forced logits [T, V] from the LRP module's own forward (to check it against the
    model's ``forward``)."""
    from saliency_repro.summarize.model import ModelConfig

    sd = model.state_dict() if isinstance(model, torch.nn.Module) else model

    V, d = sd["embedding.weight"].shape
    cfg = ModelConfig(vocab_size=V, embedding_dim=d, hidden_dim=sd["encoder.weight_hh_l0"].shape[1],
                      decoder_hidden_dim=sd["decoder.weight_hh"].shape[1],
                      attention_dim=sd["attn_enc.weight"].shape[0])
    m = Summarizer(cfg).to(dtype)
    m.load_state_dict({k: v.to(dtype) for k, v in sd.items()})
    m.eval()
    with torch.no_grad():
        logits, _ = m(torch.tensor([list(src)]), torch.tensor([list(dec_inputs)]))
    return logits[0]
