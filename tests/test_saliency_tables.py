"""Table 1 overlap, Table 2, the rationale check and Figure 4 on hand-made word scores."""

import pandas as pd
import pytest

from saliency_repro.saliency.tables import (
    method_table,
    overlap_table,
    pick_figure_sample,
    rationale_table,
    saliency_settings_note,
    top_words_figure,
)


def scores_frame(rows):
    """rows: {(sample, method): [scores...]} -> long word_scores frame."""
    out = []
    for (sid, method), scores in rows.items():
        for i, s in enumerate(scores):
            out.append({"sample_id": sid, "method": method, "word_index": i, "word": f"w{i}",
                        "score": float(s), "text_position": i})
    return pd.DataFrame(out)


def test_overlap_table_by_hand():
    ws = scores_frame({
        ("s1", "vanilla_gradient"): [4, 3, 2, 1],
        ("s1", "lime"): [4, 1, 2, 3],          # top-2 {0,3} vs {0,1}: 1 of 2 shared
        ("s1", "random"): [1, 2, 3, 4],
        ("s2", "vanilla_gradient"): [1, 2, 3, 4],
        ("s2", "lime"): [1, 2, 3, 4],          # identical: 2 of 2
        ("s2", "random"): [4, 3, 2, 1],
    })
    t = overlap_table(ws, k=2)
    assert t["method"].tolist() == ["VANILLA GRADIENT", "LIME"]   # paper order, random left out
    assert t.loc[0, "LIME"] == pytest.approx(100 * (0.5 + 1.0) / 2)
    assert t.loc[0, "VANILLA GRADIENT"] == pytest.approx(100.0)
    assert t.loc[1, "VANILLA GRADIENT"] == pytest.approx(75.0)
    with_random = overlap_table(ws, k=2, include_random=True)
    assert with_random["method"].tolist()[0] == "RANDOM"


def test_overlap_short_texts_divide_by_word_count():
    ws = scores_frame({("s", "deeplift"): [1, 2, 3], ("s", "lime"): [3, 2, 1]})
    t = overlap_table(ws, k=40)
    assert t.loc[0, "LIME"] == pytest.approx(100.0)


def test_method_table_matches_paper_table2():
    # behaviour change (issue 9): the default LIME is the authors' variant; the per-token one
    # (which uses lime_samples) is selected explicitly
    t = method_table(["lime", "all_attention", "deeplift"],
                     {"lime_samples": 200, "lime_variant": "token_embedding"})
    assert t["Method"].tolist() == ["ALL ATTENTION", "DEEPLIFT", "LIME"]
    assert t["Type"].tolist() == ["Hidden States", "Gradient-based", "Perturbation-based"]
    assert t["Class-specific"].tolist() == ["no", "yes", "yes"]
    assert "200 samples" in t.loc[2, "Setting"] and "per-token" in t.loc[2, "Setting"]


def test_method_table_states_variant_space_and_explained_class():
    t = method_table(["lime", "all_attention", "integrated_gradients", "random"], {}).set_index("Method")
    assert t.loc["LIME", "Setting"].startswith("authors' variant")
    assert "40 samples" in t.loc["LIME", "Setting"]  # the authors' sample count, not lime_samples
    assert t.loc["LIME", "Explained class"] == "predicted class"
    assert t.loc["ALL ATTENTION", "Explained class"] == "n/a"  # not class-specific
    assert t.loc["INTEGRATED GRADIENT", "Input space"] == "embedding_output"
    assert t.loc["ALL ATTENTION", "Input space"] == "n/a"
    assert t.loc["ALL ATTENTION", "Word score"] == "first piece"
    assert t.loc["INTEGRATED GRADIENT", "Word score"] == "sum of pieces"
    assert t.loc["RANDOM", "Word score"] == "one draw per word"
    other = method_table(["lime"], {"explained_class": "true", "input_space": "word_embeddings"})
    assert other.loc[0, "Explained class"] == "true label"
    assert other.loc[0, "Input space"] == "word_embeddings"


