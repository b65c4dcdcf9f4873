"""Lu et al. (2024) Table 1 as printed (typed in from the paper text, not computed here).

Overlap rate (%) of the top-40 words of every pair of the seven saliency methods, mean over
100 IMDB movie reviews, bert-base-uncased. Shown beside this run's Table 1 for the datasets
that reproduce the paper's IMDB part (:func:`saliency_repro.saliency.tables.overlap_vs_paper`).
Keys are method ids of :mod:`saliency_repro.names`; the printed table is symmetric.
"""

from __future__ import annotations

#: the k and the number of samples of the printed Table 1
TABLE1_K = 40
TABLE1_SAMPLES = 100

_ORDER = ("all_attention", "last_attention", "vanilla_gradient", "input_x_grad",
          "integrated_gradients", "deeplift", "lime")
_ROWS = (
    (100, 50.4, 57.5, 31.2, 34.8, 31.8, 28.7),
    (50.4, 100, 48.5, 32.0, 33.9, 32.0, 29.0),
    (57.5, 48.5, 100, 37.65, 40.3, 37.9, 28.8),
    (31.2, 32.0, 37.65, 100, 37.0, 87.2, 28.3),
    (34.8, 33.9, 40.3, 37.0, 100, 37.5, 29.7),
    (31.8, 32.0, 37.9, 87.2, 37.5, 100, 28.3),
    (28.7, 29.0, 28.8, 28.3, 29.7, 28.3, 100),
)

#: ``TABLE1[a][b]``: printed overlap (%) of methods a and b
TABLE1: dict[str, dict[str, float]] = {
    a: {b: float(v) for b, v in zip(_ORDER, row, strict=True)} for a, row in zip(_ORDER, _ROWS, strict=True)
}

BY_REF = {"lu2024/table1": TABLE1}
