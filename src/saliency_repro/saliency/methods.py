"""The registry of saliency methods (paper Table 2): one token score per input position.

Every method returns, for a padded batch, an array ``[B, T]`` of token scores for the target
class (the true label). Gradient and perturbation methods go through Captum and are taken
with respect to the **word-embedding output** (the ``inputs_embeds`` that BERT adds position
and segment embeddings to); their ``[B, T, H]`` attributions are reduced over the hidden
dimension with ``hidden_reduction`` (``sum`` as the authors did, ``l2`` or ``mean``). The
forward function returns the classifier's logits and the target is the logit of the true
class; the authors used Captum defaults, which differentiate whatever the model returns.

* ``vanilla_gradient``: ``captum.attr.Saliency`` (absolute gradient, Captum's default).
* ``input_x_grad``: ``captum.attr.InputXGradient``.
* ``integrated_gradients``: ``captum.attr.IntegratedGradients``; ``ig_steps`` steps (authors:
  100), batched with ``internal_batch_size``; baseline ``zero`` (all-zero word embeddings, the
  authors' choice) or ``pad`` ([PAD] embeddings with [CLS]/[SEP] kept). The convergence delta
  (sum of attributions minus ``f(x) - f(baseline)``) is returned for every sample.
* ``deeplift``: ``captum.attr.DeepLift``; same baseline as IG (``ig_baseline``, default zero).
* ``lime``: ``captum.attr.Lime`` with one interpretable feature per token (a ``feature_mask``;
  without one Captum would treat every embedding coordinate as a feature), ``lime_samples``
  perturbations that replace token embeddings by zero, an exponential kernel on the cosine
  distance of width ``lime_kernel_width`` and a Lasso surrogate (Captum's defaults). Run one
  sample at a time (so padding never becomes a feature), perturbations batched.
* ``all_attention`` / ``last_attention``: read from the model run with eager attention. For
  layer l and head h, ``A[l,h,i,j]`` is the softmax weight query token i puts on key token j
  (each row sums to 1 over the real tokens). The authors' code sums each layer's attention
  over heads and query positions, i.e. the attention each token *receives*. We take
  ``received[l, j] = mean_h sum_i A[l,h,i,j] / n`` (n = number of real tokens): the mean over
  heads instead of the sum and the division by n change the scale only, never the ranking,
  and make each layer's scores sum to 1 over the tokens. ALL ATTENTION is the mean of
  ``received`` over all layers, LAST ATTENTION that of the last layer. Both are not
  class-specific.
* ``random``: uniform [0, 1) scores from a generator seeded with the run seed and the
  sample id, so a sample's scores do not depend on batching or order.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LOG = logging.getLogger(__name__)

CAPTUM_CLASS = {
    "vanilla_gradient": "captum.attr.Saliency",
    "input_x_grad": "captum.attr.InputXGradient",
    "integrated_gradients": "captum.attr.IntegratedGradients",
    "deeplift": "captum.attr.DeepLift",
    "lime": "captum.attr.Lime",
    "all_attention": "model attentions (eager)",
    "last_attention": "model attentions (eager)",
    "random": "numpy uniform",
}


@dataclass
class MethodResult:
    """Token scores ``[B, T]`` (zero on padding) and per-sample diagnostics."""

    scores: np.ndarray
    diagnostics: dict[str, list[float]] = field(default_factory=dict)


def reduce_hidden(attr, how: str = "sum"):
    """Reduce ``[B, T, H]`` attributions over H (``sum``, ``l2`` norm or ``mean``)."""
    if how == "sum":
        return attr.sum(-1)
    if how == "l2":
        return attr.norm(dim=-1)
    if how == "mean":
        return attr.mean(-1)
    raise ValueError(f"unknown hidden reduction {how!r}")


class _EmbedsToLogits:
    """Builds the Captum forward function / module over word embeddings."""

    @staticmethod
    def module(model):
        import torch

        class EmbedsToLogits(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, embeds, attention_mask):
                return self.inner(inputs_embeds=embeds, attention_mask=attention_mask).logits

        return EmbedsToLogits(model)


class SaliencyRegistry:
    """All methods over one loaded model; built once per job, called per batch."""

    def __init__(self, model, tokenizer, cfg: dict[str, Any], seed: int = 13, device: str = "cpu"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.seed = int(seed)
        self.device = device
        self.forward = _EmbedsToLogits.module(model).eval()
        self.embedding = model.get_input_embeddings()

    # -- helpers ---------------------------------------------------------------------------
    def word_embeds(self, input_ids):
        import torch

        with torch.no_grad():
            return self.embedding(input_ids).detach()

    def logits(self, embeds, attention_mask):
        import torch

        with torch.no_grad():
            return self.forward(embeds, attention_mask)

    def baseline(self, input_ids, embeds):
        """IG/DeepLift baseline: zero word embeddings, or [PAD] ones keeping [CLS]/[SEP]."""
        import torch

        if self.cfg.get("ig_baseline", "zero") == "zero":
            return torch.zeros_like(embeds)
        pad_id = self.tokenizer.pad_token_id
        special = torch.tensor(
            [self.tokenizer.get_special_tokens_mask(row.tolist(), already_has_special_tokens=True)
             for row in input_ids.cpu()], device=input_ids.device,
        ).bool() & (input_ids != pad_id)
        base_ids = torch.where(special, input_ids, torch.full_like(input_ids, pad_id))
        return self.word_embeds(base_ids)

    # -- methods ---------------------------------------------------------------------------
    def run(
        self, method: str, input_ids, attention_mask, targets: Sequence[int],
        sample_ids: Sequence[str],
    ) -> MethodResult:
        """Token scores of ``method`` for a padded batch; zero on padding positions."""
        fn = getattr(self, f"_{method}", None)
        if fn is None:
            raise ValueError(f"unknown saliency method {method!r}")
        res = fn(input_ids, attention_mask, list(map(int, targets)), list(sample_ids))
        res.scores = np.where(attention_mask.cpu().numpy().astype(bool), res.scores, 0.0)
        return res

    def _captum(self, cls, input_ids, attention_mask, targets, **kwargs):
        embeds = self.word_embeds(input_ids).requires_grad_(True)
        explainer = cls(self.forward)
        attr = explainer.attribute(
            embeds, target=targets, additional_forward_args=(attention_mask,), **kwargs
        )
        delta = None
        if isinstance(attr, tuple):
            attr, delta = attr
        scores = reduce_hidden(attr.detach(), self.cfg.get("hidden_reduction", "sum"))
        return scores.float().cpu().numpy(), delta

    def _vanilla_gradient(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import Saliency

        scores, _ = self._captum(Saliency, input_ids, attention_mask, targets)
        return MethodResult(scores)

    def _input_x_grad(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import InputXGradient

        scores, _ = self._captum(InputXGradient, input_ids, attention_mask, targets)
        return MethodResult(scores)

    def _integrated_gradients(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import IntegratedGradients

        embeds = self.word_embeds(input_ids)
        base = self.baseline(input_ids, embeds)
        explainer = IntegratedGradients(self.forward)
        attr, delta = explainer.attribute(
            embeds.requires_grad_(True), baselines=base, target=targets,
            additional_forward_args=(attention_mask,),
            n_steps=int(self.cfg.get("ig_steps", 100)),
            internal_batch_size=int(self.cfg.get("ig_internal_batch_size", 50)),
            return_convergence_delta=True,
        )
        scores = reduce_hidden(attr.detach(), self.cfg.get("hidden_reduction", "sum"))
        f_x = self.logits(embeds.detach(), attention_mask)
        f_b = self.logits(base, attention_mask)
        idx = np.arange(len(targets))
        gap = (f_x - f_b).cpu().numpy()[idx, targets]
        return MethodResult(
            scores.float().cpu().numpy(),
            {"ig_delta": delta.detach().cpu().numpy().tolist(), "ig_f_gap": gap.tolist()},
        )

    def _deeplift(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import DeepLift

        embeds = self.word_embeds(input_ids)
        base = self.baseline(input_ids, embeds) if self.cfg.get("ig_baseline") == "pad" else None
        explainer = DeepLift(self.forward)
        attr = explainer.attribute(
            embeds.requires_grad_(True), baselines=base, target=targets,
            additional_forward_args=(attention_mask,),
        )
        scores = reduce_hidden(attr.detach(), self.cfg.get("hidden_reduction", "sum"))
        return MethodResult(scores.float().cpu().numpy())

    def _lime(self, input_ids, attention_mask, targets, sample_ids):
        import torch
        from captum._utils.models.linear_model import SkLearnLasso
        from captum.attr import Lime
        from captum.attr._core.lime import get_exp_kernel_similarity_function

        B, T = input_ids.shape
        out = np.zeros((B, T), dtype=np.float32)
        lengths = attention_mask.sum(1).tolist()
        sim = get_exp_kernel_similarity_function("cosine", float(self.cfg.get("lime_kernel_width", 1.0)))
        for b in range(B):
            n = int(lengths[b])
            ids = input_ids[b:b + 1, :n]
            mask = attention_mask[b:b + 1, :n]
            embeds = self.word_embeds(ids)
            feature_mask = torch.arange(n, device=ids.device).view(1, n, 1).expand_as(embeds)
            # one generator per sample: results do not depend on batching or order
            torch.manual_seed(self.seed + zlib.crc32(str(sample_ids[b]).encode()) % (2**31))
            explainer = Lime(self.forward, interpretable_model=SkLearnLasso(alpha=0.01),
                             similarity_func=sim)
            attr = explainer.attribute(
                embeds, target=targets[b], additional_forward_args=(mask,),
                feature_mask=feature_mask, n_samples=int(self.cfg.get("lime_samples", 500)),
                perturbations_per_eval=int(self.cfg.get("lime_perturbations_per_eval", 100)),
            )
            out[b, :n] = attr[0, :, 0].detach().float().cpu().numpy()
        return MethodResult(out)

    def attention_received(self, input_ids, attention_mask):
        """``[B, L, T]`` attention each token receives per layer (see the module docstring)."""
        import torch

        with torch.no_grad():
            outputs = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                 output_attentions=True)
        if not outputs.attentions or outputs.attentions[0] is None:
            raise RuntimeError("the model returned no attentions; load it with attn_implementation='eager'")
        att = torch.stack([a.float() for a in outputs.attentions], 1)  # [B, L, H, T, T]
        qmask = attention_mask.float()[:, None, None, :, None]
        received = (att * qmask).sum(3).mean(2)  # sum over queries, mean over heads: [B, L, T]
        n = attention_mask.float().sum(1)[:, None, None]
        return received / n

    def _all_attention(self, input_ids, attention_mask, targets, sample_ids):
        return MethodResult(self.attention_received(input_ids, attention_mask).mean(1).cpu().numpy())

    def _last_attention(self, input_ids, attention_mask, targets, sample_ids):
        return MethodResult(self.attention_received(input_ids, attention_mask)[:, -1].cpu().numpy())

    def _random(self, input_ids, attention_mask, targets, sample_ids):
        B, T = input_ids.shape
        out = np.zeros((B, T))
        for b, sid in enumerate(sample_ids):
            rng = np.random.default_rng([self.seed, zlib.crc32(str(sid).encode())])
            out[b] = rng.random(T)
        return MethodResult(out)
