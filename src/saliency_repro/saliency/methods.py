"""The registry of saliency methods (paper Table 2): one token score per input position.

Every method returns, for a padded batch, an array ``[B, T]`` of token scores for the target
class (``saliency.explained_class``: the predicted class by default, or the true label; the
driver chooses it, :func:`saliency_repro.saliency.attribute.explained_targets`).

**Input space** (``saliency.input_space``, :mod:`saliency_repro.saliency.settings`). Gradient
and perturbation methods go through Captum and are taken with respect to

* ``embedding_output`` (default): the output of the model's embedding layer
  (``model.base_model.embeddings``: word + position + segment embeddings after LayerNorm),
  which is what the authors attributed to (``input_embedding =
  wrap.model.bert.embeddings(input_ids)``, then a wrapper that runs only the encoder, pooler
  and output layer on it; :data:`~saliency_repro.saliency.settings.AUTHORS_CODE`). The rest
  of the model is run by the model's own ``forward`` with a forward hook that replaces the
  embedding layer's output by the tensor being attributed, so the attention mask is built
  exactly as in normal inference. The zero baseline of IG and DeepLIFT is zero in this
  space (the authors passed no ``baselines``: Captum's zero). Works for every model whose
  base model has an ``embeddings`` module returning ``[B, T, H]`` (BERT, the scratch BERT,
  MiniLM and the other BertModel-family hub models); other architectures get an error that
  names ``saliency.input_space``.
* ``word_embeddings``: the word-embedding lookup only (``inputs_embeds``), to which the model
  then adds position and segment embeddings. This is *not* the authors' choice (an earlier
  version of this docstring said it was); zero baseline = all-zero word embeddings.

``[B, T, H]`` attributions are reduced over the hidden dimension with ``hidden_reduction``
(``sum`` as the authors did, ``l2`` or ``mean``). The forward function returns the
classifier's logits and the target is one logit; the authors used Captum defaults, which
differentiate whatever the model returns.

* ``vanilla_gradient``: ``captum.attr.Saliency`` (absolute gradient, Captum's default).
* ``input_x_grad``: ``captum.attr.InputXGradient``.
* ``integrated_gradients``: ``captum.attr.IntegratedGradients``; ``ig_steps`` steps (authors:
  100), batched with ``internal_batch_size``; baseline ``zero`` (the authors' choice) or
  ``pad`` (the input-space representation of [PAD] tokens with [CLS]/[SEP] kept). The
  convergence delta (sum of attributions minus ``f(x) - f(baseline)``, both in the chosen
  space) is returned for every sample.
* ``deeplift``: ``captum.attr.DeepLift``; same baseline as IG (``ig_baseline``, default zero).
* ``lime``, two variants (``saliency.lime_variant``):

  - ``authors`` (default): exactly ``get_lime`` of the authors' code: ``captum.attr.Lime``
    with no ``feature_mask``, so **every coordinate of the [1, T, H] embedding output is its
    own interpretable feature**; Captum's default perturbation (each feature kept with
    probability 0.5, otherwise set to the zero baseline); 40 perturbed samples evaluated 16
    at a time; similarity ``exp(-d^2 / (2 * 1000^2))`` with d the Euclidean distance between
    the original and the perturbed embedding output (``get_exp_kernel_similarity_function(
    'euclidean', kernel_width=1000)``); an unregularized least-squares surrogate
    (``SkLearnLinearRegression``; with far more features than samples sklearn returns the
    minimum-norm solution); coefficients summed over the hidden dimension (our
    ``hidden_reduction``, default ``sum``). ``lime_samples`` and ``lime_kernel_width`` do not
    apply. Constants: :data:`~saliency_repro.saliency.settings.AUTHORS_LIME`.
  - ``token_embedding``: one interpretable feature per token (a ``feature_mask``),
    ``lime_samples`` perturbations that replace whole token vectors by zero, an exponential
    kernel on the cosine distance of width ``lime_kernel_width`` and Captum's default Lasso
    (alpha 0.01) surrogate. A cleaner LIME (features are the units the crowd sees), kept for
    comparison; not the authors'.

  Both run one sample at a time (so padding never becomes a feature), perturbations batched,
  with a generator seeded from the run seed and the sample id.
* ``all_attention`` / ``last_attention``: read from the model run with eager attention. For
  layer l and head h, ``A[l,h,i,j]`` is the softmax weight query token i puts on key token j
  (each row sums to 1 over the real tokens). The authors' code sums each layer's attention
  over heads and query positions, i.e. the attention each token *receives*. We take
  ``received[l, j] = mean_h sum_i A[l,h,i,j] / n`` (n = number of real tokens): the mean over
  heads instead of the sum and the division by n change the scale only, never the ranking,
  and make each layer's scores sum to 1 over the tokens. ALL ATTENTION is the mean of
  ``received`` over all layers, LAST ATTENTION that of the last layer. Both are not
  class-specific. A word's score is its first piece's
  (:func:`~saliency_repro.saliency.settings.word_aggregation_for` says why).
* ``random``: drawn per displayed **word**, not per token (:func:`random_word_scores`): with
  per-token draws summed into words, a word of three pieces got three draws and was far
  likelier to reach the top-k. The registry therefore does not score ``random``; the driver
  calls :func:`random_word_scores`.
"""

