"""The classifier saliency methods (paper Table 2), one class each behind the package's one
attribution interface (:mod:`saliency_repro.attribution`): ``attribute(batch) -> Attribution``
with one token score per real (non-padding) input position, for the target
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
  likelier to reach the top-k. Its attribution is therefore word-level.

Speed (issue 15): a batch holds texts of (nearly) equal length (the driver buckets by length,
``saliency.max_padding``), so no FLOPs go to padding; IG batches its steps
(``ig_internal_batch_size``); the gradient methods run on the model's SDPA attention, and
only the attention methods (which need the probabilities, under ``torch.inference_mode``) and
LIME switch it to eager attention for their own passes. LIME stays on eager because the
authors' variant (a minimum-norm least-squares fit of 40 samples over every embedding
coordinate) amplifies the ~1e-7 difference between the two attention kernels' outputs into
score changes of a few per cent (measured on the demo: the top-5 words of 7 of 70 samples
changed), so SDPA would change its tables without any change of method;
``saliency.autocast: bf16`` runs the forward passes under bf16 autocast (agreement with
float32 in ``make bench``); ``saliency.ig_tolerance`` lets IG double its steps only for the
samples whose completeness gap is above the tolerance.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from saliency_repro.attribution.core import WORD, Attribution
from saliency_repro.attribution.ig import integrated_gradients
from saliency_repro.attribution.registry import MethodSpec
from saliency_repro.saliency.settings import AUTHORS_LIME, setting
from saliency_repro.saliency.words import Word

LOG = logging.getLogger(__name__)


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


def forward_module(model, input_space: str, autocast: str | None = None):
    """The Captum forward module ``(x, input_ids, attention_mask) -> logits`` of a space.

    ``x`` is the representation being attributed (``[B, T, H]``). For ``embedding_output``
    the model runs on ``input_ids`` and a forward hook replaces its embedding layer's output
    by ``x`` (the embedding layer's own output is discarded, so gradients reach ``x`` only);
    ``input_ids`` is also what Captum expands with ``x`` (IG steps, LIME batches), so shapes
    always agree. For ``word_embeddings`` the model runs on ``inputs_embeds=x``.
    ``autocast="bf16"`` runs the model under bf16 autocast (logits returned in float32).
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
            with _autocast(x.device, autocast):
                if self.space == "word_embeddings":
                    return self.inner(inputs_embeds=x, attention_mask=attention_mask).logits.float()
                handle = self.embeddings.register_forward_hook(lambda _m, _i, _out: x)
                try:
                    return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits.float()
                finally:
                    handle.remove()

    return SpaceToLogits(model, input_space)


def _autocast(device, how: str | None):
    import torch

    if how in (None, "none", "float32"):
        return contextlib.nullcontext()
    if how != "bf16":
        raise ValueError(f"config key 'saliency.autocast' must be null or 'bf16', got {how!r}")
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


@dataclass
class ClassifierBatch:
    """Texts of one attribution batch: padded ids and mask, the explained class of each, their
    ids (seeds) and displayable words (what word-level methods score)."""

    input_ids: Any
    attention_mask: Any
    targets: list[int]
    sample_ids: list[str]
    words: list[list[Word]]

    @property
    def lengths(self) -> list[int]:
        return [int(n) for n in self.attention_mask.sum(1).tolist()]


class ClassifierContext:
    """One loaded classifier and the attribution settings: what every method shares."""

    def __init__(self, model, tokenizer, cfg: dict[str, Any], seed: int = 13, device: str = "cpu"):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.seed = int(seed)
        self.device = device
        self.input_space = setting(cfg, "input_space")
        self.lime_variant = setting(cfg, "lime_variant")
        self.ig_baseline = setting(cfg, "ig_baseline")
        self.forward = forward_module(model, self.input_space, cfg.get("autocast")).eval()
        self.embedding = model.get_input_embeddings()

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

    def reduce(self, attr, batch: ClassifierBatch) -> list[np.ndarray]:
        """``[B, T, H]`` attributions -> one unpadded 1-D token-score array per text."""
        scores = reduce_hidden(attr.detach(), self.cfg.get("hidden_reduction", "sum")).float().cpu().numpy()
        return [scores[b, :n].astype(np.float32) for b, n in enumerate(batch.lengths)]

    @contextlib.contextmanager
    def eager_attention(self) -> Iterator[None]:
        """The model with eager attention for one pass (attention probabilities are returned
        only by the eager implementation); restored afterwards."""
        config = getattr(self.model, "config", None)
        current = getattr(config, "_attn_implementation", None)
        switch = current not in (None, "eager") and hasattr(self.model, "set_attn_implementation")
        if switch:
            self.model.set_attn_implementation("eager")
        try:
            yield
        finally:
            if switch:
                self.model.set_attn_implementation(current)

    def attention_received(self, input_ids, attention_mask):
        """``[B, L, T]`` attention each token receives per layer (see the module docstring)."""
        import torch

        with torch.inference_mode(), self.eager_attention():
            outputs = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                 output_attentions=True)
            if not outputs.attentions or outputs.attentions[0] is None:
                raise RuntimeError("the model returned no attentions; load it with attn_implementation='eager'")
            att = torch.stack([a.float() for a in outputs.attentions], 1)  # [B, L, H, T, T]
            qmask = attention_mask.float()[:, None, None, :, None]
            received = (att * qmask).sum(3).mean(2)  # sum over queries, mean over heads: [B, L, T]
            n = attention_mask.float().sum(1)[:, None, None]
            return (received / n).clone()


