"""The attribution settings that change what a saliency score means, read in one place.

Four settings of the ``saliency`` config section decide what the crowd is shown, so every
table built on the scores must state them (:func:`saliency_settings_note`):

* ``input_space``: what the gradients and perturbations are taken with respect to.
  ``embedding_output`` (default) is the output of BERT's embedding layer (word + position +
  segment embeddings after LayerNorm, ``bert.embeddings(input_ids)``), with a zero baseline in
  that space: the authors' choice (:data:`AUTHORS_CODE`, ``input_embedding =
  wrap.model.bert.embeddings(input_ids)`` in every ``get_*`` function). ``word_embeddings``
  is the word-embedding lookup only (``inputs_embeds``, before position and segment embeddings
  are added), the choice of this package before the fix.
* ``lime_variant``: ``authors`` (default) or ``token_embedding`` (see
  :mod:`saliency_repro.saliency.methods`).
* ``explained_class``: ``predicted`` (default: the label the model gave, the ``pred`` column
  of the samples) or ``true`` (the gold label). It matters only on misclassified samples.
* how word pieces become a word (:func:`word_aggregation_for`).
* ``deeplift_rules``: ``captum`` (default, the authors': Captum's DeepLift rescales only the
  modules it recognises, in BERT the pooler's tanh) or ``gelu`` (also every GELU activation;
  a deviation, stated in the captions; :mod:`saliency_repro.saliency.deeplift`).

This module has no heavy imports, so the rule files can call it while the DAG is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INPUT_SPACES = ("embedding_output", "word_embeddings")
LIME_VARIANTS = ("authors", "token_embedding")
EXPLAINED_CLASSES = ("predicted", "true")
AGGREGATIONS = ("sum", "mean", "first", "max_abs")
IG_BASELINES = ("zero", "pad")
DEEPLIFT_RULES = ("captum", "gelu")

#: Schema defaults of the settings read here (``schemas/config.schema.yaml``, ``saliency:``).
DEFAULTS: dict[str, str] = {
    "input_space": "embedding_output",
    "lime_variant": "authors",
    "explained_class": "predicted",
    "word_aggregation": "sum",
    "attention_word_aggregation": "first",
    "ig_baseline": "zero",
    "deeplift_rules": "captum",
}
_CHOICES = {
    "input_space": INPUT_SPACES,
    "lime_variant": LIME_VARIANTS,
    "explained_class": EXPLAINED_CLASSES,
    "word_aggregation": AGGREGATIONS,
    "attention_word_aggregation": AGGREGATIONS,
    "ig_baseline": IG_BASELINES,
    "deeplift_rules": DEEPLIFT_RULES,
}


def attention_methods() -> frozenset[str]:
    """Classifier methods read from the model's attentions (registry: ``needs_attentions``)."""
    from saliency_repro.attribution.registry import methods_for

    return frozenset(m.id for m in methods_for() if m.needs_attentions)


def input_space_methods() -> frozenset[str]:
    """Classifier methods whose scores depend on ``input_space`` (registry: ``uses_input_space``)."""
    from saliency_repro.attribution.registry import methods_for

    return frozenset(m.id for m in methods_for() if m.uses_input_space)


#: Where the authors' attribution code is (read through the code index; the repository of
#: their released crowd labels).
AUTHORS_CODE = ("xtlu/lreccoling_evaluation, explanations.py, "
                "commit 9d637d7dfc301d1664b17290d6f5f37db2c7d272")

#: The authors' LIME, exactly as in ``get_lime`` of :data:`AUTHORS_CODE`:
#: ``Lime(wrap, interpretable_model=SkLearnLinearRegression(),
#: similarity_func=get_exp_kernel_similarity_function('euclidean', kernel_width=1000))`` and
#: ``attribute(input_embedding, target=target, n_samples=40, perturbations_per_eval=16)``
#: with no ``feature_mask`` and no ``baselines``.
AUTHORS_LIME: dict[str, Any] = {
    "n_samples": 40,
    "perturbations_per_eval": 16,
    "distance": "euclidean",
    "kernel_width": 1000.0,
    "interpretable_model": "SkLearnLinearRegression",
}


def setting(cfg: Mapping[str, Any] | None, key: str) -> str:
    """The value of ``saliency.<key>`` (schema default when absent), checked against its choices.

    The schema already rejects bad values in the workflow; this check gives the same clear
    error when the package is called directly (tests, notebooks).
    """
    value = (cfg or {}).get(key, DEFAULTS[key])
    if value not in _CHOICES[key]:
        raise ValueError(
            f"config key 'saliency.{key}' must be one of {list(_CHOICES[key])}, got {value!r}"
        )
    return str(value)