from __future__ import annotations

import logging
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from saliency_repro.saliency.settings import AUTHORS_LIME, setting

LOG = logging.getLogger(__name__)

CAPTUM_CLASS = {
    "vanilla_gradient": "captum.attr.Saliency",
    "input_x_grad": "captum.attr.InputXGradient",
    "integrated_gradients": "captum.attr.IntegratedGradients",
    "deeplift": "captum.attr.DeepLift",
    "lime": "captum.attr.Lime",
    "all_attention": "model attentions (eager)",
    "last_attention": "model attentions (eager)",
    "random": "numpy uniform, one draw per word",
}

#: Methods scored at word level by the driver instead of the registry.
WORD_LEVEL_METHODS = frozenset({"random"})


@dataclass
class MethodResult:
    """Token scores ``[B, T]`` (zero on padding) and per-sample diagnostics."""

    scores: np.ndarray
    diagnostics: dict[str, list[float]] = field(default_factory=dict)


def sample_seed(seed: int, sample_id: str) -> list[int]:
    """Seed sequence of one sample: the run seed and a stable hash of the sample id.

    Used for every random choice about a sample, so its result does not depend on batching
    or on the order of the samples.
    """
    return [int(seed), zlib.crc32(str(sample_id).encode())]


def lime_torch_seed(seed: int, sample_id: str) -> int:
    """The torch seed set before one sample's LIME (Captum draws its perturbations from torch)."""
    return int(seed) + zlib.crc32(str(sample_id).encode()) % (2**31)


def random_word_scores(seed: int, sample_id: str, n_words: int) -> np.ndarray:
    """RANDOM: one uniform [0, 1) score per displayed word of one sample.

    One draw per word makes every word equally likely to be in the top-k, whatever its number
    of word pieces. The generator is seeded by :func:`sample_seed`; the first n draws of a
    longer text are the same draws (a prefix), so truncation changes only the tail.
    """
    return np.random.default_rng(sample_seed(seed, sample_id)).random(int(n_words))


def reduce_hidden(attr, how: str = "sum"):
    """Reduce ``[B, T, H]`` attributions over H (``sum``, ``l2`` norm or ``mean``)."""
    if how == "sum":
        return attr.sum(-1)
    if how == "l2":
        return attr.norm(dim=-1)
    if how == "mean":
        return attr.mean(-1)
    raise ValueError(f"unknown hidden reduction {how!r}")


def embedding_layer(model):
    """The embedding layer whose output ``input_space: embedding_output`` attributes to.

    Raises a ``ValueError`` naming the config key when the architecture has none.
    """
    base = getattr(model, "base_model", model)
    emb = getattr(base, "embeddings", None)
    import torch

    if not isinstance(emb, torch.nn.Module):
        raise ValueError(
            f"config key 'saliency.input_space': 'embedding_output' needs a model whose base "
            f"model has an 'embeddings' layer (BERT family); {type(model).__name__} has none. "
            f"Use input_space: word_embeddings for this architecture."
        )
    return emb


