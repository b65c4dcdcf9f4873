"""Sequence classifiers of Lu et al. (2024), step 1: build, fine-tune, evaluate, reload.

``model`` builds a classifier from a config (from-scratch tiny BERT with a WordPiece tokenizer
trained on the corpus, a hub id, a local directory, or the offline ``minilm`` package);
``train`` fine-tunes it with resumable checkpoints; ``evaluate`` predicts the test split.
"""
