"""Saliency methods of Lu et al. (2024), steps 2-3, at word level.

``methods``: the registry (Captum for every method Captum has; attention read from the model);
``words``: word-piece merging and the words that may be shown; ``display``: top-k with
deterministic ties and the crowd display string; ``attribute``: the batched driver;
``tables``: Table 1 (overlap), Table 2, Figure 4 and the rationale check; ``settings``: the
attribution settings every table states (input space, LIME variant, explained class, piece ->
word rule) and :func:`~saliency_repro.saliency.settings.saliency_settings_note` for captions.
"""