def word_aggregation_for(method: str, cfg: Mapping[str, Any] | None) -> str:
    """How ``method``'s piece scores become a word score.

    * gradient methods and LIME: ``saliency.word_aggregation`` (default ``sum``, as the
      authors summed attributions; attributions are additive, so the sum is the word's share).
    * ALL/LAST ATTENTION: ``saliency.attention_word_aggregation`` (default ``first``). The
      attention a piece receives is not additive evidence: with ``sum`` a word split into three
      pieces collects about three tokens' worth of attention and wins top-k because of its
      length. ``first`` gives every word exactly one token's score whatever its piece count,
      and it is what the authors' crowd saw: their display units are head pieces with their
      own scores (:func:`saliency_repro.saliency.display.release_units`). ``mean`` would also
      not reward piece count, but it shrinks the spread of long words' scores, so they would
      reach the top-k less often than short ones.
    * RANDOM: one draw per word (:func:`saliency_repro.saliency.methods.random_word_scores`),
      so there is nothing to aggregate; ``first`` is returned for completeness.
    """
    from saliency_repro.attribution.registry import get_method

    key = get_method(method).word_aggregation
    return "first" if key is None else setting(cfg, key)


def _registered():
    from saliency_repro.attribution.registry import methods_for

    return methods_for()


def explained_class_phrase(cfg: Mapping[str, Any] | None) -> str:
    """``predicted class`` or ``true label``: what class-specific methods explain."""
    return {"predicted": "predicted class", "true": "true label"}[setting(cfg, "explained_class")]


def lime_phrase(cfg: Mapping[str, Any] | None) -> str:
    """A short label of the LIME variant that ran."""
    if setting(cfg, "lime_variant") == "authors":
        return "authors' variant"
    return "per-token variant (token_embedding)"


#: How an aggregation reads in a table.
AGGREGATION_PHRASE = {"sum": "sum of pieces", "mean": "mean of pieces", "first": "first piece",
                      "max_abs": "largest-magnitude piece"}


def saliency_settings_note(cfg: Mapping[str, Any] | None) -> str:
    """One line stating the settings behind the saliency scores, for table captions.

    ``cfg`` is the ``saliency`` config section. Parts that no configured method uses are left
    out (no LIME part without LIME). With the defaults and all methods::

        saliency settings: input space embedding_output (zero baseline); LIME: authors'
        variant; explained class: predicted; word score: sum of pieces (gradients, LIME),
        first piece (attention), one draw per word (RANDOM).
    """
    cfg = cfg or {}
    methods = set(cfg.get("methods") or (m.id for m in _registered()))
    parts, words = [], []
    if methods & input_space_methods():
        parts.append(f"input space {setting(cfg, 'input_space')} "
                     f"({setting(cfg, 'ig_baseline')} baseline)")
    if "lime" in methods:
        parts.append(f"LIME: {lime_phrase(cfg)}")
    if methods & input_space_methods():
        parts.append(f"explained class: {setting(cfg, 'explained_class')}")
        who = "gradients, LIME" if "lime" in methods else "gradients"
        if methods <= {"lime", "random"} | attention_methods():
            who = "LIME"
        words.append(f"{AGGREGATION_PHRASE[setting(cfg, 'word_aggregation')]} ({who})")
    if methods & attention_methods():
        words.append(f"{AGGREGATION_PHRASE[setting(cfg, 'attention_word_aggregation')]} (attention)")
    if "deeplift" in methods and setting(cfg, "deeplift_rules") != "captum":
        parts.append("DEEPLIFT: rescale rule also at GELU (deeplift_rules: gelu, not the authors')")
    if "random" in methods:
        words.append("one draw per word (RANDOM)")
    parts.append("word score: " + ", ".join(words))
    return "saliency settings: " + "; ".join(parts) + "."


def dataset_display_size(config: Mapping[str, Any], dataset: str, key: str) -> tuple[Any, str]:
    """``saliency.k`` or ``saliency.overlap_k`` as it applies to ``dataset``, with the config key
    it came from (for warnings): the dataset's own ``datasets.<name>.saliency`` value when set,
    else the global one. Short-text corpora need their own grid: at k = 40 nearly every SST-2
    display is the whole sentence, and every method shows the same words."""
    own = config["datasets"][dataset].get("saliency") or {}
    if key in own:
        return own[key], f"datasets.{dataset}.saliency.{key}"
    return config["saliency"][key], f"saliency.{key}"