def forward_module(model, input_space: str):
    """The Captum forward module ``(x, input_ids, attention_mask) -> logits`` of a space.

    ``x`` is the representation being attributed (``[B, T, H]``). For ``embedding_output``
    the model runs on ``input_ids`` and a forward hook replaces its embedding layer's output
    by ``x`` (the embedding layer's own output is discarded, so gradients reach ``x`` only);
    ``input_ids`` is also what Captum expands with ``x`` (IG steps, LIME batches), so shapes
    always agree. For ``word_embeddings`` the model runs on ``inputs_embeds=x``.
    """
    import torch

    class SpaceToLogits(torch.nn.Module):
        def __init__(self, inner, space):
            super().__init__()
            self.inner = inner
            self.space = space
            if space == "embedding_output":
                embedding_layer(inner)  # fail at construction, naming the config key

        @property
        def embeddings(self):
            # looked up, not stored: a second reference would register the layer twice in the
            # module tree (DeepLift walks it to hook the non-linearities)
            return embedding_layer(self.inner)

        def forward(self, x, input_ids, attention_mask):
            if self.space == "word_embeddings":
                return self.inner(inputs_embeds=x, attention_mask=attention_mask).logits
            handle = self.embeddings.register_forward_hook(lambda _m, _i, _out: x)
            try:
                return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits
            finally:
                handle.remove()

    return SpaceToLogits(model, input_space)


