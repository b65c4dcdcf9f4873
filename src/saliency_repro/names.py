"""The saliency methods of Lu et al. (2024) under their three spellings.

``id`` is the config and file name, ``paper`` the name printed in the paper's tables,
``release`` the ``Saliency`` column value in the authors' released crowd files.
Order is the paper's table order (RANDOM first, as in Tables 3, 4, 7-9).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodName:
    id: str
    paper: str
    release: str
    type: str
    class_specific: bool


METHODS: tuple[MethodName, ...] = (
    MethodName("random", "RANDOM", "Random", "Baseline", False),
    MethodName("all_attention", "ALL ATTENTION", "All_Attention", "Hidden States", False),
    MethodName("last_attention", "LAST ATTENTION", "Last_Attention", "Hidden States", False),
    MethodName("vanilla_gradient", "VANILLA GRADIENT", "Vanilla_Gradient", "Gradient-based", True),
    MethodName("input_x_grad", "INPUT×GRAD", "InputXGrad", "Gradient-based", True),
    MethodName("integrated_gradients", "INTEGRATED GRADIENT", "Integrated_Gradient", "Gradient-based", True),
    MethodName("deeplift", "DEEPLIFT", "DeepLIFT", "Gradient-based", True),
    MethodName("lime", "LIME", "LIME", "Perturbation-based", True),
)

BY_ID = {m.id: m for m in METHODS}
BY_RELEASE = {m.release: m for m in METHODS}
METHOD_ORDER = [m.id for m in METHODS]


def paper_name(method_id: str) -> str:
    return BY_ID[method_id].paper


def from_release(release_name: str) -> str:
    """Config id of a method spelled as in the released files; clear error when unknown."""
    try:
        return BY_RELEASE[release_name].id
    except KeyError:
        raise ValueError(
            f"unknown saliency method {release_name!r}; expected one of {sorted(BY_RELEASE)}"
        ) from None
