"""Greedy and beam-search decoding, and teacher-forced scoring of a given summary.

All three accept a source that the caller may have modified (deleted, [UNK]- or [PAD]-replaced
words) and optional frozen attention weights, which is what the counterfactual check needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from saliency_repro.summarize.model import Summarizer
from saliency_repro.summarize.text import PAD_ID, START_ID, STOP_ID


@dataclass
class Hypothesis:
    """A decoded summary: word ids (no [START], no [STOP]), total log-probability, attention
    [len(tokens) (+1 if stopped), S], and whether it ended with [STOP]."""

    tokens: list[int]
    log_prob: float
    attention: torch.Tensor
    stopped: bool

    def score(self, length_norm: bool) -> float:
        n = len(self.tokens) + int(self.stopped)
        return self.log_prob / max(1, n) if length_norm else self.log_prob


def pad_batch(seqs: Sequence[Sequence[int]], device: str | torch.device = "cpu") -> torch.Tensor:
    """Right-pad id lists with [PAD] into a [B, L] long tensor."""
    width = max(1, max((len(s) for s in seqs), default=1))
    out = torch.full((len(seqs), width), PAD_ID, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return out.to(device)


def _frozen(attention: torch.Tensor | None, t: int) -> torch.Tensor | None:
    if attention is None or t >= attention.shape[-2]:
        return None
    return attention[..., t, :]


@torch.no_grad()
def greedy_decode(
    model: Summarizer,
    sources: Sequence[Sequence[int]],
    min_length: int = 35,
    max_length: int = 100,
    attention: torch.Tensor | None = None,
) -> list[Hypothesis]:
    """Batched greedy decoding. [STOP] is forbidden before ``min_length`` words; decoding ends at
    [STOP] or after ``max_length`` words. ``attention`` [B, T, S] freezes the first T steps."""
    device = next(model.parameters()).device
    src = pad_batch(sources, device)
    enc = model.encode(src)
    B = src.shape[0]
    y = torch.full((B,), START_ID, dtype=torch.long, device=device)
    state = enc.init
    tokens = [[] for _ in range(B)]
    logp = torch.zeros(B, dtype=torch.float64)
    attns: list[torch.Tensor] = []
    done = torch.zeros(B, dtype=torch.bool, device=device)
    stopped = [False] * B
    for t in range(max_length + 1):
        logits, state, a = model.step(y, state, enc, _frozen(attention, t))
        lp = torch.log_softmax(logits.float(), dim=-1)
        if t < min_length:
            lp[:, STOP_ID] = float("-inf")
        if t == max_length:  # the summary is full: nothing but stopping is recorded
            break
        y = lp.argmax(-1)
        attns.append(a.detach().cpu())
        for b in range(B):
            if done[b]:
                continue
            logp[b] += float(lp[b, y[b]])
            if int(y[b]) == STOP_ID:
                stopped[b] = True
                done[b] = True
            else:
                tokens[b].append(int(y[b]))
        if bool(done.all()):
            break
    att = torch.stack(attns, dim=1) if attns else torch.zeros(B, 0, src.shape[1])
    return [Hypothesis(tokens[b], float(logp[b]), att[b, : len(tokens[b]) + int(stopped[b]),
                                                         : len(sources[b])], stopped[b])
            for b in range(B)]


@torch.no_grad()
def beam_search(
    model: Summarizer,
    source: Sequence[int],
    beam_size: int = 4,
    min_length: int = 35,
    max_length: int = 100,
    length_norm: bool = True,
    attention: torch.Tensor | None = None,
) -> Hypothesis:
    """Beam search for one article (See et al.: rank finished hypotheses by mean log-probability
    when ``length_norm``). [STOP] is forbidden before ``min_length`` words; a hypothesis reaching
    ``max_length`` words is finished. ``attention`` [T, S] freezes the first T steps."""
    device = next(model.parameters()).device
    src = pad_batch([source], device)
    enc0 = model.encode(src)
    beams = [Hypothesis([], 0.0, torch.zeros(0, len(source)), False)]
    state = enc0.init
    finished: list[Hypothesis] = []
    for t in range(max_length + 1):
        k = len(beams)
        enc = enc0.index_select(torch.zeros(k, dtype=torch.long, device=device))
        y = torch.tensor([h.tokens[-1] if h.tokens else START_ID for h in beams], device=device)
        frozen = _frozen(attention, t)
        frozen = None if frozen is None else frozen[None, :].expand(k, -1).to(device)
        logits, state, a = model.step(y, state, enc, frozen)
        lp = torch.log_softmax(logits.float(), dim=-1).cpu()
        a = a.detach().cpu()
        if t < min_length:
            lp[:, STOP_ID] = float("-inf")
        if t == max_length:
            finished.extend(beams)
            beams = []
            break
        total = torch.tensor([h.log_prob for h in beams])[:, None] + lp
        flat = total.flatten()
        n_cand = min(flat.numel(), 2 * beam_size)
        top = torch.topk(flat, n_cand)
        new_beams, rows = [], []
        for score, idx in zip(top.values.tolist(), top.indices.tolist(), strict=True):
            b, w = divmod(idx, lp.shape[1])
            if score == float("-inf"):
                continue
            att = torch.cat([beams[b].attention, a[b: b + 1]], dim=0)
            if w == STOP_ID:
                finished.append(Hypothesis(list(beams[b].tokens), score, att, True))
            else:
                new_beams.append(Hypothesis(beams[b].tokens + [w], score, att, False))
                rows.append(b)
            if len(new_beams) == beam_size:
                break
        if len(finished) >= beam_size or not new_beams:
            beams = new_beams
            break
        idx_t = torch.tensor(rows, device=device)
        state = (state[0][idx_t], state[1][idx_t])
        beams = new_beams
    pool = finished if finished else beams
    return max(pool, key=lambda h: h.score(length_norm))


@torch.no_grad()
def sequence_log_prob(
    model: Summarizer,
    sources: Sequence[Sequence[int]],
    summaries: Sequence[Sequence[int]],
    attention: torch.Tensor | None = None,
    add_stop: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability of each given summary (word ids) under teacher forcing.

    Returns ``(total [B], per_token [B, L])`` (padding positions 0). With ``add_stop`` the final
    [STOP] counts as a predicted token. ``attention`` [B, L, S] freezes the attention weights.
    """
    device = next(model.parameters()).device
    targets = [list(s) + ([STOP_ID] if add_stop else []) for s in summaries]
    dec_inputs = [[START_ID] + t[:-1] for t in targets]
    src = pad_batch(sources, device)
    logits, _ = model(src, pad_batch(dec_inputs, device), attention=attention)
    tgt = pad_batch(targets, device)
    lp = torch.log_softmax(logits.double(), dim=-1).gather(-1, tgt[..., None]).squeeze(-1)
    mask = torch.zeros_like(lp, dtype=torch.bool)
    for i, t in enumerate(targets):
        mask[i, : len(t)] = True
    lp = lp * mask
    return lp.sum(-1).cpu(), lp.cpu()
