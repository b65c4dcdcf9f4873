"""See et al.'s (2017) baseline: bidirectional LSTM encoder, LSTM decoder, Bahdanau attention.

The module names and the forward equations are those of ``docs/SUMMARIZER_MODEL.md`` (the
``state_dict`` keys are the contract with the LRP code and its independent reference). No
pointer, no coverage, no input feeding.

The decoder is exposed step by step (:meth:`Summarizer.encode`, :meth:`Summarizer.step`) so that
the decoding and the counterfactual check can (a) run on a modified source, (b) replace the
attention weights by given ones ("frozen attention") and (c) score a given summary under teacher
forcing (:meth:`Summarizer.forward`).

Speed: because the decoder has no input feeding, its states under teacher forcing depend only on
the decoder inputs and the initial state, never on the attention. :meth:`Summarizer.forward`
therefore runs the decoder LSTM over all steps in one fused ``torch.lstm`` call (with the
``nn.LSTMCell`` weights, so the ``state_dict`` keys stay those of the spec) and computes the
attention, contexts and output layers of all steps as batched tensor operations.
:meth:`Summarizer.forward_stepwise` keeps the literal step-by-step loop (the definition the tests
compare the batched pass against).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from saliency_repro.summarize.text import PAD_ID


@dataclass(frozen=True)
class ModelConfig:
    """The ``summarizer.model`` config section (See et al.: 128 / 256 / 256)."""

    vocab_size: int
    embedding_dim: int = 128
    hidden_dim: int = 256
    decoder_hidden_dim: int = 256
    attention_dim: int = 512

    @classmethod
    def from_config(cls, section: dict[str, Any], vocab_size: int) -> ModelConfig:
        return cls(vocab_size=vocab_size, **section)


@dataclass
class Encoded:
    """Encoder output for a batch: states, attention mask, precomputed ``attn_enc(h)``, initial state."""

    states: torch.Tensor  # [B, S, 2H]
    mask: torch.Tensor  # [B, S] bool, True = may be attended
    enc_proj: torch.Tensor  # [B, S, A]
    init: tuple[torch.Tensor, torch.Tensor]  # s_{-1}, c_{-1}: [B, Hd]

    def index_select(self, idx: torch.Tensor) -> Encoded:
        """The rows ``idx`` (beam search expands one article into several hypotheses)."""
        return Encoded(self.states[idx], self.mask[idx], self.enc_proj[idx],
                       (self.init[0][idx], self.init[1][idx]))


def source_lengths(src: torch.Tensor) -> torch.Tensor:
    """Length of each row: up to its last non-[PAD] token (a [PAD] inside a row is kept, so a
    word "deleted by padding" keeps its position)."""
    nonpad = src != PAD_ID
    pos = torch.arange(1, src.shape[1] + 1, device=src.device).expand_as(src)
    return (pos * nonpad).max(dim=1).values.clamp(min=1)


def run_lstm_by_length(x: torch.Tensor, lengths: torch.Tensor, params: list[torch.Tensor],
                       training: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One LSTM direction over right-padded rows of different lengths, exactly as over packed
    rows: outputs [B, S, H] (zero after each row's length) and each row's state (h, c) [B, H]
    after its last real input.

    Why not ``pack_padded_sequence``: on CPU, autograd through a packed LSTM whose rows differ in
    length slices the packed data once per time step and each slice's backward writes a zero
    tensor of the full packed size, so the backward pass grows with (length)^2 (measured: 30x
    slower than unpacked for 64 rows of 300 steps when a single row is one step shorter). Here
    the rows are sorted by length and the fused kernel runs once per stretch of time in which the
    same rows are still active, carrying the state across stretches: exactly the packed
    computation, no step on padding, and as many kernel calls as distinct lengths.
    """
    B, S, _ = x.shape
    H = params[1].shape[1]
    lens = lengths.to("cpu", torch.long).clamp(1, S)
    order = torch.argsort(lens, descending=True, stable=True)
    ls = lens[order].tolist()
    xs = x[order.to(x.device)]
    h = x.new_zeros(1, B, H)
    c = x.new_zeros(1, B, H)
    outs, h_fin, c_fin = [], [], []
    start, active = 0, B
    for end in sorted(set(ls)):
        o, h_new, c_new = torch.lstm(xs[:active, start:end].contiguous(),
                                     (h[:, :active].contiguous(), c[:, :active].contiguous()), params,
                                     True, 1, 0.0, training, False, True)
        outs.append(torch.nn.functional.pad(o, (0, 0, 0, 0, 0, B - active)))
        still = sum(1 for n in ls if n > end)  # rows longer than `end` (the first ones, sorted)
        h_fin.append(h_new[0, still:active])
        c_fin.append(c_new[0, still:active])
        h, c, start, active = h_new, c_new, end, still
    out = torch.cat(outs, dim=1)
    if out.shape[1] < S:
        out = torch.nn.functional.pad(out, (0, 0, 0, S - out.shape[1]))
    # rows finish from the shortest to the longest: the final states are in reversed sorted order
    h_n = torch.cat(h_fin[::-1], dim=0)
    c_n = torch.cat(c_fin[::-1], dim=0)
    inverse = torch.argsort(order).to(x.device)
    return out[inverse], h_n[inverse], c_n[inverse]


