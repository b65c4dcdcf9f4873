"""The one attribution interface (issue 15): registry, ranking rule, pieces -> words step,
the one IG routine (completeness delta, adaptive steps), length bucketing, and a method added
by one class and one registry entry reaching every table. Expected values are worked out by
hand or by an independent computation, never by the code under test."""

import numpy as np
import pandas as pd
import pytest

from saliency_repro.attribution import Attribution, apply_sign, get_method, methods_for, rank, top_k
from saliency_repro.attribution.core import TOKEN, WORD
from saliency_repro.attribution.registry import (
    CLASSIFICATION,
    SUMMARIZATION,
    MethodSpec,
    register,
    unregister,
)
from saliency_repro.saliency.words import Word

# ------------------------------------------------------------------------------ registry


def test_registry_holds_both_papers_methods_with_their_metadata():
    lu = [m.id for m in methods_for(CLASSIFICATION)]
    assert lu == ["random", "all_attention", "last_attention", "vanilla_gradient", "input_x_grad",
                  "integrated_gradients", "deeplift", "lime"]  # the paper's table order
    assert [m.id for m in methods_for(SUMMARIZATION)] == [
        "lrp", "lrp_word", "attention", "input_x_grad", "integrated_gradients"]
    ig = get_method("integrated_gradients")
    assert (ig.paper, ig.release, ig.type, ig.class_specific) == (
        "INTEGRATED GRADIENT", "Integrated_Gradient", "Gradient-based", True)
    assert get_method("random").word_aggregation is None            # scores words itself
    assert get_method("all_attention").needs_attentions
    assert not get_method("all_attention").class_specific
    assert get_method("integrated_gradients", SUMMARIZATION).paper == "integrated gradients"
    for task in (CLASSIFICATION, SUMMARIZATION):                     # every class resolves
        for spec in methods_for(task):
            assert hasattr(spec.load(), "attribute"), spec.id


def test_unknown_and_duplicate_methods_are_clear_errors():
    with pytest.raises(ValueError, match="unknown classification saliency method 'shap'.*lime"):
        get_method("shap")
    with pytest.raises(ValueError, match="already registered"):
        register(get_method("lime"))


def test_config_names_the_key_of_an_unknown_method(repo, registered_toy):
    from saliency_repro.config import ConfigError, load_config

    demo = repo / "config.yaml"
    with pytest.raises(ConfigError, match=r"saliency\.methods\[1\].*'shap'"):
        load_config(demo, {"saliency": {"methods": ["lime", "shap"]}})
    with pytest.raises(ConfigError, match="counterfactual.example_method"):
        load_config(demo, {"counterfactual": {"methods": ["lrp"], "example_method": "x"}})
    # a registered method is a valid name without any schema edit
    assert load_config(demo, {"saliency": {"methods": ["lime", "token_position", "random"]}})


# ------------------------------------------------------------------------------ ranking


def test_ranking_ties_nan_and_sign_policy():
    assert top_k([1.0, 3.0, 3.0, 2.0], 2).tolist() == [1, 2]          # tie: earlier first
    assert top_k([0.0, 0.0, 0.0], 2).tolist() == [0, 1]
    assert top_k([np.nan, 1.0, 2.0], 3).tolist() == [2, 1, 0]        # NaN last
    assert top_k([-5.0, 1.0, 2.0], 1).tolist() == [2]                # signed: support
    assert top_k([-5.0, 1.0, 2.0], 1, "abs").tolist() == [0]         # abs: magnitude
    assert top_k([-5.0, 1.0, 2.0], 1, "score").tolist() == [2]       # saliency.rank_by spelling
    assert top_k([1.0, 2.0], 40).tolist() == [1, 0]                  # k beyond the text
    assert top_k([1.0, 2.0], 0).tolist() == []
    assert rank([0.1, 0.5, 0.5, 0.9, 0.5]).tolist() == [3, 1, 2, 4, 0]
    np.testing.assert_array_equal(apply_sign([-2.0, 1.0], "abs"), [2.0, 1.0])
    with pytest.raises(ValueError, match="sign policy"):
        top_k([1.0], 1, "positive")


