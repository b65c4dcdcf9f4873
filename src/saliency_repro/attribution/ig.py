"""The package's one integrated-gradients routine (Captum underneath), used by the classifier
and the summarizer alike. It always returns the completeness delta (sum of the attributions
minus ``f(x) - f(baseline)``), and can choose the number of steps by it: with a
``tolerance``, samples whose relative gap ``|delta| / |f(x) - f(baseline)|`` is above it are
recomputed with twice the steps, up to ``max_steps`` (fewer FLOPs where the path is smooth;
the default is the fixed step count of the papers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class IGResult:
    """Attributions (same shape as the input), and per sample: completeness delta, the gap
    ``f(x) - f(baseline)`` of the explained output, and the steps used."""

    attributions: Any
    delta: np.ndarray
    f_gap: np.ndarray
    steps: np.ndarray


def _select(args: tuple, rows) -> tuple:
    """The rows of the per-sample (tensor) forward arguments."""
    import torch

    return tuple(a[rows] if isinstance(a, torch.Tensor) else a for a in args)


def integrated_gradients(
    forward: Callable, x, baseline, target=None, additional_forward_args: tuple = (),
    n_steps: int = 50, internal_batch_size: int | None = None,
    tolerance: float | None = None, max_steps: int | None = None,
) -> IGResult:
    """Captum ``IntegratedGradients`` of ``forward`` at ``x`` from ``baseline``.

    ``target``: one output index per sample (a list), or None when ``forward`` returns one
    value per sample. See the module docstring for ``tolerance`` / ``max_steps``.
    """
    import torch
    from captum.attr import IntegratedGradients

    args = tuple(additional_forward_args)
    explainer = IntegratedGradients(forward)

    def run(xs, bs, tgt, a, steps):
        attr, delta = explainer.attribute(
            xs.detach().clone().requires_grad_(True), baselines=bs, target=tgt,
            additional_forward_args=a if a else None, n_steps=int(steps),
            internal_batch_size=internal_batch_size, return_convergence_delta=True)
        return attr.detach(), delta.detach().double().cpu().numpy()

    attr, delta = run(x, baseline, target, args, n_steps)
    # Captum's delta is sum(attributions) - (f(x) - f(baseline)): the gap needs no extra pass
    gap = attr.flatten(1).sum(1).double().cpu().numpy() - delta
    steps = np.full(len(delta), int(n_steps))
    if tolerance is not None:
        limit = int(max_steps or n_steps)
        current = int(n_steps)
        while current < limit:
            loose = np.abs(delta) > float(tolerance) * np.maximum(np.abs(gap), 1e-12)
            if not loose.any():
                break
            current = min(2 * current, limit)
            rows = torch.as_tensor(np.flatnonzero(loose), device=x.device)
            sub_target = None if target is None else [target[i] for i in rows.tolist()]
            sub_attr, sub_delta = run(x[rows], baseline[rows], sub_target, _select(args, rows), current)
            attr[rows] = sub_attr
            delta[loose] = sub_delta
            steps[loose] = current
    return IGResult(attr, delta, gap, steps)
