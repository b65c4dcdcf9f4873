"""Batched greedy decoding and teacher-forced scoring on perturbed inputs.

The summarizer's own :func:`~saliency_repro.summarize.decode.greedy_decode` takes token ids only;
the frozen-attention variant also needs zeroed input embeddings and explicit encoder lengths
(positions kept aligned with the frozen weights, see :mod:`.deletion`). These functions drive
the same model API (:meth:`Summarizer.encode` with ``src_embeddings``/``lengths``,
:meth:`Summarizer.step` with ``attention``) with exactly the greedy rule of ``greedy_decode``
([STOP] forbidden before ``min_length``, at most ``max_length`` words), vectorized over the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from saliency_repro.counterfactual.deletion import Perturbed
from saliency_repro.summarize.model import Summarizer
from saliency_repro.summarize.text import PAD_ID, START_ID, STOP_ID


def encode_inputs(
    model: Summarizer, items: Sequence[Perturbed], device: str | torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Padded ids [B, S], input embeddings [B, S, d] (zeroed where asked) and lengths [B]."""
    width = max(len(p.ids) for p in items)
    src = torch.full((len(items), width), PAD_ID, dtype=torch.long)
    keep = torch.ones(len(items), width)
    for b, p in enumerate(items):
        src[b, : len(p.ids)] = torch.as_tensor(p.ids, dtype=torch.long)
        if p.zero:
            keep[b, p.zero] = 0.0
    src = src.to(device)
    emb = model.embedding(src) * keep.to(device=device, dtype=model.embedding.weight.dtype)[..., None]
    lengths = torch.tensor([p.length for p in items], dtype=torch.long)
    return src, emb, lengths


@torch.no_grad()
def greedy(
    model: Summarizer,
    items: Sequence[Perturbed],
    min_length: int,
    max_length: int,
    attention: torch.Tensor | None = None,
) -> tuple[list[list[int]], list[bool], torch.Tensor]:
    """Greedy summaries of a batch: (word ids without [START]/[STOP], stopped flags, attention
    [B, steps, S] of the steps taken).

    ``attention`` [B, T, S] freezes the weights of the first T steps (all rows share T); later
    steps compute attention over the unmasked positions.
    """
    device = next(model.parameters()).device
    src, emb, lengths = encode_inputs(model, items, device)
    enc = model.encode(src, lengths, emb)
    B = src.shape[0]
    y = torch.full((B,), START_ID, dtype=torch.long, device=device)
    state = enc.init
    out = torch.full((B, max(1, max_length)), PAD_ID, dtype=torch.long, device=device)
    n_tok = torch.zeros(B, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    stopped = torch.zeros(B, dtype=torch.bool, device=device)
    attns = []
    for t in range(max_length + 1):
        frozen = None
        if attention is not None and t < attention.shape[1]:
            frozen = attention[:, t].to(device)
        logits, state, a = model.step(y, state, enc, frozen)
        attns.append(a)
        if t == max_length:
            break
        lp = torch.log_softmax(logits.float(), dim=-1)
        if t < min_length:
            lp[:, STOP_ID] = float("-inf")
        y = lp.argmax(-1)
        is_stop = (y == STOP_ID) & ~done
        rows = (~done & ~is_stop).nonzero().squeeze(1)
        out[rows, n_tok[rows]] = y[rows]
        n_tok[rows] += 1
        stopped |= is_stop
        done |= is_stop
        if bool(done.all()):
            break
    toks = out.cpu().tolist()
    n = n_tok.cpu().tolist()
    return [toks[b][: n[b]] for b in range(B)], stopped.cpu().tolist(), torch.stack(attns, 1).cpu()


def decoder_io(summary: Sequence[int], stopped: bool) -> tuple[list[int], list[int]]:
    """Decoder inputs and targets that reproduce a decoded summary under teacher forcing:
    targets = summary (+ [STOP] if it stopped), inputs = [START] + targets[:-1]."""
    targets = [int(t) for t in summary] + ([STOP_ID] if stopped else [])
    if not targets:  # an empty summary that never stopped cannot happen with max_length >= 1
        targets = [STOP_ID]
    return [START_ID] + targets[:-1], targets


def teacher_forced(
    model: Summarizer,
    items: Sequence[Perturbed],
    summary: Sequence[int],
    stopped: bool,
    attention: torch.Tensor | None = None,
    src_embeddings: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probability [B] of one given summary for every input of the batch, and the
    teacher-forced attention [B, T, S]. Differentiable when ``src_embeddings`` requires grad
    (gradient attributions); ``attention`` [B or 1, T, S] freezes every step."""
    logits, att, tgt = _teacher_forced(model, items, summary, stopped, attention, src_embeddings)
    lp = torch.log_softmax(logits.double(), dim=-1).gather(-1, tgt[..., None]).squeeze(-1)
    return lp.sum(-1), att


def _teacher_forced(
    model: Summarizer, items: Sequence[Perturbed], summary: Sequence[int], stopped: bool,
    attention: torch.Tensor | None, src_embeddings: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits [B, T, V], attention [B, T, S] and target ids [B, T] of one summary forced on
    every input of the batch."""
    device = next(model.parameters()).device
    src, emb, lengths = encode_inputs(model, items, device)
    if src_embeddings is not None:
        emb = src_embeddings
    dec_in, targets = decoder_io(summary, stopped)
    B = src.shape[0]
    dec = torch.tensor([dec_in], dtype=torch.long, device=device).expand(B, -1)
    tgt = torch.tensor([targets], dtype=torch.long, device=device).expand(B, -1)
    if attention is not None:
        attention = attention.to(device).expand(B, -1, -1)
    logits, att = model(src, dec, lengths=lengths, attention=attention, src_embeddings=emb)
    return logits, att, tgt


def target_logits(
    model: Summarizer, items: Sequence[Perturbed], summary: Sequence[int], stopped: bool,
    src_embeddings: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sum over steps of the logit of each summary word [B] (the quantity LRP explains, summed
    over output words), under teacher forcing."""
    logits, _, tgt = _teacher_forced(model, items, summary, stopped, None, src_embeddings)
    picked = logits.gather(-1, tgt[..., None]).squeeze(-1)
    return picked[:, : max(1, len(summary))].sum(-1)  # the words, not [STOP] (as LRP)