def test_every_caller_uses_the_one_ranking_rule():
    """Displays (crowd), the counterfactual check and the faithfulness metrics all pick the
    same words for the same scores: there is one rule."""
    from saliency_repro.faithfulness.metrics import ranked_values
    from saliency_repro.saliency.display import displays_for_sample

    scores = np.array([0.2, -0.9, 0.5, 0.5, 0.1])
    (_, _, shown), = displays_for_sample(list("abcde"), scores, [2])
    assert shown == [2, 3]
    (_, _, shown_abs), = displays_for_sample(list("abcde"), scores, [2], "abs")
    assert shown_abs == [1, 2]
    np.testing.assert_array_equal(ranked_values(scores, "abs"), np.abs(scores))


# ------------------------------------------------------------------------------ pieces -> words


def test_to_words_aggregates_pieces_on_known_cases():
    words = [Word("homogenization", (1, 2, 3), 0), Word("is", (4,), 1)]
    att = Attribution([np.array([9.0, 1.0, -2.0, 4.0, 0.5, 7.0])])  # [CLS] ... [SEP] never count
    assert att.level == TOKEN
    np.testing.assert_allclose(att.to_words([words], "sum").scores[0], [3.0, 0.5])
    np.testing.assert_allclose(att.to_words([words], "mean").scores[0], [1.0, 0.5])
    np.testing.assert_allclose(att.to_words([words], "first").scores[0], [1.0, 0.5])
    np.testing.assert_allclose(att.to_words([words], "max_abs").scores[0], [4.0, 0.5])
    per_word = att.to_words([words], "sum")
    assert per_word.level == WORD and per_word.to_words([words], "first") is per_word
    with pytest.raises(ValueError, match="word aggregation"):
        att.to_words([words], "median")
    with pytest.raises(ValueError, match="diagnostic 'ig_delta'"):
        Attribution([np.zeros(2)], diagnostics={"ig_delta": [0.1, 0.2]})


# ------------------------------------------------------------------------------ batching


def test_length_batches_waste_no_padding_by_default():
    from saliency_repro.saliency.attribute import length_batches, max_padding_for

    lengths = [5, 3, 5, 9, 3, 5, 4]
    batches = length_batches(lengths, batch_size=2)
    assert sorted(i for b in batches for i in b) == list(range(7))   # every text once
    for b in batches:
        assert len({lengths[i] for i in b}) == 1 and len(b) <= 2      # equal lengths only
    assert batches == [[1, 4], [6], [0, 2], [5], [3]]
    # a padding budget lets similar lengths share a batch, never beyond it
    loose = length_batches(lengths, batch_size=8, max_padding=0.25)
    for b in loose:
        real = sum(lengths[i] for i in b)
        assert max(lengths[i] for i in b) * len(b) - real <= 0.25 * real
    assert len(loose) < len(batches)
    assert max_padding_for({}, "cpu") == 0.0 and max_padding_for({}, "cuda:0") > 0
    assert max_padding_for({"max_padding": 0.1}, "cpu") == 0.1


# ------------------------------------------------------------------------------ integrated gradients


