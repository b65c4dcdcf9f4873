"""DEEPLIFT vs INPUT×GRAD (issue 23): Captum's rescale rule acts only at the modules it
recognises (in a BERT classifier, the pooler's tanh). The two methods must differ well beyond
float noise where the pooler saturates, and coincide where the analysis says they must (no
recognised module; a pooler in its linear range). The rescale multiplier and the gap the
diagnostics report are checked against a network small enough to compute by hand."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("captum")

from saliency_repro.attribution.registry import CLASSIFICATION, make_attributor  # noqa: E402
from saliency_repro.saliency.deeplift import rescale_gap, rescaled_modules  # noqa: E402
from saliency_repro.saliency.methods import ClassifierBatch, ClassifierContext  # noqa: E402


def tiny_bert(pooler_std: float | None, identity_pooler: bool = False, seed: int = 0):
    """A 2-layer, 32-wide random BERT classifier; pooler weights drawn with ``pooler_std``."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=32, num_labels=3)
    model = BertForSequenceClassification(cfg)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                p.normal_(0.0, 0.1)
        model.classifier.weight.normal_(0.0, 1.0)
        if pooler_std is not None:
            model.bert.pooler.dense.weight.normal_(0.0, pooler_std)
            model.bert.pooler.dense.bias.zero_()
    if identity_pooler:
        model.bert.pooler.activation = torch.nn.Identity()
    return model.eval()


def scores(model, method, baseline="zero"):
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 60, (3, 12), generator=gen)
    ids[:, 0] = 2
    mask = torch.ones_like(ids)
    ctx = ClassifierContext(model, None, {"input_space": "embedding_output", "ig_baseline": baseline})
    batch = ClassifierBatch(ids, mask, [0, 1, 2], ["a", "b", "c"], [[], [], []])
    att = make_attributor(method, CLASSIFICATION, ctx).attribute(batch)
    return np.stack(att.scores), att.diagnostics


def rel_diff(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def test_bert_has_one_rescaled_module_the_pooler_tanh():
    names = [n for n, _ in rescaled_modules(tiny_bert(0.02))]
    assert names == ["bert.pooler.activation"]  # GELU and the softmax pass as linear


def test_deeplift_differs_from_input_x_grad_where_the_pooler_saturates():
    model = tiny_bert(pooler_std=2.0)
    dl, diag = scores(model, "deeplift")
    ixg, _ = scores(model, "input_x_grad")
    assert min(diag["deeplift_max_abs_preactivation"]) > 2.0  # saturated: |z| well past tanh's knee
    assert min(diag["deeplift_rescale_gap"]) > 0.1
    assert rel_diff(dl, ixg) > 0.05  # float noise is ~1e-6


def test_deeplift_is_input_x_grad_without_a_recognised_module():
    model = tiny_bert(pooler_std=2.0, identity_pooler=True)
    assert rescaled_modules(model) == []
    dl, diag = scores(model, "deeplift")
    ixg, _ = scores(model, "input_x_grad")
    assert np.isnan(diag["deeplift_rescale_gap"]).all()
    np.testing.assert_allclose(dl, ixg, rtol=1e-4, atol=1e-6)


def test_deeplift_is_input_x_grad_where_the_pooler_is_linear():
    model = tiny_bert(pooler_std=0.002)
    dl, diag = scores(model, "deeplift")
    ixg, _ = scores(model, "input_x_grad")
    assert max(diag["deeplift_max_abs_preactivation"]) < 0.1
    assert max(diag["deeplift_rescale_gap"]) < 1e-2
    assert rel_diff(dl, ixg) < 1e-2


def test_pad_baseline_is_not_input_x_grad_even_without_a_recognised_module():
    """With a non-zero baseline x0 DeepLift over linear modules is (x - x0) * gradient at x,
    not x * gradient: the coincidence needs the zero baseline too."""
    model = tiny_bert(pooler_std=2.0, identity_pooler=True)
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 60, (2, 10), generator=gen)
    mask = torch.ones_like(ids)

    class Tok:
        pad_token_id = 0

        def get_special_tokens_mask(self, row, already_has_special_tokens=True):
            return [0] * len(row)

    ctx = ClassifierContext(model, Tok(), {"input_space": "embedding_output", "ig_baseline": "pad"})
    batch = ClassifierBatch(ids, mask, [0, 1], ["a", "b"], [[], []])
    dl = np.stack(make_attributor("deeplift", CLASSIFICATION, ctx).attribute(batch).scores)
    x = ctx.inputs(ids)
    x0 = ctx.baseline(ids, x)
    xr = x.clone().requires_grad_(True)
    logits = ctx.forward(xr, ids, mask)
    grad = torch.autograd.grad(logits[[0, 1], [0, 1]].sum(), xr)[0]
    expected = ((x - x0) * grad).sum(-1).detach().numpy()
    np.testing.assert_allclose(dl, expected, rtol=1e-3, atol=1e-5)


