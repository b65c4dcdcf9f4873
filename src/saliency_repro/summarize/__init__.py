"""Tuckey et al. (2019): a See et al. (2017) seq2seq-with-attention summarizer and its epsilon-LRP.

Modules: :mod:`.text` (preprocessing, vocabulary), :mod:`.model` (the network, with the module
names of ``docs/SUMMARIZER_MODEL.md``), :mod:`.train`, :mod:`.decode` (greedy, beam, teacher-forced
scoring), :mod:`.rouge`, :mod:`.lrp` (batched epsilon-LRP), :mod:`.analysis`, :mod:`.figures` and
:mod:`.pipeline` (what the workflow scripts call).
"""
