"""Rankings of the input words by importance, for LRP and its alternatives: the summarizer's
methods behind the package's one attribution interface (:mod:`saliency_repro.attribution`;
registry task ``summarization``).

Every method gives one score per input token of the original article (``attribute(examples)
-> Attribution``); the top-k scores are the "important" words, chosen by the package's one
ranking rule with the sign policy ``counterfactual.relevance_sign`` (ties: earlier position).
The stored scores are the methods' own signed scores; the sign policy applies when ranking.
Methods (config ``counterfactual.methods``):

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
  ``[PAD]`` embedding), with ``ig_steps`` Gauss-Legendre points, through the package's one IG
  routine (:func:`saliency_repro.attribution.ig.integrated_gradients`), which records the
  completeness delta of every article. The sign option applies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from saliency_repro.attribution.core import Attribution
from saliency_repro.attribution.ig import integrated_gradients
from saliency_repro.attribution.registry import MethodSpec
from saliency_repro.counterfactual.decoding import target_logits, teacher_forced
from saliency_repro.counterfactual.deletion import Perturbed
from saliency_repro.summarize.model import Summarizer


@dataclass
class SummaryExample:
    """One article as the rankings see it: its source ids, the summary to explain (and whether
    it stopped), the attention of the original run ``[T, S]`` and the per-word LRP maps
    ``[T, S]`` (``None`` where no LRP method runs)."""

    src_ids: list[int]
    summary: list[int]
    stopped: bool
    attention: np.ndarray | None = None
    lrp_maps: np.ndarray | None = None


@dataclass
class SummarizerContext:
    """What the summarizer methods share: the model and the ``counterfactual`` settings."""

    model: Summarizer
    gradient_target: str = "logprob"
    ig_steps: int = 50
    ig_internal_batch_size: int = 50
    lrp_word_step: int = 0


class SummarizerMethod:
    def __init__(self, context: SummarizerContext, spec: MethodSpec, **options: Any) -> None:
        self.ctx = context
        self.spec = spec
        self.options = options

    def attribute(self, examples: Sequence[SummaryExample]) -> Attribution:
        return Attribution([np.asarray(self.score(e), dtype=float) for e in examples])

    def score(self, example: SummaryExample) -> np.ndarray:
        raise NotImplementedError


def _maps(example: SummaryExample) -> np.ndarray:
    if example.lrp_maps is None:
        raise ValueError("an LRP ranking needs the article's LRP maps")
    return np.asarray(example.lrp_maps, dtype=float)


class SummedLrp(SummarizerMethod):
    """The per-word LRP maps summed over the output words: relevance for the whole summary."""

    def score(self, example: SummaryExample) -> np.ndarray:
        return _maps(example).sum(axis=0)


class OneWordLrp(SummarizerMethod):
    """The map of output word ``lrp_word_step`` (clamped to the summary)."""

    def score(self, example: SummaryExample) -> np.ndarray:
        maps = _maps(example)
        return maps[min(self.ctx.lrp_word_step, len(maps) - 1)]


class SummedAttention(SummarizerMethod):
    """Attention weights of the original run summed over the decoding steps."""

    def score(self, example: SummaryExample) -> np.ndarray:
        if example.attention is None:
            raise ValueError("the attention ranking needs the article's attention weights")
        return np.asarray(example.attention, dtype=float).sum(axis=0)


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


class SummaryGradient(SummarizerMethod):
    """Captum gradient x input, or the package's IG, on the input word embeddings -> one score
    per token (summed over embedding dimensions). IG records ``ig_delta`` / ``ig_f_gap``."""

    def attribute(self, examples: Sequence[SummaryExample]) -> Attribution:
        scores, delta, gap = [], [], []
        for e in examples:
            s, d, g = self._one(e)
            scores.append(s)
            delta.append(d)
            gap.append(g)
        diagnostics = {"ig_delta": delta, "ig_f_gap": gap} if self.spec.id == "integrated_gradients" else {}
        return Attribution(scores, diagnostics=diagnostics)

    def _one(self, e: SummaryExample) -> tuple[np.ndarray, float, float]:
        from captum.attr import InputXGradient

        model = self.ctx.model
        item = Perturbed(list(e.src_ids), [], len(e.src_ids))
        device = next(model.parameters()).device

        def forward(emb: torch.Tensor) -> torch.Tensor:
            items = [item] * emb.shape[0]
            if self.ctx.gradient_target == "logit":
                return target_logits(model, items, e.summary, e.stopped, src_embeddings=emb)
            return teacher_forced(model, items, e.summary, e.stopped, src_embeddings=emb)[0].to(emb.dtype)

        with _grad_mode(model):
            emb0 = model.embedding(torch.tensor([list(e.src_ids)], device=device)).detach()
            if self.spec.id == "input_x_grad":
                attr = InputXGradient(forward).attribute(emb0.requires_grad_())
                return attr[0].sum(-1).detach().cpu().double().numpy(), float("nan"), float("nan")
            res = integrated_gradients(forward, emb0, torch.zeros_like(emb0),
                                       n_steps=self.ctx.ig_steps,
                                       internal_batch_size=self.ctx.ig_internal_batch_size)
        return (res.attributions[0].sum(-1).cpu().double().numpy(),
                float(res.delta[0]), float(res.f_gap[0]))