class ClassifierMethod:
    """Base of the classifier methods: built once per job over a shared context."""

    def __init__(self, context: ClassifierContext, spec: MethodSpec, **options: Any) -> None:
        self.ctx = context
        self.spec = spec
        self.options = options

    @classmethod
    def setting_text(cls, cfg: dict[str, Any]) -> str:
        """The method's own settings, as Table 2's ``Setting`` column states them."""
        return ""

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        raise NotImplementedError


class _CaptumGradient(ClassifierMethod):
    """One backward pass through a Captum gradient attribution (``captum_class``)."""

    captum_class = ""

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        import captum.attr

        x = self.ctx.inputs(batch.input_ids).requires_grad_(True)
        explainer = getattr(captum.attr, self.captum_class)(self.ctx.forward)
        attr = explainer.attribute(x, target=batch.targets,
                                   additional_forward_args=(batch.input_ids, batch.attention_mask))
        return Attribution(self.ctx.reduce(attr, batch))


class VanillaGradient(_CaptumGradient):
    captum_class = "Saliency"


class InputXGradient(_CaptumGradient):
    captum_class = "InputXGradient"


class IntegratedGradients(ClassifierMethod):
    """The package's one IG (:func:`saliency_repro.attribution.ig.integrated_gradients`), with
    the completeness delta and the steps used per sample."""

    @classmethod
    def setting_text(cls, cfg: dict[str, Any]) -> str:
        text = f"{cfg.get('ig_steps', 100)} steps, {setting(cfg, 'ig_baseline')} baseline"
        if cfg.get("ig_tolerance") is not None:
            text += (f", steps doubled up to {ig_max_steps(cfg)} while the completeness gap "
                     f"exceeds {cfg['ig_tolerance']:g} of f(x) - f(baseline)")
        return text

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        cfg = self.ctx.cfg
        x = self.ctx.inputs(batch.input_ids)
        res = integrated_gradients(
            self.ctx.forward, x, self.ctx.baseline(batch.input_ids, x), target=batch.targets,
            additional_forward_args=(batch.input_ids, batch.attention_mask),
            n_steps=int(cfg.get("ig_steps", 100)),
            internal_batch_size=int(cfg.get("ig_internal_batch_size", 50)),
            tolerance=cfg.get("ig_tolerance"), max_steps=ig_max_steps(cfg),
        )
        return Attribution(self.ctx.reduce(res.attributions, batch), diagnostics={
            "ig_delta": res.delta.tolist(), "ig_f_gap": res.f_gap.tolist(),
            "ig_steps": res.steps.astype(float).tolist()})


def ig_max_steps(cfg: dict[str, Any]) -> int:
    """Most IG steps with ``ig_tolerance`` (``ig_max_steps``, default 4x ``ig_steps``)."""
    steps = int(cfg.get("ig_steps", 100))
    return int(cfg.get("ig_max_steps") or 4 * steps)


