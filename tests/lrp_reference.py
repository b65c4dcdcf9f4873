"""Independent reference of the summarizer forward pass and its epsilon-LRP.

Written from docs/SUMMARIZER_MODEL.md only (not from the fast implementation in
``src/saliency_repro/summarize/``), for tests that compare the two.

Style on purpose: NumPy float64, one unpadded article, no batching, explicit Python loops
over time steps and (in every relevance rule) over units. Clarity over speed; the sizes used
in tests are tiny.

``params`` is ``{k: v.double().numpy() for k, v in model.state_dict().items()}`` with the
state_dict keys of the spec (``embedding.weight``, ``encoder.weight_ih_l0``, ...).

Comments "spec 1..5" cite the numbered forward steps of the spec; "LRP: ..." cite the bullet
of the spec's "Epsilon-LRP" section that a piece of code implements.
"""

from __future__ import annotations

import numpy as np

PAD = 0


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------
def _sgn(z: float) -> float:
    """sgn with sgn(0) = +1 (spec, "Linear map")."""
    return 1.0 if z >= 0.0 else -1.0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _p(params: dict[str, np.ndarray], key: str) -> np.ndarray:
    return np.asarray(params[key], dtype=np.float64)


# --------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------
def _lstm_cell(
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
) -> dict[str, np.ndarray]:
    """One LSTM step (spec 1, "LSTM cell"), PyTorch gate order i, f, g, o.

    Returns every intermediate the relevance pass needs.
    """
    n = h_prev.shape[0]
    pre = w_ih @ x + b_ih + w_hh @ h_prev + b_hh  # pre = W_ih e + b_ih + W_hh h_prev + b_hh
    i_gate = _sigmoid(pre[0 * n : 1 * n])  # i = sigma
    f_gate = _sigmoid(pre[1 * n : 2 * n])  # f = sigma
    g_sig = np.tanh(pre[2 * n : 3 * n])  # g = tanh
    o_gate = _sigmoid(pre[3 * n : 4 * n])  # o = sigma
    c = f_gate * c_prev + i_gate * g_sig  # c = f * c_prev + i * g
    h = o_gate * np.tanh(c)  # h = o * tanh(c)
    return {
        "x": x.copy(),
        "h_prev": h_prev.copy(),
        "c_prev": c_prev.copy(),
        "i": i_gate,
        "f": f_gate,
        "g": g_sig,
        "o": o_gate,
        "c": c,
        "h": h,
    }