def test_rescale_rule_and_gap_on_a_network_computed_by_hand():
    """y = w2 . tanh(W1 x + b1): DeepLift = (x - x0) * W1^T (w2 * m), m = (tanh z - tanh z0) / (z - z0)."""
    from captum.attr import DeepLift

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0, -1.0], [0.5, 1.5]]))
        net[0].bias.copy_(torch.tensor([0.25, -0.5]))
        net[2].weight.copy_(torch.tensor([[1.0, -2.0]]))
    x = torch.tensor([[1.0, 2.0]])
    x0 = torch.zeros_like(x)
    # by hand: z = W1 x + b1 = (2 - 2 + 0.25, 0.5 + 3 - 0.5) = (0.25, 3), z0 = b1 = (0.25, -0.5)
    z, z0 = np.array([0.25, 3.0]), np.array([0.25, -0.5])
    tangent = 1 - np.tanh(z) ** 2
    m = np.array([tangent[0], (np.tanh(z[1]) - np.tanh(z0[1])) / (z[1] - z0[1])])  # unit 0: z == z0
    W1, w2 = np.array([[2.0, -1.0], [0.5, 1.5]]), np.array([1.0, -2.0])
    expected = np.array([1.0, 2.0]) * (W1.T @ (w2 * m))
    got = DeepLift(net).attribute(x.clone().requires_grad_(True), baselines=x0).detach().numpy()[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    gap = rescale_gap(net, x, x0)
    np.testing.assert_allclose(gap["deeplift_rescale_gap"][0],
                               np.abs(m - tangent).sum() / tangent.sum(), rtol=1e-5)
    np.testing.assert_allclose(gap["deeplift_max_abs_preactivation"][0], 3.0, rtol=1e-6)
    np.testing.assert_allclose(gap["deeplift_mean_abs_preactivation"][0], 1.625, rtol=1e-6)


def _gelu(v):
    from math import erf, sqrt

    return np.array([0.5 * t * (1 + erf(t / sqrt(2))) for t in np.atleast_1d(v)])


def test_gelu_option_against_a_reference_on_a_small_network():
    """deeplift_rules: gelu rescales GELU as Captum rescales tanh: on y = w2 . gelu(W1 x + b1)
    DeepLift = (x - x0) * W1^T (w2 * m), m = (gelu z - gelu z0) / (z - z0); with the default
    (authors') rules GELU passes as linear and DeepLift = (x - x0) * W1^T (w2 * gelu'(z))."""
    from captum.attr import DeepLift
    from transformers.activations import GELUActivation

    from saliency_repro.saliency.deeplift import rescale_rules

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), GELUActivation(), torch.nn.Linear(2, 1, bias=False))
    W1, b1, w2 = np.array([[2.0, -1.0], [0.5, 1.5]]), np.array([0.25, -0.5]), np.array([1.0, -2.0])
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(W1))
        net[0].bias.copy_(torch.tensor(b1))
        net[2].weight.copy_(torch.tensor(w2[None, :]))
    xv = np.array([-1.0, 0.5])
    x, x0 = torch.tensor([xv], dtype=torch.float32), torch.zeros(1, 2)
    z, z0 = W1 @ xv + b1, b1                     # (-2.25, 0.75) and (0.25, -0.5)
    m = (_gelu(z) - _gelu(z0)) / (z - z0)
    h = 1e-5
    tangent = (_gelu(z + h) - _gelu(z - h)) / (2 * h)
    with rescale_rules("gelu"):
        assert [n for n, _ in rescaled_modules(net)] == ["1"]
        got = DeepLift(net).attribute(x.clone().requires_grad_(True), baselines=x0).detach().numpy()[0]
        gap = rescale_gap(net, x, x0)["deeplift_rescale_gap"][0]
    np.testing.assert_allclose(got, xv * (W1.T @ (w2 * m)), rtol=1e-4)
    np.testing.assert_allclose(gap, np.abs(m - tangent).sum() / np.abs(tangent).sum(), rtol=1e-3)
    assert rescaled_modules(net) == []            # the table is restored after the block
    plain = DeepLift(net).attribute(x.clone().requires_grad_(True), baselines=x0).detach().numpy()[0]
    np.testing.assert_allclose(plain, xv * (W1.T @ (w2 * tangent)), rtol=1e-4)


def test_gelu_option_changes_deeplift_on_bert_and_is_stated():
    from saliency_repro.saliency.settings import saliency_settings_note
    from saliency_repro.saliency.tables import method_table

    model = tiny_bert(pooler_std=0.002)          # linear pooler: captum rules = INPUT×GRAD
    with torch.no_grad():                        # GELU inputs of order 1 (trained-model scale)
        for layer in model.bert.encoder.layer:
            layer.intermediate.dense.weight.normal_(0.0, 0.5)
    ixg, _ = scores(model, "input_x_grad")
    dl_captum, _ = scores(model, "deeplift")
    assert rel_diff(dl_captum, ixg) < 1e-2
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 60, (3, 12), generator=gen)
    ids[:, 0] = 2
    cfg = {"input_space": "embedding_output", "deeplift_rules": "gelu"}
    ctx = ClassifierContext(model, None, cfg)
    batch = ClassifierBatch(ids, torch.ones_like(ids), [0, 1, 2], ["a", "b", "c"], [[], [], []])
    att = make_attributor("deeplift", CLASSIFICATION, ctx).attribute(batch)
    assert rel_diff(np.stack(att.scores), ixg) > 0.01
    assert min(att.diagnostics["deeplift_rescale_gap"]) > 0.01   # GELU units now count
    assert "deeplift_rules: gelu" in saliency_settings_note({"methods": ["deeplift"], **cfg})
    assert "every GELU" in method_table(["deeplift"], cfg).loc[0, "Setting"]
    assert "DEEPLIFT" not in saliency_settings_note({"methods": ["deeplift"]})  # authors' default
