"""Crowd evaluation of saliency methods (Lu et al. 2024, section 3 steps 4-8 and section 4).

Modules: :mod:`design` (tasks t_ijk and worker batches), :mod:`export` (platform CSV and HTML
pages), :mod:`simulate` (the simulated worker model), :mod:`released` (the authors' aggregated
labels), :mod:`platform` (imported per-worker answers), :mod:`aggregate` (equation (1) and
Dawid-Skene), :mod:`scores` (equation (2), Flips/Aids, misclassified counts), :mod:`stats`
(significance against RANDOM), :mod:`paper_values` (numbers printed in the paper),
:mod:`validation` (simulated vs. real crowd), :mod:`figures`, and :mod:`steps` (what the
workflow scripts call).

Answer coding follows docs/ARCHITECTURE.md, not the paper: a label is its index in
``label_names`` (0..C-1) and "I don't know" is -1; an unassigned (task, worker) pair has no row.
"""

IDK = -1
