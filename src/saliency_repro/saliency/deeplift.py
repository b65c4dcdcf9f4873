"""Why DEEPLIFT can be INPUT×GRAD: Captum's rescale rule and the modules it recognises.

``captum.attr.DeepLift`` runs the model on the input and on the baseline, and at every module
whose *type* is in Captum's ``SUPPORTED_NON_LINEAR`` table (``nn.ReLU``, ``nn.ELU``,
``nn.LeakyReLU``, ``nn.Sigmoid``, ``nn.Tanh``, ``nn.Softplus``, ``nn.Softmax``, max-pooling)
it replaces the local gradient ``f'(z)`` by the rescale multiplier
``(f(z) - f(z0)) / (z - z0)`` (z: the module's input on the text, z0: on the baseline). Every
other operation is differentiated as usual, at the input. The attribution is
``(x - x0) * modified gradient``.

In a Hugging Face BERT classifier the only such module is the pooler's ``nn.Tanh``: GELU is
``transformers``' own ``GELUActivation`` (not a Captum type) and the attention softmax is a
function call, not a module. So with the authors' zero baseline:

* where the pooler's tanh works in its linear range on both the text and the baseline
  (|z|, |z0| small), the multiplier equals ``tanh'(z)`` and DEEPLIFT equals INPUT×GRAD up to
  float noise: the gap measured by :func:`rescale_gap` is ~0;
* where the pooler saturates (|z| of order 1 or more, as in bert-base-uncased's pretrained
  pooler), the multipliers differ and so do the two methods;
* with no recognised module at all, DEEPLIFT with a zero baseline is INPUT×GRAD exactly.

:func:`rescale_gap` measures this on the texts being attributed, so the diagnostics file can
say *why* two columns of Table 1 coincide (see :mod:`saliency_repro.saliency.pairs` for the
coincidence itself).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

#: the elementwise modules of Captum's table (and GELU, with ``deeplift_rules: gelu``), whose
#: multiplier :func:`rescale_gap` compares
ELEMENTWISE = ("ReLU", "ELU", "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "GELU", "GELUActivation")


@contextlib.contextmanager
def rescale_rules(rules: str = "captum") -> Iterator[None]:
    """Captum's DeepLift with the rescale rule at the modules ``rules`` names.

    ``captum``: Captum's own table, unchanged (the authors'). ``gelu``: also ``nn.GELU`` and
    ``transformers``' ``GELUActivation`` (elementwise, so Captum's generic rescale multiplier
    ``(f(z) - f(z0)) / (z - z0)`` applies as it does to tanh). Captum keeps its table in a
    module-level dict keyed by exact type; the entries are added for the duration of the
    ``with`` block only and removed afterwards."""
    if rules == "captum":
        yield
        return
    if rules != "gelu":
        raise ValueError(f"config key 'saliency.deeplift_rules' must be 'captum' or 'gelu', got {rules!r}")
    import torch
    from captum.attr._core import deep_lift

    types = [torch.nn.GELU]
    try:
        from transformers.activations import GELUActivation

        types.append(GELUActivation)
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass
    added = [t for t in types if t not in deep_lift.SUPPORTED_NON_LINEAR]
    for t in added:
        deep_lift.SUPPORTED_NON_LINEAR[t] = deep_lift.nonlinear
    try:
        yield
    finally:
        for t in added:
            deep_lift.SUPPORTED_NON_LINEAR.pop(t, None)


def rescaled_modules(model: Any) -> list[tuple[str, Any]]:
    """``(name, module)`` of every module Captum's DeepLift applies its rescale rule to."""
    from captum.attr._core.deep_lift import SUPPORTED_NON_LINEAR

    return [(n, m) for n, m in model.named_modules() if type(m) in SUPPORTED_NON_LINEAR]


