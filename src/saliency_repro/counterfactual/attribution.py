"""Rankings of the input words by importance, for LRP and its alternatives.

Every method gives one score per input token of the original article; the top-k scores are the
"important" words (ties: earlier position). Methods (config ``counterfactual.methods``):

* ``lrp``: the summarizer part's epsilon-LRP maps summed over the output words of the summary
  (the [STOP] map, if the LRP part explains it, is not included): the relevance of an input word
  for the whole summary. ``relevance_sign``: ``signed`` (default) ranks words by their net
  positive contribution, the words the explanation says *support* the summary, which is what the
  deletion check tests; ``abs`` ranks by magnitude, so words with large negative relevance
  (evidence against the generated words) count as important too.
* ``lrp_word``: the map of a single output word (step ``lrp_word_step``, clamped to the summary),
  the paper's per-word maps.
* ``attention``: attention weights of the original run summed over the decoding steps
  (non-negative, the sign option does not apply).
* ``input_x_grad`` and ``integrated_gradients``: Captum's ``InputXGradient`` and
  ``IntegratedGradients`` on the input word embeddings, summed over embedding dimensions. The
  explained quantity (``gradient_target``) is the teacher-forced log-probability of the original
  summary ([STOP] included when it stopped; default), or the sum of the generated words' logits
  (the quantity the summed LRP map explains). IG's baseline is the all-zero embedding (the
  ``[PAD]`` embedding), with ``ig_steps`` Gauss-Legendre points. The sign option applies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from saliency_repro.counterfactual.decoding import target_logits, teacher_forced
from saliency_repro.counterfactual.deletion import Perturbed
from saliency_repro.summarize.model import Summarizer


def signed_or_abs(scores: np.ndarray, sign: str) -> np.ndarray:
    """Apply the ``relevance_sign`` option."""
    scores = np.asarray(scores, dtype=float)
    return np.abs(scores) if sign == "abs" else scores


def lrp_scores(maps: np.ndarray, sign: str, step: int | None = None) -> np.ndarray:
    """Summed (``step`` None) or single-word LRP map [S] from per-word maps [T, S]."""
    maps = np.asarray(maps, dtype=float)
    if step is not None:
        return signed_or_abs(maps[min(step, len(maps) - 1)], sign)
    return signed_or_abs(maps.sum(axis=0), sign)


def attention_scores(attention: np.ndarray) -> np.ndarray:
    """Attention [T, S] summed over steps."""
    return np.asarray(attention, dtype=float).sum(axis=0)


@contextlib.contextmanager
def _grad_mode(model: Summarizer) -> Iterator[None]:
    """Gradients through the LSTMs: cuDNN's RNN backward needs training mode; the summarizer
    has no dropout or normalization, so train() changes nothing else. Restored afterwards."""
    was_training = model.training
    model.train()
    try:
        with torch.enable_grad():
            yield
    finally:
        model.train(was_training)


def gradient_scores(
    model: Summarizer,
    src_ids: Sequence[int],
    summary: Sequence[int],
    stopped: bool,
    method: str,
    target: str = "logprob",
    ig_steps: int = 50,
    ig_internal_batch_size: int = 50,
) -> np.ndarray:
    """Captum InputXGradient / IntegratedGradients on the input embeddings -> one score per token."""
    from captum.attr import InputXGradient, IntegratedGradients

    item = Perturbed(list(src_ids), [], len(src_ids))
    device = next(model.parameters()).device

    def forward(emb: torch.Tensor) -> torch.Tensor:
        items = [item] * emb.shape[0]
        if target == "logit":
            return target_logits(model, items, summary, stopped, src_embeddings=emb)
        return teacher_forced(model, items, summary, stopped, src_embeddings=emb)[0].to(emb.dtype)

    with _grad_mode(model):
        emb0 = model.embedding(torch.tensor([list(src_ids)], device=device)).detach().requires_grad_()
        if method == "input_x_grad":
            attr = InputXGradient(forward).attribute(emb0)
        elif method == "integrated_gradients":
            attr = IntegratedGradients(forward).attribute(
                emb0, baselines=torch.zeros_like(emb0), n_steps=ig_steps,
                internal_batch_size=ig_internal_batch_size)
        else:
            raise ValueError(f"not a gradient method: {method!r}")
    return attr[0].sum(-1).detach().cpu().double().numpy()
