"""Top-k words and the display string the crowd sees, in the released data's exact format.

Format (checked against all 200 samples x 40 displays of the authors' release): the
displayable words in their original order, each shown word written as ``word`` followed by one
space, each hidden word written as a single ``.`` with no space; so ``"sister .man ..."``
shows *sister* and *man* and hides the words between. When a text has fewer displayable words
than k, all of them are shown.

The top k is the package's one ranking rule (:func:`saliency_repro.attribution.ranking.top_k`):
ties in the scores are broken by text order (the earlier word wins), so the selection never
depends on sort stability or platform; NaN scores rank last.

The authors' display units are not whole words but the *head* word pieces of the
bert-base-uncased tokenization truncated to 254 pieces (256 with [CLS]/[SEP]): a continuation
piece (``##s``) is simply not shown, so *conglomerates* appears as ``conglomerate``.
:func:`release_units` reproduces that; the pipeline itself shows merged words (the issue's
word-level design), which is identical for texts whose words are single pieces (the demo).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from saliency_repro.attribution.ranking import top_k
from saliency_repro.saliency.words import is_punctuation

HIDDEN = "."
_UNIT = re.compile(r"\.|[^ .]+ ")


def render_display(words: Sequence[str], shown: Sequence[int] | set[int]) -> str:
    """The crowd display of ``words`` with positions ``shown`` visible (release format)."""
    shown_set = set(int(i) for i in shown)
    out = []
    for i, w in enumerate(words):
        if i in shown_set:
            if not w or " " in w or "." in w:
                raise ValueError(f"word {w!r} cannot be displayed unambiguously")
            out.append(w + " ")
        else:
            out.append(HIDDEN)
    return "".join(out)


def parse_display(display: str) -> tuple[list[str | None], list[int]]:
    """Invert :func:`render_display`: per unit the shown word (``None`` if hidden) and the shown positions."""
    units = _UNIT.findall(display)
    if "".join(units) != display:
        raise ValueError(f"not a display string: {display[:60]!r}")
    words = [None if u == HIDDEN else u[:-1] for u in units]
    return words, [i for i, w in enumerate(words) if w is not None]


def release_units(pieces: Sequence[str], max_pieces: int = 254) -> list[str]:
    """Display units of the authors' release from a full text given as WordPiece pieces.

    Head pieces of the first ``max_pieces`` pieces, punctuation dropped (see the module doc).
    """
    return [p for p in pieces[:max_pieces] if not p.startswith("##") and not is_punctuation(p)]


def displays_for_sample(
    words: Sequence[str], scores: Sequence[float], ks: Sequence[int], rank_by: str = "score"
) -> list[tuple[int, str, list[int]]]:
    """``(k, display, shown_positions)`` for every k; positions are word indices, sorted."""
    out = []
    for k in ks:
        shown = sorted(int(i) for i in top_k(scores, k, rank_by))
        out.append((int(k), render_display(words, shown), shown))
    return out