class SaliencyRegistry:
    """All token-level methods over one loaded model; built once per job, called per batch."""

    def __init__(self, model, tokenizer, cfg: dict[str, Any], seed: int = 13, device: str = "cpu"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.seed = int(seed)
        self.device = device
        self.input_space = setting(cfg, "input_space")
        self.lime_variant = setting(cfg, "lime_variant")
        self.ig_baseline = setting(cfg, "ig_baseline")
        self.forward = forward_module(model, self.input_space).eval()
        self.embedding = model.get_input_embeddings()

    # -- helpers ---------------------------------------------------------------------------
    def inputs(self, input_ids):
        """The representation attributed to (``[B, T, H]``, detached) in ``input_space``."""
        import torch

        with torch.no_grad():
            if self.input_space == "word_embeddings":
                return self.embedding(input_ids).detach()
            out = self.forward.embeddings(input_ids=input_ids)
        if not isinstance(out, torch.Tensor) or out.dim() != 3 or tuple(out.shape[:2]) != tuple(input_ids.shape):
            raise ValueError(
                "config key 'saliency.input_space': the embedding layer of "
                f"{type(self.model).__name__} does not return one [batch, tokens, hidden] tensor; "
                "use input_space: word_embeddings for this architecture"
            )
        return out.detach()

    def logits(self, x, input_ids, attention_mask):
        import torch

        with torch.no_grad():
            return self.forward(x, input_ids, attention_mask)

    def baseline(self, input_ids, x):
        """IG/DeepLift baseline in the input space: zero, or [PAD] tokens keeping [CLS]/[SEP]."""
        import torch

        if self.ig_baseline == "zero":
            return torch.zeros_like(x)
        pad_id = self.tokenizer.pad_token_id
        special = torch.tensor(
            [self.tokenizer.get_special_tokens_mask(row.tolist(), already_has_special_tokens=True)
             for row in input_ids.cpu()], device=input_ids.device,
        ).bool() & (input_ids != pad_id)
        base_ids = torch.where(special, input_ids, torch.full_like(input_ids, pad_id))
        return self.inputs(base_ids)

    # -- methods ---------------------------------------------------------------------------
    def run(
        self, method: str, input_ids, attention_mask, targets: Sequence[int],
        sample_ids: Sequence[str],
    ) -> MethodResult:
        """Token scores of ``method`` for a padded batch; zero on padding positions."""
        if method in WORD_LEVEL_METHODS:
            raise ValueError(f"{method!r} is scored per displayed word, not per token: "
                             f"use random_word_scores")
        fn = getattr(self, f"_{method}", None)
        if fn is None:
            raise ValueError(f"unknown saliency method {method!r}")
        res = fn(input_ids, attention_mask, list(map(int, targets)), list(sample_ids))
        res.scores = np.where(attention_mask.cpu().numpy().astype(bool), res.scores, 0.0)
        return res

    def _reduce(self, attr) -> np.ndarray:
        return reduce_hidden(attr.detach(), self.cfg.get("hidden_reduction", "sum")).float().cpu().numpy()

    def _captum(self, cls, input_ids, attention_mask, targets, **kwargs):
        x = self.inputs(input_ids).requires_grad_(True)
        explainer = cls(self.forward)
        attr = explainer.attribute(
            x, target=targets, additional_forward_args=(input_ids, attention_mask), **kwargs
        )
        return self._reduce(attr)

    def _vanilla_gradient(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import Saliency

        return MethodResult(self._captum(Saliency, input_ids, attention_mask, targets))

    def _input_x_grad(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import InputXGradient

        return MethodResult(self._captum(InputXGradient, input_ids, attention_mask, targets))

    def _integrated_gradients(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import IntegratedGradients

        x = self.inputs(input_ids)
        base = self.baseline(input_ids, x)
        explainer = IntegratedGradients(self.forward)
        attr, delta = explainer.attribute(
            x.clone().requires_grad_(True), baselines=base, target=targets,
            additional_forward_args=(input_ids, attention_mask),
            n_steps=int(self.cfg.get("ig_steps", 100)),
            internal_batch_size=int(self.cfg.get("ig_internal_batch_size", 50)),
            return_convergence_delta=True,
        )
        f_x = self.logits(x, input_ids, attention_mask)
        f_b = self.logits(base, input_ids, attention_mask)
        idx = np.arange(len(targets))
        gap = (f_x - f_b).cpu().numpy()[idx, targets]
        return MethodResult(
            self._reduce(attr),
            {"ig_delta": delta.detach().cpu().numpy().tolist(), "ig_f_gap": gap.tolist()},
        )

    def _deeplift(self, input_ids, attention_mask, targets, sample_ids):
        from captum.attr import DeepLift

        x = self.inputs(input_ids)
        base = self.baseline(input_ids, x) if self.ig_baseline == "pad" else None
        explainer = DeepLift(self.forward)
        attr = explainer.attribute(
            x.clone().requires_grad_(True), baselines=base, target=targets,
            additional_forward_args=(input_ids, attention_mask),
        )
        return MethodResult(self._reduce(attr))

    def _lime(self, input_ids, attention_mask, targets, sample_ids):
        import torch

        B, T = input_ids.shape
        out = np.zeros((B, T), dtype=np.float32)
        lengths = attention_mask.sum(1).tolist()
        for b in range(B):
            n = int(lengths[b])
            ids = input_ids[b:b + 1, :n]
            mask = attention_mask[b:b + 1, :n]
            x = self.inputs(ids)
            # one generator per sample: results do not depend on batching or order
            torch.manual_seed(lime_torch_seed(self.seed, sample_ids[b]))
            if self.lime_variant == "authors":
                attr = self._lime_authors(x, ids, mask, targets[b])
            else:
                attr = self._lime_token(x, ids, mask, targets[b])
            out[b, :n] = attr
        return MethodResult(out)

    def _lime_authors(self, x, ids, mask, target: int) -> np.ndarray:
        """The authors' ``get_lime`` (module docstring; constants in ``AUTHORS_LIME``)."""
        from captum._utils.models.linear_model import SkLearnLinearRegression
        from captum.attr import Lime
        from captum.attr._core.lime import get_exp_kernel_similarity_function

        sim = get_exp_kernel_similarity_function(AUTHORS_LIME["distance"],
                                                 kernel_width=AUTHORS_LIME["kernel_width"])
        explainer = Lime(self.forward, interpretable_model=SkLearnLinearRegression(),
                         similarity_func=sim)
        with warnings.catch_warnings():
            # every embedding coordinate is a feature, as in the authors' code: Captum warns
            # about > 10000 features, which is the point of this variant
            warnings.filterwarnings("ignore", message="Attempting to construct interpretable model")
            attr = explainer.attribute(
                x, target=target, additional_forward_args=(ids, mask),
                n_samples=int(AUTHORS_LIME["n_samples"]),
                perturbations_per_eval=int(AUTHORS_LIME["perturbations_per_eval"]),
            )
        return self._reduce(attr)[0]

    def _lime_token(self, x, ids, mask, target: int) -> np.ndarray:
        """One feature per token, whole token vectors zeroed, cosine kernel, Lasso."""
        import torch
        from captum._utils.models.linear_model import SkLearnLasso
        from captum.attr import Lime
        from captum.attr._core.lime import get_exp_kernel_similarity_function

        n = ids.shape[1]
        sim = get_exp_kernel_similarity_function("cosine", float(self.cfg.get("lime_kernel_width", 1.0)))
        feature_mask = torch.arange(n, device=ids.device).view(1, n, 1).expand_as(x)
        explainer = Lime(self.forward, interpretable_model=SkLearnLasso(alpha=0.01),
                         similarity_func=sim)
        attr = explainer.attribute(
            x, target=target, additional_forward_args=(ids, mask),
            feature_mask=feature_mask, n_samples=int(self.cfg.get("lime_samples", 500)),
            perturbations_per_eval=int(self.cfg.get("lime_perturbations_per_eval", 100)),
        )
        return attr[0, :, 0].detach().float().cpu().numpy()

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