def reverse_within_length(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` [B, S, ...] with their first ``lengths[b]`` entries reversed and the
    padding left in place (its own inverse): the backward direction of the encoder reads row b
    from position lengths[b] - 1 down to 0."""
    B, S = x.shape[:2]
    pos = torch.arange(S, device=x.device)[None, :].expand(B, S)
    ln = lengths.to(x.device)[:, None]
    idx = torch.where(pos < ln, ln - 1 - pos, pos)
    return x.gather(1, idx.reshape(B, S, *([1] * (x.dim() - 2))).expand_as(x))


class Summarizer(nn.Module):
    """The seq2seq-with-attention model; see the module docstring for the contract."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d, h, hd, a = cfg.embedding_dim, cfg.hidden_dim, cfg.decoder_hidden_dim, cfg.attention_dim
        self.embedding = nn.Embedding(cfg.vocab_size, d, padding_idx=PAD_ID)
        self.encoder = nn.LSTM(d, h, batch_first=True, bidirectional=True)
        self.reduce_h = nn.Linear(2 * h, hd)
        self.reduce_c = nn.Linear(2 * h, hd)
        self.decoder = nn.LSTMCell(d, hd)
        self.attn_enc = nn.Linear(2 * h, a, bias=False)
        self.attn_dec = nn.Linear(hd, a)
        self.attn_v = nn.Linear(a, 1, bias=False)
        self.out_hidden = nn.Linear(hd + 2 * h, hd)
        self.out_vocab = nn.Linear(hd, cfg.vocab_size)

    def encode(
        self,
        src: torch.Tensor,
        lengths: torch.Tensor | None = None,
        src_embeddings: torch.Tensor | None = None,
    ) -> Encoded:
        """Run the encoder on ids ``src`` [B, S] (right-padded with [PAD]).

        ``src_embeddings`` [B, S, d] replaces ``E[src]`` (for gradient attributions on the input
        embeddings, or to zero a deleted word's embedding); ``src`` still gives the mask.
        """
        if lengths is None:
            lengths = source_lengths(src)
        emb = self.embedding(src) if src_embeddings is None else src_embeddings
        lengths = lengths.to("cpu", torch.long)
        e = self.encoder
        fwd, hf, cf = run_lstm_by_length(
            emb, lengths, [e.weight_ih_l0, e.weight_hh_l0, e.bias_ih_l0, e.bias_hh_l0], self.training)
        bwd, hb, cb = run_lstm_by_length(
            reverse_within_length(emb, lengths), lengths,
            [e.weight_ih_l0_reverse, e.weight_hh_l0_reverse, e.bias_ih_l0_reverse,
             e.bias_hh_l0_reverse], self.training)
        states = torch.cat([fwd, reverse_within_length(bwd, lengths)], dim=-1)
        # hf = forward state at the last real token (hf_{S-1}), hb = backward state at 0 (hb_0)
        s0 = torch.relu(self.reduce_h(torch.cat([hf, hb], dim=-1)))
        c0 = torch.relu(self.reduce_c(torch.cat([cf, cb], dim=-1)))
        pos = torch.arange(src.shape[1], device=src.device)[None, :]
        mask = (src != PAD_ID) & (pos < lengths.to(src.device)[:, None])
        return Encoded(states, mask, self.attn_enc(states), (s0, c0))

    def step(
        self,
        y: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor],
        enc: Encoded,
        attention: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
        """One decoder step: input ids ``y`` [B] -> logits [B, V], new state, attention [B, S].

        ``attention`` [B, S], if given, replaces the computed attention weights (frozen
        attention); the decoder state still evolves from the actual inputs.
        """
        s, c = self.decoder(self.embedding(y), state)
        if attention is None:
            score = self.attn_v(torch.tanh(enc.enc_proj + self.attn_dec(s)[:, None, :])).squeeze(-1)
            score = score.masked_fill(~enc.mask, float("-inf"))
            attention = torch.softmax(score, dim=-1)
        ctx = torch.bmm(attention[:, None, :].to(enc.states.dtype), enc.states).squeeze(1)
        logits = self.out_vocab(self.out_hidden(torch.cat([s, ctx], dim=-1)))
        return logits, (s, c), attention

    def decoder_states(self, dec_inputs: torch.Tensor, init: tuple[torch.Tensor, torch.Tensor]
                       ) -> torch.Tensor:
        """Decoder hidden states ``s_0..s_{T-1}`` [B, T, Hd] for teacher-forced inputs [B, T].

        One fused LSTM call over all steps with the weights of ``self.decoder`` (an
        ``nn.LSTMCell``: same gate order i, f, g, o and equations as ``nn.LSTM``); exact because
        the decoder has no input feeding. Trailing [PAD] inputs only produce states after the
        real ones (a forward recursion), which the callers mask out.
        """
        emb = self.embedding(dec_inputs)
        cell = self.decoder
        # (under CUDA autocast the reduce layers return half precision; the LSTM wants one dtype)
        h0, c0 = (x[None].to(emb.dtype).contiguous() for x in init)
        # torch.lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional,
        # batch_first) -> (output, h_n, c_n); the function behind nn.LSTM.forward
        return torch.lstm(emb, (h0, c0), [cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh],
                          True, 1, 0.0, self.training, False, True)[0]

    # elements of the [B, T, S, A] attention pre-activation computed at once: a few decoder
    # steps per chunk keep each elementwise pass in the CPU cache (measured: one chunk of all
    # steps is about 2x slower on CPU than chunks of ~2M elements) and bound the memory
    ATTENTION_CHUNK_ELEMENTS = 1 << 21

    def attend(self, s: torch.Tensor, enc: Encoded, attention: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention [B, T, S] and contexts [B, T, 2H] of decoder states ``s`` [B, T, Hd].

        ``attention`` [B, T', S] replaces the weights of the first T' steps (frozen attention);
        only the remaining steps are computed.
        """
        B, T, _ = s.shape
        S = enc.states.shape[1]
        n_frozen = 0 if attention is None else min(T, attention.shape[1])
        parts = [attention[:, :n_frozen].to(enc.states.dtype)] if n_frozen else []
        if n_frozen < T:
            dec_proj = self.attn_dec(s[:, n_frozen:])  # [B, T - T', A]
            chunk = max(1, self.ATTENTION_CHUNK_ELEMENTS // max(1, B * S * enc.enc_proj.shape[-1]))
            masked = ~enc.mask[:, None, :]
            for t0 in range(0, T - n_frozen, chunk):
                pre = torch.tanh(enc.enc_proj[:, None] + dec_proj[:, t0: t0 + chunk, None, :])
                score = self.attn_v(pre).squeeze(-1).masked_fill(masked, float("-inf"))
                parts.append(torch.softmax(score, dim=-1).to(enc.states.dtype))
        att = torch.cat(parts, dim=1) if len(parts) > 1 else parts[0]
        return att, torch.bmm(att, enc.states)

    def output_hidden(
        self,
        src: torch.Tensor,
        dec_inputs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        attention: torch.Tensor | None = None,
        src_embeddings: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced ``u_t = out_hidden([s_t; ctx_t])`` [B, T, Hd] and attention [B, T, S],
        all steps at once. Training applies ``out_vocab`` only to the non-padding rows of ``u``
        (:func:`saliency_repro.summarize.train.batch_loss`)."""
        enc = self.encode(src, lengths, src_embeddings)
        s = self.decoder_states(dec_inputs, enc.init)
        att, ctx = self.attend(s, enc, attention)
        return self.out_hidden(torch.cat([s, ctx], dim=-1)), att

    def forward(
        self,
        src: torch.Tensor,
        dec_inputs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        attention: torch.Tensor | None = None,
        src_embeddings: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced pass: logits [B, T, V] and attention [B, T, S], batched over time.

        ``attention`` [B, T', S] freezes the attention weights of the first T' steps (see
        :meth:`step`); later steps compute theirs. Same result as :meth:`forward_stepwise`.
        """
        u, att = self.output_hidden(src, dec_inputs, lengths, attention, src_embeddings)
        return self.out_vocab(u), att

    def forward_stepwise(
        self,
        src: torch.Tensor,
        dec_inputs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        attention: torch.Tensor | None = None,
        src_embeddings: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The literal definition of :meth:`forward`: one :meth:`step` per decoder input (the
        pre-batching implementation, kept as the reference the batched pass is tested against)."""
        enc = self.encode(src, lengths, src_embeddings)
        state = enc.init
        logits, attns = [], []
        for t in range(dec_inputs.shape[1]):
            frozen = attention[:, t] if attention is not None and t < attention.shape[1] else None
            lg, state, a = self.step(dec_inputs[:, t], state, enc, frozen)
            logits.append(lg)
            attns.append(a)
        return torch.stack(logits, dim=1), torch.stack(attns, dim=1)


def save_model(model: Summarizer, path: str, extra: dict[str, Any] | None = None) -> None:
    """Write weights plus the config needed to rebuild the model (atomic)."""
    from dataclasses import asdict

    from saliency_repro.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"config": asdict(model.cfg), "state_dict": model.state_dict(),
                    **(extra or {})}, tmp)


def load_model(path: str, device: str = "cpu") -> Summarizer:
    """Rebuild a model written by :func:`save_model`, in eval mode."""
    obj = torch.load(path, map_location=device, weights_only=False)
    model = Summarizer(ModelConfig(**obj["config"]))
    model.load_state_dict(obj["state_dict"])
    return model.to(device).eval()
