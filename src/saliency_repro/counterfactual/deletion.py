"""Deletion operators and random draws.

Three operators (config ``counterfactual.operator``), applied to token positions of the
truncated article the model sees:

* ``remove``: the tokens are taken out; the article gets shorter and later words move up.
* ``unk``: each deleted token becomes ``[UNK]`` (the word is unknown, its slot remains).
* ``pad``: each deleted token becomes ``[PAD]``: the model's padding embedding (zero, as
  ``padding_idx``) inside the sequence, and the position is masked out of the attention. A
  trailing ``[PAD]`` shortens the sequence (the summarizer's ``source_lengths`` convention).

**Frozen attention** needs the positions the original attention weights refer to, so in that
variant no position is ever dropped: ``remove`` and ``pad`` keep the slot, put ``[PAD]`` in it
and set its input embedding to zero (the word's own content is gone, its neighbours' encoder states are computed
without it, and the frozen weight on that slot now reads an encoder state built without the
word); ``unk`` puts ``[UNK]`` in the slot. The encoder runs over all S positions (explicit
lengths), so the states stay aligned with the frozen weights. Beyond the original summary's
length there is no original weight to freeze; such steps use freshly computed attention with the
deleted slots masked (see :mod:`.decoding`).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from saliency_repro.summarize.text import PAD_ID, UNK_ID


@dataclass
class Perturbed:
    """One model input: ids, which positions get a zero embedding, and the encoder length."""

    ids: list[int]
    zero: list[int]
    length: int


def _pad_length(ids: Sequence[int]) -> int:
    nonpad = [i for i, t in enumerate(ids) if t != PAD_ID]
    return (nonpad[-1] + 1) if nonpad else 1


def delete(ids: Sequence[int], positions: Sequence[int], operator: str, frozen: bool = False) -> Perturbed:
    """Apply ``operator`` at ``positions`` of ``ids``; ``frozen`` keeps every position (see module).

    Deleting nothing returns the article unchanged for every operator and variant.
    """
    ids = [int(t) for t in ids]
    pos = sorted({int(p) for p in positions})
    if any(p < 0 or p >= len(ids) for p in pos):
        raise IndexError(f"deletion positions {pos} outside an article of {len(ids)} tokens")
    if operator not in ("remove", "unk", "pad"):
        raise ValueError(f"unknown deletion operator {operator!r}")
    drop = set(pos)
    if frozen:
        if operator == "unk":
            return Perturbed([UNK_ID if i in drop else t for i, t in enumerate(ids)], [], len(ids))
        return Perturbed([PAD_ID if i in drop else t for i, t in enumerate(ids)], pos, len(ids))
    if operator == "remove":
        kept = [t for i, t in enumerate(ids) if i not in drop]
        return Perturbed(kept, [], len(kept))
    if operator == "unk":
        return Perturbed([UNK_ID if i in drop else t for i, t in enumerate(ids)], [], len(ids))
    new = [PAD_ID if i in drop else t for i, t in enumerate(ids)]
    return Perturbed(new, [], _pad_length(new))


def random_draws(n_words: int, k: int, draws: int, seed: int, article_id: str) -> list[list[int]]:
    """``draws`` sets of ``k`` distinct positions, uniform over the article.

    The generator is seeded by (seed, crc32 of the article id, k), so a draw does not depend on
    which other articles, k values or methods are in the run, and reruns are identical.
    """
    rng = np.random.default_rng([int(seed), zlib.crc32(str(article_id).encode()), int(k)])
    return [sorted(int(p) for p in rng.choice(n_words, size=k, replace=False)) for _ in range(draws)]
