"""Lu et al. (2024) Table 5 as printed: literature values of other evaluation metrics on the
same saliency methods, typed in from the paper text (cited data, never computed here).

Each column keeps its source paper and setting as printed in the table's header rows ("Bb",
"Rob" and "Tf" are BERT-base, RoBERTa and Transformer; "-" = not reported, left out here).
Values are (value, printed rank). "Ours" is the paper's own crowd score s_j (Table 3, IMDB).
The table's caption: "Eff." and "Simu." are averages over experiment settings; "Comp." and
"Suff." are the values reported by Pruthi et al. (2022).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CitedColumn:
    key: str
    label: str
    source: str
    model: str
    dataset: str
    human_included: bool
    higher_is_better: bool
    values: dict[str, tuple[float, int]]


TABLE5: tuple[CitedColumn, ...] = (
    CitedColumn("ours", "Ours", "Lu et al. (2024)", "Bb", "IMDB", True, True, {
        "random": (42.9, 7), "all_attention": (78.5, 3), "last_attention": (66.9, 4),
        "vanilla_gradient": (79.5, 2), "input_x_grad": (52.1, 6),
        "integrated_gradients": (82.3, 1), "deeplift": (53.5, 5), "lime": (39.0, 8)}),
    CitedColumn("racu", "RACU", "Madsen et al. (2022)", "Rob", "IMDB", False, True, {
        "vanilla_gradient": (25.4, 2), "input_x_grad": (16.9, 3), "integrated_gradients": (35.1, 1)}),
    CitedColumn("eff", "Eff.", "Pruthi et al. (2022)", "Bb", "IMDB", False, True, {
        "random": (91.5, 7), "all_attention": (94.55, 1), "vanilla_gradient": (92.0, 4),
        "input_x_grad": (91.95, 5), "integrated_gradients": (93.1, 2), "deeplift": (92.7, 3),
        "lime": (91.95, 5)}),
    CitedColumn("simu", "Simu.", "Fernandes et al. (2022)", "Tf", "IMDB", False, True, {
        "all_attention": (86.27, 1), "last_attention": (85.18, 2), "vanilla_gradient": (83.14, 4),
        "input_x_grad": (83.27, 3), "integrated_gradients": (82.99, 5)}),
    CitedColumn("psi", "Psi.", "Ding and Koehn (2021)", "Tf", "PTB", True, True, {
        "vanilla_gradient": (0.551, 2), "integrated_gradients": (0.734, 1)}),
    CitedColumn("fait", "Fait.", "Ding and Koehn (2021)", "Tf", "PTB", False, True, {
        "vanilla_gradient": (0.160, 2), "integrated_gradients": (0.239, 1)}),
    CitedColumn("auprc", "AUPRC", "DeYoung et al. (2020)", "Bb+LSTM", "IMDB", True, True, {
        "random": (0.259, 4), "all_attention": (0.417, 1), "vanilla_gradient": (0.385, 2),
        "lime": (0.280, 3)}),
    CitedColumn("suff", "Suff.", "Pruthi et al. (2022)", "Bb", "IMDB", False, False, {
        "random": (0.29, 5), "all_attention": (0.11, 2), "vanilla_gradient": (0.25, 4),
        "input_x_grad": (0.33, 6), "integrated_gradients": (0.13, 3), "deeplift": (0.39, 7),
        "lime": (0.06, 1)}),
    CitedColumn("comp", "Comp.", "Pruthi et al. (2022)", "Bb", "IMDB", False, True, {
        "random": (0.04, 7), "all_attention": (0.28, 2), "vanilla_gradient": (0.11, 4),
        "input_x_grad": (0.06, 5), "integrated_gradients": (0.17, 3), "deeplift": (0.06, 5),
        "lime": (0.32, 1)}),
)
TABLE5_BY_KEY = {c.key: c for c in TABLE5}

#: The paper item whose dataset Table 5 is about (Table 5's "Ours" is Table 3's score).
TABLE5_DATASET_REF = "lu2024/table3"

#: Section 4.2 Q2, statement 1: the metrics whose ranking "completely agree[s]" with theirs.
PRINTED_COMPLETE_AGREEMENT = ("racu", "psi", "fait")
