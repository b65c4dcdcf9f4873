"""The saliency methods of Lu et al. (2024) under their three spellings, read from the one
method registry (:mod:`saliency_repro.attribution.registry`).

``id`` is the config and file name, ``paper`` the name printed in the paper's tables,
``release`` the ``Saliency`` column value in the authors' released crowd files.
Order is the paper's table order (RANDOM first, as in Tables 3, 4, 7-9). Everything is read
from the registry when asked, so a method registered at run time is named like the others.
"""

from __future__ import annotations

from saliency_repro.attribution.registry import CLASSIFICATION, get_method, methods_for


def paper_name(method_id: str) -> str:
    """The paper's display name (methods registered later than this module's import too)."""
    return get_method(method_id, CLASSIFICATION).paper


def from_release(release_name: str) -> str:
    """Config id of a method spelled as in the released files; clear error when unknown."""
    by_release = {m.release: m.id for m in methods_for(CLASSIFICATION) if m.release}
    try:
        return by_release[release_name]
    except KeyError:
        raise ValueError(
            f"unknown saliency method {release_name!r}; expected one of {sorted(by_release)}"
        ) from None


def method_order() -> list[str]:
    """Ids of the classifier methods in table order, including methods registered at run time."""
    return [m.id for m in methods_for(CLASSIFICATION)]


def display_name(method_id: str) -> str:
    """The paper's name of a registered method, else the id itself (e.g. a release-only name)."""
    known = {m.id: m for m in methods_for(CLASSIFICATION)}
    return known[method_id].paper if method_id in known else str(method_id)


def ordered(methods) -> list[str]:
    """``methods`` in table order: registered ones in registry order, unknown ones after, sorted."""
    given = set(methods)
    order = method_order()
    return [m for m in order if m in given] + sorted(given - set(order))
