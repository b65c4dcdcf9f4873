"""See et al.'s (2017) baseline: bidirectional LSTM encoder, LSTM decoder, Bahdanau attention.

The module names and the forward equations are those of ``docs/SUMMARIZER_MODEL.md`` (the
``state_dict`` keys are the contract with the LRP code and its independent reference). No
pointer, no coverage, no input feeding.

The decoder is exposed step by step (:meth:`Summarizer.encode`, :meth:`Summarizer.step`) so that
the decoding and the counterfactual check can (a) run on a modified source, (b) replace the
attention weights by given ones ("frozen attention") and (c) score a given summary under teacher
forcing (:meth:`Summarizer.forward`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

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
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (h_n, c_n) = self.encoder(packed)
        states, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        # h_n[0] = forward state at the last real token (hf_{S-1}), h_n[1] = backward at 0 (hb_0)
        s0 = torch.relu(self.reduce_h(torch.cat([h_n[0], h_n[1]], dim=-1)))
        c0 = torch.relu(self.reduce_c(torch.cat([c_n[0], c_n[1]], dim=-1)))
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

    def forward(
        self,
        src: torch.Tensor,
        dec_inputs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        attention: torch.Tensor | None = None,
        src_embeddings: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced pass: logits [B, T, V] and attention [B, T, S].

        ``attention`` [B, T', S] freezes the attention weights of the first T' steps (see
        :meth:`step`); later steps compute theirs.
        """
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
