"""Replication package for two papers on saliency explanations in NLP.

Tuckey, Broda & Russo (2019): LRP saliency maps for a seq2seq+attention summarizer.
Lu et al. (2024): crowd evaluation of seven saliency methods on BERT classifiers.

All logic lives here; the Snakemake scripts in ``scripts/`` are thin adapters.
"""

__version__ = "0.1.0"