def test_saliency_settings_note():
    note = saliency_settings_note({})
    assert "\n" not in note
    for part in ("input space embedding_output (zero baseline)", "LIME: authors' variant",
                 "explained class: predicted", "first piece (attention)", "one draw per word"):
        assert part in note
    note = saliency_settings_note({"methods": ["random", "lime"], "lime_variant": "token_embedding",
                                   "explained_class": "true", "input_space": "word_embeddings",
                                   "ig_baseline": "pad"})
    assert "per-token" in note and "explained class: true" in note
    assert "input space word_embeddings (pad baseline)" in note and "attention" not in note
    note = saliency_settings_note({"methods": ["random", "all_attention"]})
    assert "LIME" not in note and "input space" not in note and "explained class" not in note
    with pytest.raises(ValueError, match="saliency.lime_variant"):
        saliency_settings_note({"lime_variant": "lime_package"})


def test_rationale_recall_and_auprc_by_hand():
    ws = scores_frame({
        ("s1", "integrated_gradients"): [0.9, 0.1, 0.8, 0.2],  # rationale {0, 2}: perfect
        ("s1", "random"): [0.1, 0.9, 0.2, 0.8],                # rationale ranked last
    })
    samples = pd.DataFrame({"id": ["s1"], "rationale": [[0, 2]]})
    t = rationale_table(ws, samples, [1, 2], "correct").set_index("method")
    assert t.loc["INTEGRATED GRADIENT", "recall@1"] == pytest.approx(0.5)
    assert t.loc["INTEGRATED GRADIENT", "recall@2"] == pytest.approx(1.0)
    assert t.loc["INTEGRATED GRADIENT", "AUPRC"] == pytest.approx(1.0)
    assert t.loc["RANDOM", "recall@2"] == pytest.approx(0.0)
    # positives at ranks 3 and 4: AP = (1/3 + 2/4) / 2
    assert t.loc["RANDOM", "AUPRC"] == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_rationale_table_says_when_there_are_no_samples():
    empty = scores_frame({})
    t = rationale_table(empty, pd.DataFrame({"id": [], "rationale": []}), [5], "misclassified")
    assert t.loc[0, "method"] == "(no samples)" and t.loc[0, "n_samples"] == 0


def test_figure_renders():
    ws = scores_frame({("s1", m): list(range(12)) for m in ["lime", "deeplift", "random"]})
    samples = pd.DataFrame({"id": ["s1"], "text": [" ".join(f"w{i}" for i in range(12))], "label": [0]})
    sid = pick_figure_sample(samples)
    fig = top_words_figure(ws, sid, 5, title="t", label_name="neg")
    assert len(fig.axes[0].get_legend().get_texts()) == 2  # random left out, as in the paper
    empty = top_words_figure(ws.iloc[0:0], None, 5)
    assert empty is not None


def test_figure_sample_is_longer_than_k():
    samples = pd.DataFrame({"id": ["a", "b", "c"], "label": [0, 0, 1],
                            "text": ["ridiculous", "dull and long and slow", "a fine film indeed"]})
    assert pick_figure_sample(samples, k=3) == "b"        # first label, more than 3 words
    assert pick_figure_sample(samples, k=4) == "b"        # 5 words: still longer than k
    assert pick_figure_sample(samples, k=5) == "b"        # nothing longer than k: the longest
    assert pick_figure_sample(samples.iloc[[0, 2]], k=1) == "c"


def test_overlap_caption_says_when_most_texts_are_shown_whole(tmp_path):
    from saliency_repro.saliency.steps import overlap_step

    ws = scores_frame({("s1", "lime"): [1, 2, 3], ("s1", "deeplift"): [3, 2, 1],
                       ("s2", "lime"): [1, 2], ("s2", "deeplift"): [2, 1],
                       ("s3", "lime"): list(range(9)), ("s3", "deeplift"): list(range(9))})
    ws.to_parquet(tmp_path / "ws.parquet")
    overlap_step(str(tmp_path / "ws.parquet"), str(tmp_path / "t1"), 4, "signed", "Table 1.",
                 "datasets.trec.saliency.overlap_k")
    caption = (tmp_path / "t1.md").read_text().splitlines()[0]
    assert "2 of 3 samples have at most 4 words" in caption and "datasets.trec.saliency.overlap_k" in caption
    overlap_step(str(tmp_path / "ws.parquet"), str(tmp_path / "t2"), 2, "signed", "Table 1.")
    assert "have at most" not in (tmp_path / "t2.md").read_text().splitlines()[0]
