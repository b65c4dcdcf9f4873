"""The saliency registry on a tiny untrained BERT: shapes, determinism, IG completeness,
attention normalization. Expected values come from the model itself, never from the registry."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from saliency_repro.classify.model import build_classifier  # noqa: E402
from saliency_repro.classify.train import collate  # noqa: E402
from saliency_repro.names import METHOD_ORDER  # noqa: E402
from saliency_repro.saliency.attribute import attribute_samples, make_displays  # noqa: E402
from saliency_repro.saliency.methods import SaliencyRegistry  # noqa: E402

TEXTS = [
    "the film was brilliant and the cast was superb",
    "a dull boring plot",
    "stock markets fell as the bank raised rates again today",
]
CFG = {"methods": list(METHOD_ORDER), "ig_steps": 32, "ig_internal_batch_size": 32,
       "lime_samples": 30, "lime_perturbations_per_eval": 30, "batch_size": 2}


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    corpus = TEXTS * 5 + ["movies are great fun", "terrible awful waste of time"]
    model_cfg = {"type": "scratch", "hidden_size": 16, "num_layers": 2, "num_heads": 2,
                 "intermediate_size": 32, "vocab_size": 120}
    model, tok = build_classifier(model_cfg, ["neg", "pos"], 32, train_texts=corpus)
    model.config._attn_implementation = "eager"
    with torch.no_grad():  # an untrained head gives near-equal logits; LIME's Lasso would zero them
        model.classifier.weight.mul_(50.0)
    model.eval()
    ids = tok(TEXTS, truncation=True, max_length=32)["input_ids"]
    input_ids, mask = collate(ids, tok.pad_token_id, "cpu")
    return model, tok, input_ids, mask


@pytest.mark.parametrize("method", METHOD_ORDER)
def test_shape_padding_and_determinism(tiny, method):
    model, tok, input_ids, mask = tiny
    reg = SaliencyRegistry(model, tok, CFG, seed=3)
    targets, sids = [1, 0, 1], ["a", "b", "c"]
    torch.manual_seed(0)
    r1 = reg.run(method, input_ids, mask, targets, sids).scores
    torch.manual_seed(0)
    r2 = reg.run(method, input_ids, mask, targets, sids).scores
    assert r1.shape == tuple(input_ids.shape)
    assert np.isfinite(r1).all()
    assert (r1[mask.numpy() == 0] == 0).all()
    np.testing.assert_allclose(r1, r2, rtol=1e-5, atol=1e-6)
    # real tokens do get scores (not all zero)
    assert np.abs(r1[mask.numpy() == 1]).sum() > 0


def test_random_depends_on_seed_and_sample_not_on_batch(tiny):
    model, tok, input_ids, mask = tiny
    a = SaliencyRegistry(model, tok, CFG, seed=3).run("random", input_ids, mask, [0, 0, 0], ["a", "b", "c"]).scores
    b = SaliencyRegistry(model, tok, CFG, seed=4).run("random", input_ids, mask, [0, 0, 0], ["a", "b", "c"]).scores
    assert not np.allclose(a, b)
    alone = SaliencyRegistry(model, tok, CFG, seed=3).run("random", input_ids[1:2, :6], mask[1:2, :6], [0], ["b"]).scores
    n = int(mask[1].sum())
    np.testing.assert_array_equal(alone[0, :n], a[1, :n])


def test_gradient_scores_do_not_depend_on_batch_padding(tiny):
    model, tok, input_ids, mask = tiny
    reg = SaliencyRegistry(model, tok, CFG, seed=3)
    batch = reg.run("input_x_grad", input_ids, mask, [1, 0, 1], ["a", "b", "c"]).scores
    n = int(mask[1].sum())
    alone = reg.run("input_x_grad", input_ids[1:2, :n], mask[1:2, :n], [0], ["b"]).scores
    np.testing.assert_allclose(alone[0], batch[1, :n], rtol=1e-4, atol=1e-6)


def test_integrated_gradients_completeness(tiny):
    model, tok, input_ids, mask = tiny
    reg = SaliencyRegistry(model, tok, CFG, seed=3)
    targets = [1, 0, 1]
    res = reg.run("integrated_gradients", input_ids, mask, targets, ["a", "b", "c"])
    with torch.no_grad():
        emb = model.get_input_embeddings()(input_ids)
        fx = model(inputs_embeds=emb, attention_mask=mask).logits
        fb = model(inputs_embeds=torch.zeros_like(emb), attention_mask=mask).logits
    expected = (fx - fb)[torch.arange(3), torch.tensor(targets)].numpy()
    total = res.scores.sum(1)  # hidden_reduction=sum, so token scores sum to the attribution
    np.testing.assert_allclose(total, expected, atol=5e-3 + 0.02 * np.abs(expected).max())
    delta = np.asarray(res.diagnostics["ig_delta"])
    assert delta.shape == (3,)
    np.testing.assert_allclose(total - expected, delta, atol=1e-3)


def test_attention_normalization(tiny):
    model, tok, input_ids, mask = tiny
    with torch.no_grad():
        att = model(input_ids=input_ids, attention_mask=mask, output_attentions=True).attentions
    assert att is not None and len(att) == 2
    for layer in att:  # each query row is a distribution over the real keys
        rows = layer.sum(-1)  # [B, H, T]
        real = mask.bool()[:, None, :].expand_as(rows)
        np.testing.assert_allclose(rows[real].numpy(), 1.0, atol=1e-5)
        assert float(layer[:, :, :, :][~mask.bool()[:, None, None, :].expand_as(layer)].abs().max()) < 1e-6
    reg = SaliencyRegistry(model, tok, CFG)
    received = reg.attention_received(input_ids, mask).numpy()  # [B, L, T]
    np.testing.assert_allclose(received.sum(-1), 1.0, atol=1e-5)
    # by hand for sample 0, layer 1: mean over heads of the column sums over real queries
    n = int(mask[0].sum())
    by_hand = att[1][0, :, :n, :n].sum(1).mean(0).numpy() / n
    np.testing.assert_allclose(received[0, 1, :n], by_hand, rtol=1e-5)
    last = reg.run("last_attention", input_ids, mask, [0, 0, 0], ["a", "b", "c"]).scores
    np.testing.assert_allclose(last[0, :n], by_hand, rtol=1e-5)
    allatt = reg.run("all_attention", input_ids, mask, [0, 0, 0], ["a", "b", "c"]).scores
    np.testing.assert_allclose(allatt.sum(1), 1.0, atol=1e-5)


def test_attribute_samples_word_level_and_displays(tiny):
    import pandas as pd

    model, tok, _, _ = tiny
    samples = pd.DataFrame({"id": ["a", "b", "c"], "text": TEXTS, "label": [1, 0, 1], "pred": [1, 1, 1]})
    ws, diag = attribute_samples(model, tok, samples, CFG, 32, seed=1)
    assert set(ws["method"]) == set(METHOD_ORDER)
    per = ws.groupby(["sample_id", "method"]).size().unstack()
    expected_words = {"a": 9, "b": 4, "c": 10}
    for sid, n in expected_words.items():
        assert (per.loc[sid] == n).all()
    a = ws[(ws["sample_id"] == "a") & (ws["method"] == "random")].sort_values("word_index")
    assert a["word"].tolist() == TEXTS[0].split()
    assert a["text_position"].tolist() == list(range(9))
    assert "ig_convergence_delta" in diag
    d = make_displays(ws, samples, [2, 5, 40])
    assert len(d) == 3 * len(METHOD_ORDER) * 3
    row = d[(d["sample_id"] == "b") & (d["k"] == 40)].iloc[0]
    assert row["display"] == "a dull boring plot " and row["pred"] == 1
    assert all(len(s) == min(k, n) for s, k, n in zip(d["shown_positions"], d["k"], d["n_words"], strict=True))


def test_empty_samples_give_empty_valid_outputs(tiny):
    import pandas as pd

    model, tok, _, _ = tiny
    empty = pd.DataFrame({"id": pd.Series(dtype=str), "text": pd.Series(dtype=str),
                          "label": pd.Series(dtype="int64"), "pred": pd.Series(dtype="int64")})
    ws, diag = attribute_samples(model, tok, empty, CFG, 32)
    assert len(ws) == 0 and list(ws.columns)[:5] == ["sample_id", "method", "word_index", "word", "score"]
    d = make_displays(ws, empty, [5])
    assert len(d) == 0 and "display" in d.columns
