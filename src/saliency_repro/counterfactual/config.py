"""The ``counterfactual`` config section as a typed object, with the checks a schema cannot make."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

METHODS = ("lrp", "lrp_word", "attention", "input_x_grad", "integrated_gradients")
MEASURES = ("rouge_l_change", "token_change", "logprob_drop")
OPERATORS = ("remove", "unk", "pad")
VARIANTS = ("free", "frozen")


@dataclass(frozen=True)
class CounterfactualConfig:
    """Settings of the deletion check (see ``schemas/config.schema.yaml`` for the meaning)."""

    n_articles: int = 100
    k: tuple[float, ...] = (5, 10, 20)
    k_unit: str = "words"
    random_draws: int = 20
    alpha: float = 0.05
    operator: str = "remove"
    methods: tuple[str, ...] = ("lrp", "attention", "input_x_grad", "integrated_gradients")
    relevance_sign: str = "signed"
    lrp_word_step: int = 0
    gradient_target: str = "logprob"
    ig_steps: int = 50
    ig_internal_batch_size: int = 50
    frozen_attention: bool = True
    primary_measure: str = "rouge_l_change"
    ci_level: float = 0.95
    ci_method: str = "wilson"
    wilcoxon_alternative: str = "two-sided"
    example_method: str = "lrp"
    example_k: float | None = None
    figure_max_input_words: int = 150
    batch_size: int = 128

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> CounterfactualConfig:
        """Build from the validated section and check what JSON schema cannot express."""
        known = set(cls.__dataclass_fields__)
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in section.items() if k in known}
        cfg = cls(**kw)
        cfg.check()
        return cfg

    def check(self) -> None:
        """Raise ``ValueError`` naming the key when values disagree with each other."""
        ks = list(self.k)
        if sorted(set(ks)) != ks:
            raise ValueError("config key 'counterfactual.k': must be strictly increasing")
        if self.k_unit == "words" and any(float(v) != int(v) or v < 1 for v in ks):
            raise ValueError("config key 'counterfactual.k': with k_unit 'words' every k must be "
                             "a positive integer")
        if self.k_unit == "fraction" and any(not 0 < v < 1 for v in ks):
            raise ValueError("config key 'counterfactual.k': with k_unit 'fraction' every k must "
                             "lie strictly between 0 and 1")
        if self.example_method not in self.methods:
            raise ValueError(f"config key 'counterfactual.example_method': "
                             f"{self.example_method!r} is not in counterfactual.methods")
        if self.example_k is not None and self.example_k not in ks:
            raise ValueError("config key 'counterfactual.example_k': must be one of counterfactual.k")
        if self.primary_measure not in MEASURES:
            raise ValueError(f"config key 'counterfactual.primary_measure': one of {MEASURES}")

    @property
    def variants(self) -> tuple[str, ...]:
        return VARIANTS if self.frozen_attention else VARIANTS[:1]

    def words_for(self, k: float, n_words: int) -> int | None:
        """Words deleted for grid value ``k`` in an article of ``n_words`` tokens, or None when
        the article is too short (at least one word must remain)."""
        n = int(k) if self.k_unit == "words" else max(1, int(round(k * n_words)))
        return n if n < n_words else None

    def example_k_value(self) -> float:
        """The k of the worked examples: ``example_k`` or the middle of the grid."""
        return self.example_k if self.example_k is not None else self.k[(len(self.k) - 1) // 2]
