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
    out = torch.zeros(B, max(1, max_length), dtype=torch.long, device=device)
    n_tok = torch.zeros(B, dtype=torch.long, device=device)
    logp = torch.zeros(B, dtype=torch.float64, device=device)
    attns: list[torch.Tensor] = []
    done = torch.zeros(B, dtype=torch.bool, device=device)
    stopped = torch.zeros(B, dtype=torch.bool, device=device)
    # the bookkeeping is vectorized over the batch (no per-row Python loop per step)
    for t in range(max_length + 1):
        logits, state, a = model.step(y, state, enc, _frozen(attention, t))
        lp = torch.log_softmax(logits.float(), dim=-1)
        if t < min_length:
            lp[:, STOP_ID] = float("-inf")
        if t == max_length:  # the summary is full: nothing but stopping is recorded
            break
        y = lp.argmax(-1)
        attns.append(a.detach().cpu())
        live = ~done
        logp += torch.where(live, lp.gather(1, y[:, None]).squeeze(1).double(), 0.0)
        is_stop = (y == STOP_ID) & live
        rows = (live & ~is_stop).nonzero().squeeze(1)
        out[rows, n_tok[rows]] = y[rows]
        n_tok[rows] += 1
        stopped |= is_stop
        done |= is_stop
        if bool(done.all()):
            break
    att = torch.stack(attns, dim=1) if attns else torch.zeros(B, 0, src.shape[1])
    toks, n, stop, lps = out.cpu().tolist(), n_tok.cpu().tolist(), stopped.cpu().tolist(), logp.cpu().tolist()
    return [Hypothesis(toks[b][: n[b]], float(lps[b]), att[b, : n[b] + int(stop[b]), : len(sources[b])],
                       bool(stop[b]))
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
def beam_search_batch(
    model: Summarizer,
    sources: Sequence[Sequence[int]],
    beam_size: int = 4,
    min_length: int = 35,
    max_length: int = 100,
    length_norm: bool = True,
) -> list[Hypothesis]:
    """:func:`beam_search` of several articles at once: the same search per article (same
    candidates, same finishing rule), with one model step per time step for the live
    hypotheses of all articles together.

    Why: one decoder step of a single article's beams is a handful of rows, so its cost is
    reading the [V, Hd] output matrix and the per-call overhead; a batch of articles shares
    both. Results equal :func:`beam_search` per article (tests/test_summarize_speed.py).
    """
    device = next(model.parameters()).device
    n_art = len(sources)
    enc0 = model.encode(pad_batch(sources, device))
    beams = [[Hypothesis([], 0.0, torch.zeros(0, len(src)), False)] for src in sources]
    finished: list[list[Hypothesis]] = [[] for _ in range(n_art)]
    live = list(range(n_art))
    state = enc0.init
    enc, enc_rows = None, None
    for t in range(max_length + 1):
        if not live:
            break
        article_of = [a for a in live for _ in beams[a]]
        if article_of != enc_rows:  # the encoder rows change only when an article finishes
            enc = enc0.index_select(torch.tensor(article_of, device=device))
            enc_rows = article_of
        y = torch.tensor([h.tokens[-1] if h.tokens else START_ID for a in live for h in beams[a]],
                         device=device)
        logits, state, att = model.step(y, state, enc)
        lp = torch.log_softmax(logits.float(), dim=-1).cpu()
        att = att.detach().cpu()
        if t < min_length:
            lp[:, STOP_ID] = float("-inf")
        if t == max_length:
            for a in live:
                finished[a].extend(beams[a])
                beams[a] = []
            break
        # every live article's candidates (beam x word) ranked in one topk call; an article
        # with fewer beams is padded with -inf rows, which rank last and are skipped below
        V = lp.shape[1]
        k_max = max(len(beams[a]) for a in live)
        total = torch.full((len(live), k_max, V), float("-inf"))
        r0 = 0
        for j, a in enumerate(live):
            k = len(beams[a])
            total[j, :k] = torch.tensor([h.log_prob for h in beams[a]])[:, None] + lp[r0: r0 + k]
            r0 += k
        n_cand = min(k_max * V, 2 * beam_size)
        top_v, top_i = torch.topk(total.reshape(len(live), -1), n_cand, dim=1)
        top_v, top_i = top_v.tolist(), top_i.tolist()
        keep_rows: list[int] = []
        still_live = []
        r0 = 0
        for j, a in enumerate(live):
            k = len(beams[a])
            aa = att[r0: r0 + k, : len(sources[a])]
            new_beams, rows = [], []
            # topk of the padded row = topk of the article's own k x V candidates (the padding
            # is -inf), truncated to the 2 * beam_size that beam_search ranks
            cands = zip(top_v[j][: min(k * V, 2 * beam_size)], top_i[j], strict=False)
            for score, idx in cands:
                b, w = divmod(idx, V)
                if score == float("-inf"):
                    continue
                hist = torch.cat([beams[a][b].attention, aa[b: b + 1]], dim=0)
                if w == STOP_ID:
                    finished[a].append(Hypothesis(list(beams[a][b].tokens), score, hist, True))
                else:
                    new_beams.append(Hypothesis(beams[a][b].tokens + [w], score, hist, False))
                    rows.append(r0 + b)
                if len(new_beams) == beam_size:
                    break
            beams[a] = new_beams
            if len(finished[a]) < beam_size and new_beams:
                still_live.append(a)
                keep_rows.extend(rows)
            r0 += k
        live = still_live
        if live:
            idx_t = torch.tensor(keep_rows, device=device)
            state = (state[0][idx_t], state[1][idx_t])
    return [max(finished[a] if finished[a] else beams[a], key=lambda h: h.score(length_norm))
            for a in range(n_art)]


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
