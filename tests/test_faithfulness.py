"""Known answers of the faithfulness metrics (Lu et al. Table 5's automated metrics), worked
out by hand on fake ``predict_proba`` functions: a two-word model where removing one word
flips the prediction, a model that ignores its input, and an AOPC summed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from saliency_repro.faithfulness.metrics import (
    FaithfulnessSettings,
    SampleInput,
    bin_sizes,
    curve_sizes,
    evaluate,
    evaluate_sample,
    kendall_tau_b,
    perturb,
    token_owner,
)

CLS, SEP, MASK = 101, 102, 103
GOOD, MOVIE = 7, 8


def values(rows, method):
    return {r["metric"]: r["value"] for r in rows if r["method"] == method}


# ------------------------------------------------------------------ perturbations
def test_removing_a_word_removes_all_its_pieces_and_keeps_the_order():
    # [CLS] home ##gen ##ous , day [SEP]: words (1, 2, 3) and (5,); the comma (4) is no word
    ids = np.array([CLS, 11, 12, 13, 14, 15, SEP])
    owner = token_owner(len(ids), [(1, 2, 3), (5,)])
    assert perturb(ids, owner, np.array([False, True]), "remove", None) == [CLS, 14, 15, SEP]
    assert perturb(ids, owner, np.array([True, False]), "remove", None) == [CLS, 11, 12, 13, 14, SEP]
    assert perturb(ids, owner, np.array([False, True]), "mask", MASK) == [CLS, MASK, MASK, MASK, 14, 15, SEP]
    assert perturb(ids, owner, np.array([False, False]), "remove", None) == [CLS, 14, SEP]


def test_bin_and_curve_sizes():
    assert bin_sizes(20, [1, 5, 10, 20, 50]) == [1, 1, 2, 4, 10]   # ceil(0.2), ceil(1), 2, 4, 10
    assert bin_sizes(3, [1, 50, 100]) == [1, 2, 3]
    assert curve_sizes(4, 21) == [0, 1, 2, 3, 4]                   # short text: every k
    assert curve_sizes(40, 5) == [0, 10, 20, 30, 40]
    assert curve_sizes(5, None) == [0, 1, 2, 3, 4, 5]


# ------------------------------------------------------------------ two words, one decides
def two_word_model(batch):
    """p(positive) = 0.9 when GOOD is in the input, else 0.2: removing GOOD flips the prediction."""
    p = np.array([0.9 if GOOD in ids else 0.2 for ids in batch])
    return np.stack([1 - p, p], axis=1)


def two_word_sample(perturbation_mask=False):
    return SampleInput("s", [CLS, GOOD, MOVIE, SEP], [(1,), (2,)], target=1,
                       scores={"right": np.array([2.0, 1.0]), "wrong": np.array([1.0, 2.0])},
                       mask_id=MASK if perturbation_mask else None)


@pytest.mark.parametrize("perturbation", ["remove", "mask"])
def test_two_word_model_where_removing_one_word_flips_the_prediction(perturbation):
    settings = FaithfulnessSettings(bins=(1, 5, 10, 20, 50), k_grid=(1, 2), perturbation=perturbation,
                                    curve_points=None)
    rows = evaluate_sample(two_word_sample(perturbation == "mask"), two_word_model, settings)
    assert two_word_model([[CLS, MOVIE, SEP]])[0].argmax() == 0  # the flip the metrics must see
    right, wrong = values(rows, "right"), values(rows, "wrong")
    # n = 2: every bin is k = 1. "right" ranks GOOD first: removing it drops 0.9 -> 0.2
    assert right["comprehensiveness@1%"] == pytest.approx(0.7)
    assert right["comprehensiveness"] == pytest.approx(0.7)        # mean of five bins of 0.7
    assert right["sufficiency"] == pytest.approx(0.0)              # GOOD alone keeps 0.9
    assert wrong["comprehensiveness"] == pytest.approx(0.0)        # removing MOVIE changes nothing
    assert wrong["sufficiency"] == pytest.approx(0.7)              # MOVIE alone: 0.2
    # crowd grid k = 1, 2: at k = 2 every word is removed (0.2) / kept (0.9)
    assert right["comprehensiveness@2w"] == pytest.approx(0.7)
    assert right["sufficiency@2w"] == pytest.approx(0.0)
    assert wrong["comprehensiveness_kgrid"] == pytest.approx((0.0 + 0.7) / 2)
    # leave-one-out drops: GOOD 0.7, MOVIE 0.0
    assert right["tau_loo"] == pytest.approx(1.0)
    assert wrong["tau_loo"] == pytest.approx(-1.0)
    # curves at x = 0, 1/2, 1 (trapezoids of width 1/2)
    assert right["deletion_auc"] == pytest.approx(0.5 * (0.9 + 0.2) / 2 + 0.5 * (0.2 + 0.2) / 2)  # 0.375
    assert wrong["deletion_auc"] == pytest.approx(0.5 * (0.9 + 0.9) / 2 + 0.5 * (0.9 + 0.2) / 2)  # 0.725
    assert right["insertion_auc"] == pytest.approx(0.725)
    assert wrong["insertion_auc"] == pytest.approx(0.375)
    assert [r["p_full"] for r in rows] == pytest.approx([0.9] * len(rows))


# ------------------------------------------------------------------ a model that ignores its input
def constant_model(batch):
    return np.tile([0.3, 0.7], (len(batch), 1))


def test_a_model_that_ignores_its_input_gives_the_null_values():
    rng = np.random.default_rng(0)
    n = 12
    sample = SampleInput("s", [CLS, *range(10, 10 + n), SEP], [(i,) for i in range(1, n + 1)], target=1,
                         scores={"a": rng.normal(size=n), "b": np.arange(n, dtype=float)},
                         truth=np.arange(n) < 3)
    settings = FaithfulnessSettings(k_grid=(5, 10, 20), curve_points=5)
    rows = evaluate_sample(sample, constant_model, settings, token_f1_k=3)
    for method in ("a", "b"):
        v = values(rows, method)
        for name, value in v.items():
            if name.startswith(("comprehensiveness", "sufficiency")):
                assert value == pytest.approx(0.0), name
        assert math.isnan(v["tau_loo"])   # every leave-one-out drop is 0: tau undefined
        assert v["deletion_auc"] == pytest.approx(0.7)
        assert v["insertion_auc"] == pytest.approx(0.7)


def test_the_null_model_is_nan_in_the_mean_over_samples_not_zero():
    from saliency_repro.faithfulness.metrics import method_means

    samples = [SampleInput(f"s{i}", [CLS, 10, 11, 12, SEP], [(1,), (2,), (3,)], 1,
                           {"a": np.array([3.0, 2.0, 1.0])}) for i in range(3)]
    means = method_means(evaluate(samples, constant_model, FaithfulnessSettings(k_grid=(2,)))).set_index("metric")
    assert "tau_loo" not in means.index   # no sample has a defined tau: no mean, n = 0
    assert means.loc["comprehensiveness", "mean"] == 0.0
    assert means.loc["comprehensiveness", "n"] == 3


# ------------------------------------------------------------------ AOPC summed by hand
def additive_model(weights, base=0.1):
    """p(class 1) = base + sum of the weights of the word tokens present (ids 10 + i)."""
    def predict(batch):
        p = np.array([base + sum(weights[t - 10] for t in ids if 10 <= t < 10 + len(weights)) for ids in batch])
        return np.stack([1 - p, p], axis=1)
    return predict


def test_aopc_over_the_bins_equals_the_hand_summed_value():
    n = 20
    weights = [(20 - i) / 400 for i in range(n)]        # word i weighs (20 - i) / 400
    sample = SampleInput("s", [CLS, *range(10, 10 + n), SEP], [(i,) for i in range(1, n + 1)], 1,
                         {"exact": np.array(weights)})
    settings = FaithfulnessSettings(bins=(1, 5, 10, 20, 50), k_grid=(5,), curve_points=None)
    v = values(evaluate_sample(sample, additive_model(weights), settings), "exact")
    # bins -> k = 1, 1, 2, 4, 10; top-k weight sums: 20, 20, 39, 74, 155 (/400)
    comp = [20 / 400, 20 / 400, 39 / 400, 74 / 400, 155 / 400]
    assert [v[f"comprehensiveness@{b}%"] for b in (1, 5, 10, 20, 50)] == pytest.approx(comp)
    assert v["comprehensiveness"] == pytest.approx(0.77 / 5)       # (.05+.05+.0975+.185+.3875)/5
    # sufficiency@k = p(W) - p(T_k) = 0.525 - top-k weights
    assert v["sufficiency"] == pytest.approx((0.475 + 0.475 + 0.4275 + 0.34 + 0.1375) / 5)
    assert v["comprehensiveness@5w"] == pytest.approx((20 + 19 + 18 + 17 + 16) / 400)
    # leave-one-out drops are the weights themselves: a perfect ranking
    assert v["tau_loo"] == pytest.approx(1.0)
    # deletion: p after removing the top k = 0.1 + sum of the 20 - k smallest weights
    xs = np.arange(n + 1) / n
    dele = [0.1 + sum(weights[k:]) for k in range(n + 1)]
    assert v["deletion_auc"] == pytest.approx(sum((dele[i] + dele[i + 1]) / 2 / n for i in range(n)))
    assert xs[-1] == 1.0


# ------------------------------------------------------------------ plausibility
def test_auprc_and_token_f1_against_a_known_rationale():
    truth = np.array([True, False, True, False, False, False])
    sample = SampleInput("s", [CLS, *range(10, 16), SEP], [(i,) for i in range(1, 7)], 1,
                         {"m": np.array([0.9, 0.8, 0.1, 0.5, 0.2, 0.3])}, truth=truth)
    v = values(evaluate_sample(sample, constant_model, FaithfulnessSettings(k_grid=(2,)), token_f1_k=2), "m")
    # ranking 0 (cue), 1, 3, 5, 4, 2 (cue): precision at the cues 1/1 and 2/6 -> AP = (1 + 1/3) / 2
    assert v["auprc"] == pytest.approx((1 + 1 / 3) / 2)
    # top-2 = {0, 1}: one of two cues, F1 = 2 * 1 / (2 + 2)
    assert v["token_f1"] == pytest.approx(0.5)


# ------------------------------------------------------------------ Kendall tau-b
def test_kendall_tau_b_matches_scipy_with_ties():
    from scipy.stats import kendalltau

    rng = np.random.default_rng(3)
    for _ in range(20):
        x, y = rng.integers(0, 4, 9).astype(float), rng.integers(0, 5, 9).astype(float)
        expected = kendalltau(x, y).statistic
        got = kendall_tau_b(x, y)
        assert (np.isnan(expected) and np.isnan(got)) or got == pytest.approx(expected)
    assert np.isnan(kendall_tau_b(np.ones(4), np.arange(4)))
    batch = kendall_tau_b(np.array([[1, 2, 3], [3, 2, 1]]), np.array([1, 2, 3]))
    assert batch.tolist() == [1.0, -1.0]


# ------------------------------------------------------------------ the batched classifier
def test_batched_classifier_returns_probabilities_in_input_order():
    torch = pytest.importorskip("torch")
    from types import SimpleNamespace

    from saliency_repro.faithfulness.model import BatchedClassifier

    class Counting(torch.nn.Module):
        """logits = (0, number of real tokens): the order of the output is checkable."""
        config = SimpleNamespace(num_labels=2)

        def forward(self, input_ids, attention_mask):
            n = attention_mask.sum(dim=1).float()
            return SimpleNamespace(logits=torch.stack([torch.zeros_like(n), n], dim=1))

    clf = BatchedClassifier(Counting(), pad_id=0, batch_size=2)
    batch = [[5] * k for k in (3, 1, 4, 2, 5)]
    out = clf(batch)
    expected = 1 / (1 + np.exp(-np.array([3, 1, 4, 2, 5.0])))
    assert out[:, 1] == pytest.approx(expected)
    assert clf.inputs == 5 and clf.batches == 3


def test_settings_reject_bad_values():
    with pytest.raises(ValueError, match="faithfulness.perturbation"):
        FaithfulnessSettings(perturbation="delete")
    with pytest.raises(ValueError, match="faithfulness.bins"):
        FaithfulnessSettings(bins=(0,))


def test_word_scores_of_another_tokenization_are_refused():
    from saliency_repro.faithfulness.steps import sample_inputs

    class Tok:  # whitespace "tokenizer" with the interface encode_samples needs
        pad_token_id, mask_token_id, unk_token_id = 0, 3, 1

        def get_vocab(self):
            return {"[PAD]": 0, "[UNK]": 1, "a": 4}

        def __call__(self, text, **kw):
            words = text.split()
            offsets, pos = [(0, 0)], 0
            for w in words:
                start = text.index(w, pos)
                offsets.append((start, start + len(w)))
                pos = start + len(w)
            offsets.append((0, 0))
            return {"input_ids": [101, *range(10, 10 + len(words)), 102], "offset_mapping": offsets,
                    "special_tokens_mask": [1, *[0] * len(words), 1]}

        def convert_ids_to_tokens(self, ids):
            return ["[CLS]", *[f"w{i}" for i in ids[1:-1]], "[SEP]"]

    samples = pd.DataFrame({"id": ["x"], "text": ["good movie"], "label": [1], "pred": [1],
                            "rationale": [[0]]})
    ws = pd.DataFrame({"sample_id": "x", "method": "m", "word_index": [0, 1], "word": ["good", "movie"],
                       "score": [1.0, 0.0], "text_position": [0, 1]})
    (s,) = sample_inputs(samples, ws, Tok(), 16, "predicted")
    assert s.word_tokens == [(1,), (2,)] and s.target == 1 and s.truth.tolist() == [True, False]
    with pytest.raises(ValueError, match="sample x, method m"):
        sample_inputs(samples, ws.iloc[:1], Tok(), 16, "predicted")


def test_metrics_step_on_a_tiny_bert(tmp_path):
    """The workflow step end to end on a tiny untrained BERT: the same words as the attribute
    rule, p_full is the model's own probability of the explained class, both perturbations run."""
    torch = pytest.importorskip("torch")
    import json

    from saliency_repro.classify.model import build_classifier
    from saliency_repro.faithfulness.steps import metrics_step
    from saliency_repro.saliency.attribute import encode_samples

    texts = ["the film was brilliant , the cast superb", "a dull boring plot", "markets fell again today"]
    torch.manual_seed(0)
    model, tok = build_classifier({"type": "scratch", "hidden_size": 16, "num_layers": 1, "num_heads": 2,
                                   "intermediate_size": 32, "vocab_size": 100}, ["neg", "pos"], 32,
                                  train_texts=texts * 4)
    model.save_pretrained(tmp_path / "clf")
    tok.save_pretrained(tmp_path / "clf")
    samples = pd.DataFrame({"id": ["a", "b", "c"], "text": texts, "label": [1, 0, 0], "pred": [1, 0, 1]})
    rows = []
    rng = np.random.default_rng(0)
    for sid, enc in zip(samples["id"], encode_samples(tok, texts, 32), strict=True):
        for method in ("random", "lime"):
            rows += [{"sample_id": sid, "method": method, "word_index": i, "word": w.text,
                      "score": float(rng.normal()), "text_position": w.text_position}
                     for i, w in enumerate(enc["words"])]
    samples.to_parquet(tmp_path / "samples.parquet")
    pd.DataFrame(rows).to_parquet(tmp_path / "ws.parquet")
    model.eval()
    for perturbation in ("remove", "mask"):
        out = tmp_path / f"{perturbation}.parquet"
        metrics_step(str(tmp_path / "samples.parquet"), str(tmp_path / "ws.parquet"), str(tmp_path / "clf"),
                     str(out), str(tmp_path / "run.json"),
                     {"bins": [10, 50], "perturbation": perturbation, "curve_points": 5, "batch_size": 4,
                      "n_samples": 2}, [2, 4], "score", "predicted", 32, "cpu")
        ps = pd.read_parquet(out)
        assert set(ps["sample_id"]) == {"a", "b"} and set(ps["method"]) == {"random", "lime"}
        ids = tok(texts[0], truncation=True, max_length=32)["input_ids"]
        with torch.no_grad():
            p = torch.softmax(model(input_ids=torch.tensor([ids])).logits, -1)[0, 1].item()
        assert ps.loc[ps["sample_id"] == "a", "p_full"].iloc[0] == pytest.approx(p, abs=1e-5)
        assert (ps["target"] == ps["sample_id"].map({"a": 1, "b": 0})).all()   # the predicted class
        info = json.loads((tmp_path / "run.json").read_text())
        assert info["n_samples"] == 2 and info["forward_inputs"] > 0
