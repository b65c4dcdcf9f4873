"""The attribution protocol: one verb, one result type, one pieces -> words step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from saliency_repro.saliency.words import Word, aggregate

TOKEN = "token"
WORD = "word"


@dataclass
class Attribution:
    """Scores of one batch: one 1-D array per item (no padding), and per-item diagnostics.

    ``level`` says what a score is attached to: ``token`` (a word piece, or a source token of
    the summarizer) or ``word`` (a displayed word: RANDOM draws its scores per word).
    ``diagnostics`` maps a name to one value per item (e.g. IG's completeness delta).
    """

    scores: list[np.ndarray]
    level: str = TOKEN
    diagnostics: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.level not in (TOKEN, WORD):
            raise ValueError(f"unknown attribution level {self.level!r}")
        for name, values in self.diagnostics.items():
            if len(values) != len(self.scores):
                raise ValueError(f"diagnostic {name!r} has {len(values)} values for "
                                 f"{len(self.scores)} items")

    def to_words(self, words: Sequence[Sequence[Word]], how: str) -> Attribution:
        """Word scores from token scores (``how``: sum, mean, first, max_abs); a word-level
        attribution is returned as it is."""
        if self.level == WORD:
            return self
        if len(words) != len(self.scores):
            raise ValueError(f"{len(words)} word lists for {len(self.scores)} attributions")
        return Attribution(
            [aggregate(s, w, how) if len(w) else np.zeros(0) for s, w in zip(self.scores, words, strict=True)],
            WORD, dict(self.diagnostics),
        )


@runtime_checkable
class Attributor(Protocol):
    """What every saliency method implements. ``batch`` is the task's batch type
    (:class:`saliency_repro.saliency.methods.ClassifierBatch` for the classifiers,
    a sequence of :class:`saliency_repro.counterfactual.attribution.SummaryExample` for the
    summarizer)."""

    def attribute(self, batch: Any) -> Attribution: ...