def _forward_full(params: dict[str, np.ndarray], src: list[int], dec_inputs: list[int]) -> dict:
    """Forward pass of the spec (steps 1-5) keeping all intermediates."""
    src = [int(t) for t in src]
    dec_inputs = [int(t) for t in dec_inputs]
    if len(src) == 0:
        raise ValueError("empty article")
    if any(t == PAD for t in src):
        raise ValueError("the reference handles a single unpadded article (no [PAD] ids)")
    if len(dec_inputs) == 0:
        raise ValueError("need at least one decoder input ([START])")

    emb = _p(params, "embedding.weight")
    n_src = len(src)
    hid = _p(params, "encoder.weight_hh_l0").shape[1]  # H

    # spec 1: e_i = E[x_i]
    e = [emb[x] for x in src]

    # spec 1: forward LSTM over i = 0..S-1 from zero state
    wf = [_p(params, f"encoder.{k}_l0") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    enc_f: list[dict] = [None] * n_src  # type: ignore[list-item]
    h_prev = np.zeros(hid)
    c_prev = np.zeros(hid)
    for i in range(n_src):
        enc_f[i] = _lstm_cell(*wf, e[i], h_prev, c_prev)
        h_prev, c_prev = enc_f[i]["h"], enc_f[i]["c"]

    # spec 1: backward LSTM over i = S-1..0 from zero state
    wb = [
        _p(params, f"encoder.{k}_l0_reverse")
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    enc_b: list[dict] = [None] * n_src  # type: ignore[list-item]
    h_prev = np.zeros(hid)
    c_prev = np.zeros(hid)
    for i in range(n_src - 1, -1, -1):
        enc_b[i] = _lstm_cell(*wb, e[i], h_prev, c_prev)
        h_prev, c_prev = enc_b[i]["h"], enc_b[i]["c"]

    # spec 1: h_i = [hf_i; hb_i]
    enc_h = [np.concatenate([enc_f[i]["h"], enc_b[i]["h"]]) for i in range(n_src)]

    # spec 2: s_{-1} = relu(reduce_h([hf_{S-1}; hb_0])), c_{-1} = relu(reduce_c([cf_{S-1}; cb_0]))
    red_h_in = np.concatenate([enc_f[n_src - 1]["h"], enc_b[0]["h"]])
    red_c_in = np.concatenate([enc_f[n_src - 1]["c"], enc_b[0]["c"]])
    red_h_z = _p(params, "reduce_h.weight") @ red_h_in + _p(params, "reduce_h.bias")
    red_c_z = _p(params, "reduce_c.weight") @ red_c_in + _p(params, "reduce_c.bias")
    s_init = np.maximum(red_h_z, 0.0)
    c_init = np.maximum(red_c_z, 0.0)

    wd = [_p(params, f"decoder.{k}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    w_attn_enc = _p(params, "attn_enc.weight")
    w_attn_dec = _p(params, "attn_dec.weight")
    b_attn_dec = _p(params, "attn_dec.bias")
    w_attn_v = _p(params, "attn_v.weight")  # 1 x A
    w_oh = _p(params, "out_hidden.weight")
    b_oh = _p(params, "out_hidden.bias")
    w_ov = _p(params, "out_vocab.weight")
    b_ov = _p(params, "out_vocab.bias")

    dec: list[dict] = []
    attn_rows: list[np.ndarray] = []
    ctx_rows: list[np.ndarray] = []
    u_rows: list[np.ndarray] = []
    logit_rows: list[np.ndarray] = []
    s_prev, cd_prev = s_init, c_init
    for y in dec_inputs:
        # spec 3: s_t, cd_t = decoder(E[y_t], (s_{t-1}, cd_{t-1})); no input feeding
        step = _lstm_cell(*wd, emb[y], s_prev, cd_prev)
        dec.append(step)
        s_t = step["h"]
        # spec 4: score_ti = attn_v(tanh(attn_enc(h_i) + attn_dec(s_t))); a_t = softmax
        dec_part = w_attn_dec @ s_t + b_attn_dec
        scores = np.zeros(n_src)
        for i in range(n_src):
            scores[i] = (w_attn_v @ np.tanh(w_attn_enc @ enc_h[i] + dec_part))[0]
        a_t = np.exp(scores - scores.max())
        a_t = a_t / a_t.sum()
        # spec 4: ctx_t = sum_i a_ti h_i
        ctx = np.zeros(2 * hid)
        for i in range(n_src):
            ctx = ctx + a_t[i] * enc_h[i]
        # spec 5: u_t = out_hidden([s_t; ctx_t]) (no nonlinearity), logits_t = out_vocab(u_t)
        u_t = w_oh @ np.concatenate([s_t, ctx]) + b_oh
        logits = w_ov @ u_t + b_ov
        attn_rows.append(a_t)
        ctx_rows.append(ctx)
        u_rows.append(u_t)
        logit_rows.append(logits)
        s_prev, cd_prev = step["h"], step["c"]

    return {
        "e": e,
        "enc_f": enc_f,
        "enc_b": enc_b,
        "enc_h": enc_h,
        "red_h_in": red_h_in,
        "red_c_in": red_c_in,
        "s_init": s_init,
        "c_init": c_init,
        "dec": dec,
        "attention": np.array(attn_rows),
        "ctx": ctx_rows,
        "u": u_rows,
        "logits": np.array(logit_rows),
    }


def reference_forward(params: dict[str, np.ndarray], src: list[int], dec_inputs: list[int]) -> dict:
    """Forward of the spec: ``{"logits": [T, V], "attention": [T, S]}`` (float64)."""
    fw = _forward_full(params, src, dec_inputs)
    return {"logits": fw["logits"], "attention": fw["attention"]}


# --------------------------------------------------------------------------------------
# relevance rules
# --------------------------------------------------------------------------------------
def _eps_linear(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, r_out: np.ndarray, eps: float
) -> tuple[np.ndarray, float]:
    """LRP "Linear map": z_j = sum_i x_i W_ji + b_j.

    R_i = sum_j x_i W_ji / (z_j + eps sgn(z_j)) R_j; absorbed
    = sum_j (b_j + eps sgn(z_j)) / (z_j + eps sgn(z_j)) R_j (bias and stabilizer share,
    computed directly, not as a residual). ``b=None`` means no bias.
    """
    n_out, n_in = w.shape
    r_in = np.zeros(n_in)
    absorbed = 0.0
    for j in range(n_out):
        b_j = 0.0 if b is None else float(b[j])
        z_j = b_j
        for i in range(n_in):
            z_j += x[i] * w[j, i]
        denom = z_j + eps * _sgn(z_j)
        for i in range(n_in):
            r_in[i] += x[i] * w[j, i] / denom * r_out[j]
        absorbed += (b_j + eps * _sgn(z_j)) / denom * r_out[j]
    return r_in, absorbed


def _lstm_step_lrp(
    cache: dict[str, np.ndarray],
    w_ih: np.ndarray,
    w_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    r_h: np.ndarray,
    r_c: np.ndarray,
    eps: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Relevance through one LSTM step (Arras et al. 2017 rules of the spec).

    r_h: relevance on h of this step; r_c: relevance on c of this step that arrives from
    elsewhere (the next step's cell sum, or reduce_c). Returns (R(x), R(h_prev), R(c_prev),
    absorbed).
    """
    n = cache["h"].shape[0]
    d = cache["x"].shape[0]

    # LRP "Products": h = o * tanh(c): all relevance to the signal tanh(c), none to o;
    # LRP "Elementwise nonlinearities": tanh(c) passes it to c unchanged.
    r_c_total = np.zeros(n)
    for j in range(n):
        r_c_total[j] = r_c[j] + r_h[j]

    # LRP "Cell sum": c = f * c_prev + i * g is a sum of two terms with no bias.
    r_c_prev = np.zeros(n)
    r_g = np.zeros(n)
    absorbed = 0.0
    for j in range(n):
        c_j = cache["c"][j]
        denom = c_j + eps * _sgn(c_j)
        # f * c_prev passes all of its relevance to c_prev (signal-take-all)
        r_c_prev[j] = cache["f"][j] * cache["c_prev"][j] / denom * r_c_total[j]
        # i * g: all to the signal g, none to the gate i
        r_g[j] = cache["i"][j] * cache["g"][j] / denom * r_c_total[j]
        absorbed += eps * _sgn(c_j) / denom * r_c_total[j]

    # LRP "Elementwise nonlinearities": g = tanh(pre_g) passes relevance through.
    r_pre_g = r_g

    # LRP "Linear map" for an LSTM pre-activation: inputs [e; h_prev], bias b_ih + b_hh.
    # Only the g rows (2n..3n) receive relevance; the gate rows i, f, o receive none.
    rows = slice(2 * n, 3 * n)
    w_g = np.concatenate([w_ih[rows, :], w_hh[rows, :]], axis=1)
    b_g = b_ih[rows] + b_hh[rows]
    inp = np.concatenate([cache["x"], cache["h_prev"]])
    r_inp, ab_lin = _eps_linear(inp, w_g, b_g, r_pre_g, eps)
    absorbed += ab_lin
    return r_inp[:d], r_inp[d:], r_c_prev, absorbed


def _lstm_weights(params: dict[str, np.ndarray], prefix: str, suffix: str) -> list[np.ndarray]:
    return [
        _p(params, f"{prefix}{k}{suffix}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


# --------------------------------------------------------------------------------------
# LRP
# --------------------------------------------------------------------------------------
def reference_lrp(
    params: dict[str, np.ndarray],
    src: list[int],
    dec_inputs: list[int],
    step: int,
    target: int,
    eps: float,
) -> dict:
    """Epsilon-LRP of ``logits_step[target]`` (spec, "Epsilon-LRP").

    Returns ``{"logit": float, "source": [S], "decoder_inputs": [step + 1],
    "absorbed": float}``; ``logit == sum(source) + sum(decoder_inputs) + absorbed``.
    """
    if not 0 <= step < len(dec_inputs):
        raise ValueError(f"step {step} outside 0..{len(dec_inputs) - 1}")
    if eps <= 0:
        raise ValueError("eps must be > 0")
    fw = _forward_full(params, src, dec_inputs)
    n_src = len(src)
    hid = fw["enc_f"][0]["h"].shape[0]  # H
    hid_dec = fw["dec"][0]["h"].shape[0]  # Hd
    logit = float(fw["logits"][step, target])

    absorbed = 0.0
    r_source = np.zeros(n_src)
    r_dec_inputs = np.zeros(step + 1)

    # ---- Output: R = logits_t[w] on that single logit; through out_vocab row w to u_t
    w_ov = _p(params, "out_vocab.weight")
    b_ov = _p(params, "out_vocab.bias")
    u_t = fw["u"][step]
    r_u, ab = _eps_linear(
        u_t, w_ov[target : target + 1, :], b_ov[target : target + 1], np.array([logit]), eps
    )
    absorbed += ab

    # ---- Output: through out_hidden (no nonlinearity) to [s_t; ctx_t]
    s_t = fw["dec"][step]["h"]
    ctx_t = fw["ctx"][step]
    r_sc, ab = _eps_linear(
        np.concatenate([s_t, ctx_t]),
        _p(params, "out_hidden.weight"),
        _p(params, "out_hidden.bias"),
        r_u,
        eps,
    )
    absorbed += ab
    r_s = r_sc[:hid_dec]
    r_ctx = r_sc[hid_dec:]

    # ---- Attention: a_ti constants; ctx_t[j] = sum_i a_ti h_i[j], linear map without bias.
    a_t = fw["attention"][step]
    enc_h = fw["enc_h"]
    r_enc_h = [np.zeros(2 * hid) for _ in range(n_src)]
    for j in range(2 * hid):
        z_j = 0.0
        for i in range(n_src):
            z_j += a_t[i] * enc_h[i][j]
        denom = z_j + eps * _sgn(z_j)
        for i in range(n_src):
            r_enc_h[i][j] += a_t[i] * enc_h[i][j] / denom * r_ctx[j]
        absorbed += eps * _sgn(z_j) / denom * r_ctx[j]

    # ---- Decoder recursion: steps t..0. cd_t of the explained step is not used by
    # logits_t, so its relevance starts at zero.
    wd = _lstm_weights(params, "decoder.", "")
    r_h_carry = r_s
    r_c_carry = np.zeros(hid_dec)
    for t in range(step, -1, -1):
        r_x, r_h_carry, r_c_carry, ab = _lstm_step_lrp(fw["dec"][t], *wd, r_h_carry, r_c_carry, eps)
        absorbed += ab
        # LRP "Words": embedding relevance summed over its d dimensions
        r_dec_inputs[t] = float(np.sum(r_x))
    r_s_init, r_c_init = r_h_carry, r_c_carry  # relevance of s_{-1}, c_{-1}

    # ---- s_{-1} = relu(reduce_h(.)), c_{-1} = relu(reduce_c(.)): relu passes relevance
    # through to the pre-activation, then the epsilon rule (bias absorbed).
    r_red_h_in, ab = _eps_linear(
        fw["red_h_in"], _p(params, "reduce_h.weight"), _p(params, "reduce_h.bias"), r_s_init, eps
    )
    absorbed += ab
    r_red_c_in, ab = _eps_linear(
        fw["red_c_in"], _p(params, "reduce_c.weight"), _p(params, "reduce_c.bias"), r_c_init, eps
    )
    absorbed += ab

    # ---- Encoder. Extra relevance on the final states: [hf_{S-1}; hb_0] and [cf_{S-1}; cb_0].
    r_hf_ext = [r_enc_h[i][:hid].copy() for i in range(n_src)]
    r_hb_ext = [r_enc_h[i][hid:].copy() for i in range(n_src)]
    r_cf_ext = [np.zeros(hid) for _ in range(n_src)]
    r_cb_ext = [np.zeros(hid) for _ in range(n_src)]
    r_hf_ext[n_src - 1] += r_red_h_in[:hid]
    r_hb_ext[0] += r_red_h_in[hid:]
    r_cf_ext[n_src - 1] += r_red_c_in[:hid]
    r_cb_ext[0] += r_red_c_in[hid:]

    # forward direction ran i = 0..S-1, so its relevance pass runs i = S-1..0
    wf = _lstm_weights(params, "encoder.", "_l0")
    r_h_carry = np.zeros(hid)
    r_c_carry = np.zeros(hid)
    for i in range(n_src - 1, -1, -1):
        r_x, r_h_carry, r_c_carry, ab = _lstm_step_lrp(
            fw["enc_f"][i], *wf, r_hf_ext[i] + r_h_carry, r_cf_ext[i] + r_c_carry, eps
        )
        absorbed += ab
        r_source[i] += float(np.sum(r_x))
    # the zero initial state gets exactly nothing (its inputs are zero)
    assert not np.any(r_h_carry) and not np.any(r_c_carry)

    # backward direction ran i = S-1..0, so its relevance pass runs i = 0..S-1
    wb = _lstm_weights(params, "encoder.", "_l0_reverse")
    r_h_carry = np.zeros(hid)
    r_c_carry = np.zeros(hid)
    for i in range(n_src):
        r_x, r_h_carry, r_c_carry, ab = _lstm_step_lrp(
            fw["enc_b"][i], *wb, r_hb_ext[i] + r_h_carry, r_cb_ext[i] + r_c_carry, eps
        )
        absorbed += ab
        r_source[i] += float(np.sum(r_x))
    assert not np.any(r_h_carry) and not np.any(r_c_carry)

    return {
        "logit": logit,
        "source": r_source,
        "decoder_inputs": r_dec_inputs,
        "absorbed": float(absorbed),
    }