def _module_inputs(forward: Any, modules: Sequence[tuple[str, Any]], x: Any,
                   additional_forward_args: tuple) -> dict[str, Any]:
    """The input tensor of each module on one forward pass of ``forward(x, *args)``."""
    import torch

    seen: dict[str, Any] = {}
    handles = [m.register_forward_pre_hook(
        lambda _m, inp, name=n: seen.__setitem__(name, inp[0].detach().float().clone()))
        for n, m in modules]
    try:
        with torch.no_grad():
            forward(x, *additional_forward_args)
    finally:
        for h in handles:
            h.remove()
    return seen


def rescale_gap(forward: Any, x: Any, baseline: Any, additional_forward_args: tuple = (),
                eps: float = 1e-10) -> dict[str, list[float]]:
    """Per text: how far DeepLift's multipliers are from the plain gradient, and the pre-activations.

    For every elementwise module Captum rescales (:data:`ELEMENTWISE`) the pre-activations z
    (text) and z0 (baseline) are read with forward hooks; the rescale multiplier
    ``(f(z) - f(z0)) / (z - z0)`` (``f'(z)`` where ``|z - z0| < eps``, as Captum does) is
    compared with ``f'(z)``. Returns, one value per text:

    * ``deeplift_rescale_gap``: sum |multiplier - f'(z)| / sum |f'(z)| over all units of those
      modules (0: DEEPLIFT's backward pass is the gradient's, so with a zero baseline DEEPLIFT
      is INPUT×GRAD; NaN when the model has no such module: then the gap is exactly 0 and the
      methods coincide by construction, which :func:`rescaled_modules` tells);
    * ``deeplift_max_abs_preactivation`` / ``deeplift_mean_abs_preactivation``: max / mean
      |z| over those units (for tanh, |z| < 0.3 is its linear range to 3 %).
    """
    import torch

    modules = [(n, m) for n, m in rescaled_modules(forward) if type(m).__name__ in ELEMENTWISE]
    n_texts = int(x.shape[0])
    if not modules:
        nan = [float("nan")] * n_texts
        return {"deeplift_rescale_gap": nan, "deeplift_max_abs_preactivation": nan,
                "deeplift_mean_abs_preactivation": nan}
    z_all = _module_inputs(forward, modules, x, additional_forward_args)
    z0_all = _module_inputs(forward, modules, baseline, additional_forward_args)
    num = torch.zeros(n_texts)
    den = torch.zeros(n_texts)
    zmax = torch.zeros(n_texts)
    zsum = torch.zeros(n_texts)
    zcount = 0
    for name, module in modules:
        if name not in z_all:
            continue  # not on this forward path
        z, z0 = z_all[name].reshape(n_texts, -1), z0_all[name].reshape(n_texts, -1)
        with torch.enable_grad():
            zg = z.clone().requires_grad_(True)
            tangent = torch.autograd.grad(module(zg.clone()).sum(), zg)[0].detach()
        with torch.no_grad():
            dz = z - z0
            secant = torch.where(dz.abs() < eps, tangent, (module(z.clone()) - module(z0.clone())) / torch.where(
                dz.abs() < eps, torch.ones_like(dz), dz))
        num += (secant - tangent).abs().sum(1)
        den += tangent.abs().sum(1)
        zmax = torch.maximum(zmax, z.abs().max(1).values)
        zsum += z.abs().sum(1)
        zcount += z.shape[1]
    gap = (num / den.clamp_min(1e-30)).tolist()
    return {"deeplift_rescale_gap": [float(v) for v in gap],
            "deeplift_max_abs_preactivation": [float(v) for v in zmax.tolist()],
            "deeplift_mean_abs_preactivation": [float(v) / max(1, zcount) for v in zsum.tolist()]}


def summarize(per_text: dict[str, Sequence[float]]) -> dict[str, float]:
    """Mean and max over texts of each :func:`rescale_gap` quantity (NaN-aware)."""
    out: dict[str, float] = {}
    for key, vals in sorted(per_text.items()):
        v = np.asarray(list(vals), dtype=float)
        ok = v[~np.isnan(v)]
        out[f"{key}_mean"] = float(ok.mean()) if ok.size else float("nan")
        out[f"{key}_max"] = float(ok.max()) if ok.size else float("nan")
    return out
