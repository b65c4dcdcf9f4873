"""The counterfactual deletion check of Tuckey et al. (2019), made quantitative.

Delete the input words a saliency map marks as most important, decode again and compare the
change of the summary with the change after deleting as many random words (R draws). An
article's map is *confirmed* when the Monte-Carlo p-value of its change among the random
changes, (1 + #{random changes >= it}) / (R + 1), is at most alpha; the confirmed fraction over N articles gets a binomial CI, and a Wilcoxon signed-rank
test compares important with mean-random change across articles. An attention-frozen variant
re-decodes with the original attention weights, which separates a word's own contribution
from the redistribution of attention its deletion causes.

Modules: :mod:`.config` (the ``counterfactual`` config section), :mod:`.deletion` (operators,
random draws), :mod:`.decoding` (batched greedy decoding and teacher-forced scoring on perturbed
inputs, with frozen attention), :mod:`.attribution` (rankings: LRP, attention, gradient x input,
integrated gradients), :mod:`.measures`, :mod:`.stats` (verdicts, CIs, Wilcoxon, example
selection), :mod:`.figures` and :mod:`.pipeline` (what the workflow scripts call).
"""
