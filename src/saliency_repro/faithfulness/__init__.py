"""Automated faithfulness and plausibility metrics of the saliency methods (Lu et al. 2024,
section 2.2 and Table 5), and how their method rankings agree with the human ranking.

- :mod:`.metrics`: ERASER comprehensiveness / sufficiency (AOPC over bins and at the crowd's
  k grid), leave-one-out Kendall tau, deletion / insertion AUC, AUPRC and token F1 against a
  known rationale; written around a ``predict_proba(list of token-id lists) -> [n, C]``
  callable, so they are tested without BERT.
- :mod:`.model`: that callable for a Hugging Face classifier (batched, inference mode, GPU).
- :mod:`.paper_values`: Table 5 as printed (cited data, with the source of each column).
- :mod:`.compare`: method-level values, ranks, Kendall tau of each metric's ranking vs the
  human ranking with a bootstrap CI over samples, the extended Table 5, the Q2 claims.
- :mod:`.figures`: the heat map of those correlations.
- :mod:`.steps`: the workflow steps (file in, file out).
"""