def test_ig_records_completeness_and_adaptive_steps_close_the_gap():
    torch = pytest.importorskip("torch")
    from saliency_repro.attribution.ig import integrated_gradients

    def forward(x):  # f(x) = sum(exp(3 x)): convex, so few steps leave a visible gap
        return torch.exp(3 * x).sum(1)

    x = torch.tensor([[0.9, -0.3, 0.5], [0.01, 0.02, 0.03]], dtype=torch.float64)
    base = torch.zeros_like(x)
    exact_gap = (np.exp(3 * x.numpy()) - 1).sum(1)
    exact_attr = np.exp(3 * x.numpy()) - 1                      # f is additive: per-coordinate
    fixed = integrated_gradients(forward, x, base, n_steps=2)
    np.testing.assert_allclose(fixed.f_gap, exact_gap, rtol=1e-10)
    np.testing.assert_allclose(fixed.delta, fixed.attributions.sum(1).numpy() - exact_gap, atol=1e-10)
    assert fixed.steps.tolist() == [2, 2]
    assert abs(fixed.delta[0]) > 1e-3 * exact_gap[0]                # 2 steps: a visible gap
    adaptive = integrated_gradients(forward, x, base, n_steps=2, tolerance=1e-6, max_steps=64)
    rel = np.abs(adaptive.delta) / np.abs(exact_gap)
    assert (rel <= 1e-6).all()
    # only the rough sample got more steps (doubling 2 -> 4 -> 8 ...); the nearly linear one
    # kept its 2, and its attributions are untouched
    assert adaptive.steps[0] > 2 and adaptive.steps[1] == 2
    assert np.log2(adaptive.steps[0]).is_integer()
    np.testing.assert_array_equal(adaptive.attributions[1].numpy(), fixed.attributions[1].numpy())
    np.testing.assert_allclose(adaptive.attributions.numpy(), exact_attr, rtol=1e-5, atol=1e-8)
    capped = integrated_gradients(forward, x, base, n_steps=2, tolerance=1e-12, max_steps=4)
    assert capped.steps.max() == 4                                    # never beyond max_steps


# ------------------------------------------------------------------------------ a new method


class TokenPosition:
    """A toy method: each token scored by its position (later = more important)."""

    def __init__(self, context, spec, **options):
        self.ctx = context

    @classmethod
    def setting_text(cls, cfg):
        return "token position"

    def attribute(self, batch):
        return Attribution([np.arange(n, dtype=float) for n in batch.lengths])


@pytest.fixture
def registered_toy():
    spec = register(MethodSpec("token_position", CLASSIFICATION, f"{__name__}:TokenPosition",
                               "Baseline", False, "TOKEN POSITION",
                               implementation="test toy"), replace=True)
    yield spec
    unregister("token_position")


def test_a_method_added_by_one_class_and_one_entry_appears_in_every_table(registered_toy):
    torch = pytest.importorskip("torch")
    from saliency_repro.classify.model import build_classifier
    from saliency_repro.crowd.scores import scores_frame, wide_scores
    from saliency_repro.saliency.attribute import attribute_samples, make_displays
    from saliency_repro.saliency.tables import method_table, overlap_table, rationale_table

    texts = ["the film was brilliant and the cast was superb", "a dull boring plot"]
    torch.manual_seed(0)
    model, tok = build_classifier({"type": "scratch", "hidden_size": 16, "num_layers": 1,
                                   "num_heads": 2, "intermediate_size": 32, "vocab_size": 80},
                                  ["neg", "pos"], 32, train_texts=texts * 4)
    samples = pd.DataFrame({"id": ["a", "b"], "text": texts, "label": [1, 0], "pred": [1, 0],
                            "rationale": [[3], [2]]})
    cfg = {"methods": ["random", "input_x_grad", "token_position"]}
    ws, diag = attribute_samples(model.eval(), tok, samples, cfg, 32)
    toy = ws[(ws["method"] == "token_position") & (ws["sample_id"] == "b")]
    assert toy["score"].tolist() == [1.0, 2.0, 3.0, 4.0]        # sum of one piece each, by hand
    displays = make_displays(ws, samples, [2])
    shown = displays[(displays["method"] == "token_position") & (displays["sample_id"] == "b")]
    assert shown["display"].tolist() == ["..boring plot "]
    assert "TOKEN POSITION" in overlap_table(ws, 2)["method"].tolist()
    t2 = method_table(cfg["methods"], cfg).set_index("Method")
    assert t2.loc["TOKEN POSITION", "Setting"] == "token position"
    assert t2.loc["TOKEN POSITION", "Implementation"] == "test toy"
    assert "TOKEN POSITION" in rationale_table(ws, samples, [2], "demo")["method"].tolist()
    # the crowd tables (Table 3 layout) name it too
    aggregate = displays.assign(correct=displays["method"] != "random")
    assert "TOKEN POSITION" in wide_scores(scores_frame(aggregate))["Method"].tolist()
