"""One attribution interface for both papers (issue 15).

* :class:`~saliency_repro.attribution.core.Attributor`: ``attribute(batch) -> Attribution``,
  the single verb every method implements (in the spirit of Captum's ``attribute()``);
* :mod:`~saliency_repro.attribution.registry`: name -> method class with its type, whether it
  is class-specific, its word aggregation, its defaults and the paper's display name, for the
  classifier methods of Lu et al. and the summarizer rankings of Tuckey et al.;
* :mod:`~saliency_repro.attribution.ranking`: the one top-k rule (explicit sign policy,
  deterministic ties);
* :meth:`Attribution.to_words`: the one pieces -> words step;
* :mod:`~saliency_repro.attribution.ig`: the one integrated-gradients routine, which always
  records its completeness delta.
"""

from saliency_repro.attribution.core import Attribution, Attributor
from saliency_repro.attribution.ranking import apply_sign, rank, top_k
from saliency_repro.attribution.registry import MethodSpec, get_method, make_attributor, methods_for

__all__ = ["Attribution", "Attributor", "MethodSpec", "apply_sign", "get_method",
           "make_attributor", "methods_for", "rank", "top_k"]