class DeepLift(ClassifierMethod):
    """Captum's DeepLift (rescale rule at the modules Captum recognises: in a BERT classifier
    only the pooler's tanh, :mod:`saliency_repro.saliency.deeplift`). Per text it also reports
    how far the rescale multipliers are from the gradient (``deeplift_rescale_gap``; ~0 means
    DEEPLIFT is INPUT×GRAD with a zero baseline) and the pre-activations of those modules."""

    @classmethod
    def setting_text(cls, cfg: dict[str, Any]) -> str:
        where = ("Captum's modules only (pooler tanh)" if setting(cfg, "deeplift_rules") == "captum"
                 else "Captum's modules and every GELU (deeplift_rules: gelu, not the authors')")
        return f"{setting(cfg, 'ig_baseline')} baseline; rescale rule at {where}"

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        import torch
        from captum.attr import DeepLift as CaptumDeepLift

        from saliency_repro.saliency.deeplift import rescale_gap, rescale_rules

        x = self.ctx.inputs(batch.input_ids)
        base = self.ctx.baseline(batch.input_ids, x) if self.ctx.ig_baseline == "pad" else None
        args = (batch.input_ids, batch.attention_mask)
        with rescale_rules(setting(self.ctx.cfg, "deeplift_rules")):
            attr = CaptumDeepLift(self.ctx.forward).attribute(
                x.clone().requires_grad_(True), baselines=base, target=batch.targets,
                additional_forward_args=args,
            )
            gap = rescale_gap(self.ctx.forward, x, torch.zeros_like(x) if base is None else base, args)
        return Attribution(self.ctx.reduce(attr, batch), diagnostics=gap)


def gathered_output_shape(formatted_inp, feature_mask, coefs, num_interp_features: int,
                          is_inputs_tuple: bool, leading_dim_one: bool = False):
    """Captum ``Lime._convert_output_shape`` (the surrogate's coefficients put back in the
    input's shape) as one gather instead of Captum's loop over the interpretable features.

    Captum adds ``coefs[f].item() * (mask == f)`` to zeros for every feature f, which costs
    features x elements operations: with the authors' LIME every embedding coordinate is a
    feature, so that is T*H passes over T*H elements per text (about a tenth of a second of
    pure overhead per demo text). Every element receives exactly its own feature's
    coefficient rounded to float32 (added to +0.0; the other features add +-0.0, which leaves
    it unchanged), and elements whose mask names no feature stay 0; the gather below gives
    those same float32 values bit for bit (tests/test_saliency_methods.py compares the two)."""
    import torch
    from captum._utils.common import _format_output

    values = coefs.flatten().to(torch.float32)
    attr = []
    for inp, mask in zip(formatted_inp, feature_mask, strict=True):
        mask = torch.broadcast_to(mask, inp.shape).long()
        named = (mask >= 0) & (mask < num_interp_features)
        gathered = values[mask.clamp(0, max(num_interp_features - 1, 0))]
        out = torch.zeros_like(inp, dtype=torch.float)
        out += torch.where(named, gathered, torch.zeros_like(gathered))
        attr.append(out[0:1] if leading_dim_one else out)
    return _format_output(is_inputs_tuple, tuple(attr))


def _captum_lime():
    """Captum's ``Lime`` with :func:`gathered_output_shape` (made on first use: importing
    Captum is slow, and a job that runs no LIME should not pay for it)."""
    global _CAPTUM_LIME
    if _CAPTUM_LIME is None:
        from captum.attr import Lime as CaptumLime

        class GatheredLime(CaptumLime):
            def _convert_output_shape(self, formatted_inp, feature_mask, coefs,
                                      num_interp_features, is_inputs_tuple,
                                      leading_dim_one=False):
                return gathered_output_shape(formatted_inp, feature_mask, coefs,
                                             num_interp_features, is_inputs_tuple,
                                             leading_dim_one)

        _CAPTUM_LIME = GatheredLime
    return _CAPTUM_LIME


_CAPTUM_LIME = None


