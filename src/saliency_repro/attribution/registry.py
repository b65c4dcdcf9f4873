"""The one registry of saliency methods: name -> class, with everything tables need to know.

An entry says which task the method explains (``classification``: Lu et al.'s seven methods and
RANDOM; ``summarization``: Tuckey et al.'s LRP and the rankings the counterfactual check
compares it with), its family (the paper's Table 2 "type"), whether it explains one class,
how its token scores become word scores, its defaults, the paper's display name and the
spelling of the authors' released files. The class is named by a dotted path and imported on
first use, so reading names (crowd tables) never imports torch.

Adding a method is one class (``attribute(batch) -> Attribution``) and one :func:`register`
call; every table takes the method list from the config and the names from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CLASSIFICATION = "classification"
SUMMARIZATION = "summarization"


@dataclass(frozen=True)
class MethodSpec:
    """One saliency method.

    ``word_aggregation``: a key of ``saliency.*`` whose value says how pieces become words
    (``word_aggregation`` or ``attention_word_aggregation``), or ``None`` when the method
    scores words itself (RANDOM). ``implementation`` is what a table's note cites.
    ``needs_attentions``: the model must return attention probabilities (eager attention);
    ``eager_attention``: run the method's forward passes with eager attention although it does
    not read attentions (LIME: see :mod:`saliency_repro.saliency.methods`);
    ``uses_input_space``: the scores depend on ``saliency.input_space``.
    """

    id: str
    task: str
    cls: str
    type: str
    class_specific: bool
    paper: str
    release: str | None = None
    implementation: str = ""
    word_aggregation: str | None = "word_aggregation"
    needs_attentions: bool = False
    eager_attention: bool = False
    uses_input_space: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> type:
        module, _, name = self.cls.partition(":")
        return getattr(importlib.import_module(module), name)


_REGISTRY: dict[tuple[str, str], MethodSpec] = {}


def register(spec: MethodSpec, replace: bool = False) -> MethodSpec:
    """Add ``spec``; registering an existing (task, id) is an error unless ``replace``."""
    key = (spec.task, spec.id)
    if key in _REGISTRY and not replace:
        raise ValueError(f"saliency method {spec.id!r} is already registered for {spec.task}")
    _REGISTRY[key] = spec
    return spec


def unregister(method_id: str, task: str = CLASSIFICATION) -> None:
    _REGISTRY.pop((task, method_id), None)


def methods_for(task: str = CLASSIFICATION) -> tuple[MethodSpec, ...]:
    """The methods of a task in registration order (for Lu et al.: the paper's table order)."""
    return tuple(s for (t, _), s in _REGISTRY.items() if t == task)


def get_method(method_id: str, task: str = CLASSIFICATION) -> MethodSpec:
    """The spec of ``method_id``; the error lists the known names."""
    try:
        return _REGISTRY[(task, method_id)]
    except KeyError:
        known = ", ".join(s.id for s in methods_for(task))
        raise ValueError(f"unknown {task} saliency method {method_id!r}; known: {known}") from None


def make_attributor(method_id: str, task: str, context: Any, **options: Any):
    """An instance of the method's class over a shared ``context`` (the loaded model)."""
    spec = get_method(method_id, task)
    return spec.load()(context, spec, **{**spec.defaults, **options})


_CLS = "saliency_repro.saliency.methods:"
_SUM = "saliency_repro.counterfactual.attribution:"

for _spec in (
    # Lu et al. (2024), Table 2; order = the paper's table order (RANDOM first)
    MethodSpec("random", CLASSIFICATION, _CLS + "RandomWords", "Baseline", False, "RANDOM",
               "Random", "numpy uniform, one draw per word", word_aggregation=None),
    MethodSpec("all_attention", CLASSIFICATION, _CLS + "AllAttention", "Hidden States", False,
               "ALL ATTENTION", "All_Attention", "model attentions (eager)",
               word_aggregation="attention_word_aggregation", needs_attentions=True,
               eager_attention=True),
    MethodSpec("last_attention", CLASSIFICATION, _CLS + "LastAttention", "Hidden States", False,
               "LAST ATTENTION", "Last_Attention", "model attentions (eager)",
               word_aggregation="attention_word_aggregation", needs_attentions=True,
               eager_attention=True),
    MethodSpec("vanilla_gradient", CLASSIFICATION, _CLS + "VanillaGradient", "Gradient-based", True,
               "VANILLA GRADIENT", "Vanilla_Gradient", "captum.attr.Saliency", uses_input_space=True),
    MethodSpec("input_x_grad", CLASSIFICATION, _CLS + "InputXGradient", "Gradient-based", True,
               "INPUT×GRAD", "InputXGrad", "captum.attr.InputXGradient", uses_input_space=True),
    MethodSpec("integrated_gradients", CLASSIFICATION, _CLS + "IntegratedGradients", "Gradient-based",
               True, "INTEGRATED GRADIENT", "Integrated_Gradient", "captum.attr.IntegratedGradients", uses_input_space=True),
    MethodSpec("deeplift", CLASSIFICATION, _CLS + "DeepLift", "Gradient-based", True, "DEEPLIFT",
               "DeepLIFT", "captum.attr.DeepLift", uses_input_space=True),
    MethodSpec("lime", CLASSIFICATION, _CLS + "Lime", "Perturbation-based", True, "LIME", "LIME",
               "captum.attr.Lime", uses_input_space=True, eager_attention=True),
    # Tuckey et al. (2019): LRP and the rankings the counterfactual check sets beside it
    MethodSpec("lrp", SUMMARIZATION, _SUM + "SummedLrp", "Relevance propagation", True,
               "LRP (summed)", implementation="epsilon-LRP (summarize.lrp), summed over output words"),
    MethodSpec("lrp_word", SUMMARIZATION, _SUM + "OneWordLrp", "Relevance propagation", True,
               "LRP (one word)", implementation="epsilon-LRP (summarize.lrp) of one output word"),
    MethodSpec("attention", SUMMARIZATION, _SUM + "SummedAttention", "Hidden States", False,
               "attention", implementation="decoder attention, summed over steps"),
    MethodSpec("input_x_grad", SUMMARIZATION, _SUM + "SummaryGradient", "Gradient-based", True,
               "gradient x input", implementation="captum.attr.InputXGradient"),
    MethodSpec("integrated_gradients", SUMMARIZATION, _SUM + "SummaryGradient", "Gradient-based",
               True, "integrated gradients", implementation="captum.attr.IntegratedGradients"),
):
    register(_spec)