class Lime(ClassifierMethod):
    """One text at a time (padding never becomes a feature), perturbations batched, a torch
    generator seeded per sample (results do not depend on batching or order)."""

    @classmethod
    def setting_text(cls, cfg: dict[str, Any]) -> str:
        if setting(cfg, "lime_variant") == "authors":
            return (f"authors' variant: every embedding coordinate a feature, "
                    f"{AUTHORS_LIME['n_samples']} samples, Euclidean kernel width "
                    f"{AUTHORS_LIME['kernel_width']:g}, least-squares surrogate")
        return (f"per-token variant (token_embedding): {cfg.get('lime_samples', 500)} samples, "
                f"cosine kernel width {cfg.get('lime_kernel_width', 1.0)}, Lasso surrogate")

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        import torch

        out = []
        for b, n in enumerate(batch.lengths):
            ids = batch.input_ids[b:b + 1, :n]
            mask = batch.attention_mask[b:b + 1, :n]
            x = self.ctx.inputs(ids)
            torch.manual_seed(lime_torch_seed(self.ctx.seed, batch.sample_ids[b]))
            if self.ctx.lime_variant == "authors":
                out.append(self._authors(x, ids, mask, batch.targets[b]))
            else:
                out.append(self._per_token(x, ids, mask, batch.targets[b]))
        return Attribution([np.asarray(s, dtype=np.float32) for s in out])

    def _authors(self, x, ids, mask, target: int) -> np.ndarray:
        """The authors' ``get_lime`` (module docstring; constants in ``AUTHORS_LIME``)."""
        from captum._utils.models.linear_model import SkLearnLinearRegression
        from captum.attr._core.lime import get_exp_kernel_similarity_function

        sim = get_exp_kernel_similarity_function(AUTHORS_LIME["distance"],
                                                 kernel_width=AUTHORS_LIME["kernel_width"])
        explainer = _captum_lime()(self.ctx.forward, interpretable_model=SkLearnLinearRegression(),
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
        return reduce_hidden(attr.detach(), self.ctx.cfg.get("hidden_reduction", "sum"))[0].float().cpu().numpy()

    def _per_token(self, x, ids, mask, target: int) -> np.ndarray:
        """One feature per token, whole token vectors zeroed, cosine kernel, Lasso."""
        import torch
        from captum._utils.models.linear_model import SkLearnLasso
        from captum.attr._core.lime import get_exp_kernel_similarity_function

        cfg = self.ctx.cfg
        n = ids.shape[1]
        sim = get_exp_kernel_similarity_function("cosine", float(cfg.get("lime_kernel_width", 1.0)))
        feature_mask = torch.arange(n, device=ids.device).view(1, n, 1).expand_as(x)
        explainer = _captum_lime()(self.ctx.forward, interpretable_model=SkLearnLasso(alpha=0.01),
                               similarity_func=sim)
        attr = explainer.attribute(
            x, target=target, additional_forward_args=(ids, mask),
            feature_mask=feature_mask, n_samples=int(cfg.get("lime_samples", 500)),
            perturbations_per_eval=int(cfg.get("lime_perturbations_per_eval", 100)),
        )
        return attr[0, :, 0].detach().float().cpu().numpy()


class _AttentionReceived(ClassifierMethod):
    """The attention each token receives (``[B, L, T]``), reduced over layers by ``over_layers``."""

    description = ""

    @classmethod
    def setting_text(cls, cfg: dict[str, Any]) -> str:
        return cls.description

    def over_layers(self, received):
        raise NotImplementedError

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        received = self.over_layers(self.ctx.attention_received(batch.input_ids, batch.attention_mask)).cpu().numpy()
        return Attribution([received[b, :n] for b, n in enumerate(batch.lengths)])


class AllAttention(_AttentionReceived):
    description = "attention received, mean over layers and heads"

    def over_layers(self, received):
        return received.mean(1)


class LastAttention(_AttentionReceived):
    description = "attention received, last layer, mean over heads"

    def over_layers(self, received):
        return received[:, -1]


class RandomWords(ClassifierMethod):
    """RANDOM: one draw per displayed word (:func:`random_word_scores`), word-level."""

    @classmethod
    def setting_text(cls, cfg: dict[str, Any]) -> str:
        return "uniform scores, one draw per word, seeded per sample"

    def attribute(self, batch: ClassifierBatch) -> Attribution:
        return Attribution([random_word_scores(self.ctx.seed, sid, len(w))
                            for sid, w in zip(batch.sample_ids, batch.words, strict=True)], WORD)
