"""Crowd part (Lu et al. 2024): design, equation (1), equation (2), Flips/Aids, tests, imports.

Expected values are worked out by hand in the comments, never by the code under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from saliency_repro.crowd import IDK
from saliency_repro.crowd.aggregate import aggregation_agreement, dawid_skene, majority_vote
from saliency_repro.crowd.design import DesignError, assign_workers, build_tasks, validate_design
from saliency_repro.crowd.export import batches_csv, export_batches
from saliency_repro.crowd.platform import (
    PlatformFormatError,
    exclusion_rule,
    read_long,
    read_mturk,
)
from saliency_repro.crowd.released import ReleasedFormatError, read_release
from saliency_repro.crowd.scores import (
    accuracy,
    competition_rank,
    flip_counts,
    flip_example,
    flip_histogram_counts,
    flips,
    score,
    shown_whole,
    shown_whole_note,
    weights,
)
from saliency_repro.crowd.simulate import eq1_from_matrix

LABELS = ["negative", "positive"]


def displays(n_samples=6, methods=("random", "lime"), ks=(5, 10)):
    rows = [{"sample_id": f"s{i}", "label": i % 2, "pred": i % 2, "method": m, "k": k,
             "display": f"w{i} {m} ..", "shown_positions": [0]}
            for i in range(n_samples) for m in methods for k in ks]
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- design
@pytest.mark.parametrize("n,R,B", [(6, 3, 4), (10, 5, 10), (7, 2, 3)])
def test_design_constraints(n, R, B):
    tasks = build_tasks(displays(n))
    a = assign_workers(tasks, R, B, seed=1)
    assert a.groupby("task_id")["worker_id"].nunique().eq(R).all()
    assert len(a) == len(tasks) * R
    per_worker = a.groupby("worker_id").size()
    assert per_worker.max() == B
    assert (per_worker < B).sum() <= 1  # only the remainder batch may be short
    assert not a.duplicated(["worker_id", "sample_id"]).any()
    validate_design(a, tasks, R, B)


def test_design_deterministic_and_seeded():
    tasks = build_tasks(displays(8))
    a1 = assign_workers(tasks, 3, 4, seed=5)
    a2 = assign_workers(tasks, 3, 4, seed=5)
    a3 = assign_workers(tasks, 3, 4, seed=6)
    pd.testing.assert_frame_equal(a1, a2)
    assert not a1.equals(a3)


def test_design_caps_batches_at_the_number_of_samples():
    tasks = build_tasks(displays(3))
    design = assign_workers(tasks, 2, 4, seed=0)
    per_worker = design.groupby("worker_id")
    assert per_worker.size().max() == 3  # B = 4 > 3 samples: batches of 3
    assert (per_worker["sample_id"].nunique() == per_worker.size()).all()
    assert (design.groupby("task_id").size() == 2).all() and design["task_id"].nunique() == len(tasks)


def test_design_of_an_empty_sample_set_is_empty():
    empty = build_tasks(displays(3)).iloc[0:0]
    assert assign_workers(empty, 5, 40, seed=0).empty


def test_validate_design_catches_repeated_sample():
    tasks = build_tasks(displays(2, methods=("random",), ks=(5,)))
    bad = pd.DataFrame({"task_id": ["s0|random|5", "s0|random|5"], "sample_id": ["s0", "s0"],
                        "worker_id": ["w1", "w1"]})
    with pytest.raises(DesignError, match="sees sample s0 more than once"):
        validate_design(bad, tasks, 1, 5)
    short = pd.DataFrame({"task_id": ["s0|random|5"], "sample_id": ["s0"], "worker_id": ["w1"]})
    with pytest.raises(DesignError, match="has 0 workers"):
        validate_design(short, tasks, 1, 5)


def test_export_csv_and_html(tmp_path):
    tasks = build_tasks(displays(4))
    a = assign_workers(tasks, 2, 4, seed=0)
    csv = batches_csv(a, tasks)
    assert len(csv) == a["worker_id"].nunique()
    assert {"task_id_1", "display_1", "task_id_4"} <= set(csv.columns)
    export_batches(a, tasks, LABELS, tmp_path, "Which label?")
    pages = sorted((tmp_path / "html").glob("*.html"))
    assert len(pages) == a["worker_id"].nunique()
    html = pages[0].read_text()
    assert "I don&#x27;t know" in html and 'value="positive"' in html
    assert "http" not in html  # self-contained


# ----------------------------------------------------------------------------- equation (1)
def _votes(task_votes):
    rows = [{"task_id": t, "worker_id": f"w{n}", "answer": a}
            for t, answers in task_votes.items() for n, a in enumerate(answers)]
    return pd.DataFrame(rows)


def test_majority_vote_equation_1():
    # true label is 1 in every task
    votes = {
        "clear": [1, 1, 1, 0, 0],          # 3 > 2 -> 1
        "tie": [1, 1, 0, 0, IDK],          # 2 = 2 -> 0
        "idk_wins": [1, IDK, IDK, IDK, 0],  # IDK 3 > 1 -> 0
        "idk_tie": [1, 1, IDK, IDK, 0],    # true 2 = IDK 2 -> 0 (IDK counts as an answer)
        "plurality": [1, 1, IDK, 0, 2],    # 2 > every other (1 each) -> 1
        "none": [0, 0, IDK],               # no vote for the truth -> 0
        "single": [1],                     # 1 > nothing -> 1
    }
    truth = pd.DataFrame({"task_id": [*votes, "unanswered"], "label": 1})
    out = majority_vote(_votes(votes), truth).set_index("task_id")["correct"]
    # a task nobody answered is not a failure: NaN, left out of every score
    assert np.isnan(out.pop("unanswered"))
    assert out.to_dict() == {"clear": 1, "tie": 0, "idk_wins": 0, "idk_tie": 0,
                             "plurality": 1, "none": 0, "single": 1}


def test_unanswered_tasks_are_reported_not_counted_as_wrong():
    from saliency_repro.crowd.aggregate import coverage_table

    # RANDOM at k = 2 on 4 samples: 2 right, 2 unanswered -> accuracy 100 %, not 50 %
    truth = pd.DataFrame({"task_id": ["a", "b", "c", "d"], "sample_id": ["s0", "s1", "s2", "s3"],
                          "method": "random", "k": 2, "label": 1})
    votes = _votes({"a": [1, 1, 1, 1, 1], "b": [1, 1, 0]})
    agg = majority_vote(votes, truth)
    assert accuracy(agg).loc["random", 2] == 1.0
    cov = coverage_table(agg, required=5).iloc[0]
    assert (cov["tasks"], cov["answered"], cov["full"], cov["partial"], cov["unanswered"]) == (4, 2, 1, 1, 2)
    # Flips count over the answered k only: 1, NaN, 0 is a Flip; 1, NaN is not
    flipped = flips(pd.DataFrame({"sample_id": "s", "method": "m", "k": [2, 5, 10],
                                  "correct": [1.0, np.nan, 0.0]}))
    assert bool(flipped["flipped"].iloc[0]) is True
    kept = flips(pd.DataFrame({"sample_id": "s", "method": "m", "k": [2, 5], "correct": [1.0, np.nan]}))
    assert bool(kept["flipped"].iloc[0]) is False and bool(kept["all_correct"].iloc[0]) is True


def test_dense_equation_1_matches_table_version():
    answers = np.array([[1, 1, 0, 0, IDK], [1, 1, 1, 0, 0], [1, 1, IDK, IDK, 0]])
    assert eq1_from_matrix(answers, np.array([1, 1, 1])).tolist() == [0, 1, 0]
    assert eq1_from_matrix(answers, np.array([0, 0, 0])).tolist() == [0, 0, 0]


def test_dawid_skene_and_disagreement():
    votes = {"t1": [1, 1, 1], "t2": [0, 0, 0], "t3": [1, 1, 0]}
    truth = pd.DataFrame({"task_id": list(votes), "label": [1, 1, 1], "method": "lime", "k": 5})
    ans = _votes(votes)
    mv = majority_vote(ans, truth)
    ds = dawid_skene(ans, truth)
    assert ds.set_index("task_id")["correct"].to_dict() == {"t1": 1, "t2": 0, "t3": 1}
    table = aggregation_agreement(mv, ds)
    assert table.set_index("method").at["all", "disagreement_%"] == 0.0


# ----------------------------------------------------------------------------- equation (2)
def _agg(pattern):
    """pattern: {method: {k: [A per sample]}} -> aggregate frame."""
    rows = [{"sample_id": f"s{i}", "method": m, "k": k, "correct": a, "label": 0,
             "display": f"{m}{k}"}
            for m, per_k in pattern.items() for k, col in per_k.items() for i, a in enumerate(col)]
    return pd.DataFrame(rows)


def test_equation_2_by_hand():
    # p: m1 = (1.0, 0.5), m2 = (0.5, 0.5) over 2 samples, K = 2
    agg = _agg({"random": {5: [1, 1], 10: [1, 0]}, "lime": {5: [1, 0], 10: [0, 1]}})
    p = accuracy(agg)
    assert p.loc["random"].tolist() == [1.0, 0.5] and p.loc["lime"].tolist() == [0.5, 0.5]
    # total = 2.5; w_5 = 2.5 / (4 * 1.5) = 5/12; w_10 = 2.5 / (4 * 1.0) = 5/8
    w = weights(p)
    assert w[5] == pytest.approx(5 / 12) and w[10] == pytest.approx(5 / 8)
    # s_random = 5/12 + 5/16 = 35/48; s_lime = 5/24 + 5/16 = 25/48
    s = score(p)
    assert s["random"] == pytest.approx(35 / 48) and s["lime"] == pytest.approx(25 / 48)


def test_equal_accuracies_give_that_score():
    agg = _agg({"random": {5: [1, 0], 10: [1, 0]}, "lime": {5: [0, 1], 10: [0, 1]}})
    assert score(accuracy(agg)).tolist() == pytest.approx([0.5, 0.5])


def test_competition_rank_like_paper():
    # Table 3, 10 words: 81, 81, 74, 60 -> 1, 1, 3, 4
    r = competition_rank(pd.Series({"a": 81.0, "b": 81.0, "c": 74.0, "d": 60.0}))
    assert r.tolist() == [1, 1, 3, 4]


# ----------------------------------------------------------------------------- Flips / Aids
def test_flips_and_aids_by_hand():
    agg = _agg({"lime": {5: [1, 0, 1, 0, 1], 10: [0, 1, 1, 0, 1], 20: [1, 1, 1, 0, 0]}})
    # s0: 1,0,1 flipped; s1: 0,1,1 aided; s2: 1,1,1 all correct; s3: 0,0,0 never (counted in
    # Aids by the caption's formula); s4: 1,1,0 flipped
    f = flips(agg).set_index("sample_id")
    assert f["flipped"].tolist() == [True, False, False, False, True]
    c = flip_counts(agg).iloc[0]
    assert (c["Flips"], c["All_correct"], c["Aids"]) == (2, 1, 2)  # Aids = 5 - 2 - 1


def test_a_flip_between_identical_displays_is_reported_apart():
    """A 4-word text shows the same display at k = 5 and k = 10: a 1 -> 0 there is two crowds
    disagreeing on one display. The paper's Flips count it; the distinct-display count does
    not; a flip between different displays counts in both."""
    agg = _agg({"lime": {5: [1, 1], 10: [0, 0]}})
    agg["display"] = ["short text . ", "other words here ", "short text . ", "other words here and more "]
    f = flips(agg).set_index("sample_id")
    assert f["flipped"].tolist() == [True, True]
    assert f["flipped_distinct"].tolist() == [False, True]
    c = flip_counts(agg).iloc[0]
    assert (c["Flips"], c["Flips (distinct displays)"]) == (2, 1)
    # the Table 6 example is a Flip between different displays, though s0 comes first
    assert set(flip_example(agg)["sample_id"]) == {"s1"}


def test_samples_shown_whole_are_counted_for_the_caption():
    # s0 has 2 words: whole at 5 and 10; s1 has 5 words: whole at 5 (10 shows no more) and 10;
    # s2 has 12 words: whole at neither
    agg = pd.DataFrame({"sample_id": ["s0", "s0", "s1", "s1", "s2", "s2"], "method": "lime",
                        "k": [5, 10] * 3, "correct": 1.0,
                        "display": ["a b", "a b", "a b c d e", "a b c d e",
                                    "a . b c d e", " ".join("abcdefghijkl")]})
    counts = shown_whole(agg)
    assert counts.to_dict() == {5: 2, 10: 2} and counts.name == 3
    assert "at k = 5: 2 of 3; k = 10: 2 of 3" in shown_whole_note(agg)
    assert shown_whole_note(agg[agg["sample_id"] == "s2"]) == ""


def test_flip_histogram():
    agg = _agg({"random": {5: [1, 1], 10: [0, 1]}, "lime": {5: [1, 0], 10: [0, 0]}})
    # s0 flips with both methods, s1 with none
    h = flip_histogram_counts(agg)
    assert h.to_dict() == {0: 1, 1: 0, 2: 1}


# ----------------------------------------------------------------------------- platform import
@pytest.fixture
def small_tasks():
    return build_tasks(displays(4))


def test_long_import_and_line_errors(tmp_path, small_tasks):
    good = tmp_path / "long.csv"
    good.write_text("task_id,worker_id,answer,seconds\n"
                    "s0|random|5,A,positive,300\n"
                    "s1|random|5,A,I don't know,300\n"
                    "s0|lime|5,B,0,300\n")
    ans = read_long(good, small_tasks, LABELS)
    assert ans["answer"].tolist() == [1, IDK, 0]
    assert ans["sample_id"].tolist() == ["s0", "s1", "s0"]
    bad = tmp_path / "bad.csv"
    bad.write_text("task_id,worker_id,answer\ns0|random|5,A,positive\ns0|lime|5,B,maybe\n")
    with pytest.raises(PlatformFormatError, match=r"bad.csv:3: answer 'maybe'"):
        read_long(bad, small_tasks, LABELS)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("task_id,worker_id,answer\nnope|x|5,A,positive\n")
    with pytest.raises(PlatformFormatError, match=r"unknown.csv:2: unknown task_id"):
        read_long(unknown, small_tasks, LABELS)


def test_mturk_layout(tmp_path, small_tasks):
    f = tmp_path / "Batch_1_batch_results.csv"
    f.write_text(
        "HITId,AssignmentId,WorkerId,WorkTimeInSeconds,Input.task_id_1,Input.task_id_2,"
        "Answer.answer_1,Answer.answer_2\n"
        "H1,A1,W1,400,s0|random|5,s1|lime|10,negative,I don't know\n"
        'H2,A2,W2,"30",s0|lime|5,s1|random|5,positive,positive\n')
    ans = read_mturk(f, small_tasks, LABELS)
    assert len(ans) == 4
    assert ans.set_index(["worker_id", "task_id"])["answer"].to_dict() == {
        ("W1", "s0|random|5"): 0, ("W1", "s1|lime|10"): IDK,
        ("W2", "s0|lime|5"): 1, ("W2", "s1|random|5"): 1}
    kept, excl = exclusion_rule(ans, min_seconds=120)
    assert excl["worker_id"].tolist() == ["W2"] and "30 s < 120 s" in excl["reason"].iloc[0]
    assert kept["worker_id"].unique().tolist() == ["W1"]
    bad = tmp_path / "bad_mturk.csv"
    bad.write_text("WorkerId,WorkTimeInSeconds,Input.task_id_1,Answer.answer_1\n"
                   "W1,400,s0|random|5,positive\nW2,400,s1|random|5,\n")
    with pytest.raises(PlatformFormatError, match=r"bad_mturk.csv:3: Answer.answer_1 is empty"):
        read_mturk(bad, small_tasks, LABELS)


@pytest.mark.parametrize(
    ("reader", "content", "message"),
    [
        (read_long, "task_id,worker_id,answer\ns0|random|5,A,positive\ns0|lime|5,B\n",
         r"f.csv:3: wrong number of fields"),
        (read_long, "task_id,worker_id,answer,seconds\ns0|random|5,A,positive,fast\n",
         r"f.csv:2: seconds 'fast' is not a number"),
        (read_mturk, "WorkerId,WorkTimeInSeconds,Input.task_id_1,Answer.answer_1\n"
                     "W1,400,s0|random|5,positive,extra\n", r"f.csv:2: wrong number of fields"),
        (read_mturk, "WorkerId,WorkTimeInSeconds,Input.task_id_1,Answer.answer_1\n"
                     "W1,4 min,s0|random|5,positive\n", r"f.csv:2: WorkTimeInSeconds '4 min' is not a number"),
    ],
)
def test_platform_files_with_bad_rows_name_the_line(tmp_path, small_tasks, reader, content, message):
    path = tmp_path / "f.csv"
    path.write_text(content)
    with pytest.raises(PlatformFormatError, match=message):
        reader(path, small_tasks, LABELS)


def test_exclusion_rule_design_break_and_all_idk(small_tasks):
    ans = pd.DataFrame({
        "task_id": ["s0|random|5", "s0|lime|5", "s1|random|5", "s2|lime|5", "s3|lime|5"],
        "sample_id": ["s0", "s0", "s1", "s2", "s3"],
        "worker_id": ["A", "A", "A", "B", "C"],
        "answer": [1, 0, 1, IDK, 1], "seconds": [500.0] * 5})
    kept, excl = exclusion_rule(ans, min_seconds=120)
    reasons = excl.set_index("worker_id")["reason"].to_dict()
    assert "same sample twice" in reasons["A"] and "I don't know" in reasons["B"]
    assert kept["worker_id"].tolist() == ["C"]


# ----------------------------------------------------------------------------- released file
HEADER = "Text\tLabel\tSaliency\tWords\tCorrect\n"


def test_released_parse(tmp_path):
    f = tmp_path / "R.csv"
    f.write_text(HEADER + "a b c\t1\tN/A\tAll\tN/A\n"
                 "a ..\t1\tRandom\t5\t1\n. b .\t1\tLIME\t5\t0\n"
                 "d e\t0\tN/A\tAll\tN/A\n"
                 "d .\t0\tRandom\t5\t0\n. e\t0\tLIME\t5\t1\n")
    rel = read_release(f, n_classes=2)
    assert rel.samples["label"].tolist() == [1, 0]
    a = rel.aggregate.set_index(["sample_id", "method"])["correct"].to_dict()
    assert a == {("r000", "random"): 1, ("r000", "lime"): 0,
                 ("r001", "random"): 0, ("r001", "lime"): 1}


@pytest.mark.parametrize("body,msg", [
    ("a\t1\tN/A\tAll\tN/A\na\t1\tGradCAM\t5\t1\n", r"R.csv:3: unknown saliency method 'GradCAM'"),
    ("a\t1\tN/A\tAll\tN/A\na\t1\tLIME\tfive\t1\n", r"R.csv:3: Words 'five' is not an integer"),
    ("a\t1\tN/A\tAll\tN/A\na\t1\tLIME\t5\tyes\n", r"R.csv:3: Correct 'yes'"),
    ("a\t1\tLIME\t5\t1\n", r"R.csv:2: display row before the first full-text row"),
    ("a\t1\tN/A\tAll\tN/A\na\t0\tLIME\t5\t1\n", r"R.csv:3: Label 0 differs"),
    ("a\t1\tN/A\tAll\n", r"R.csv:2: 4 tab-separated fields"),
    # one cp1252 byte (a UnicodeDecodeError without file or line before)
    (b"caf\xe9\t1\tN/A\tAll\tN/A\n", r"R.csv:2: byte b'\\xe9' is not UTF-8"),
    # a file joined with itself: every sample counted twice (n doubled in every test)
    ("a\t1\tN/A\tAll\tN/A\na\t1\tLIME\t5\t1\nb\t0\tN/A\tAll\tN/A\nb\t0\tLIME\t5\t0\n" * 2,
     r"R.csv:6: this sample \(text, label and every display\) repeats the one at line 2"),
    ("a\t1\tN/A\tAll\tN/A\na\t1\tLIME\t5\t1\n" + HEADER + "a\t1\tN/A\tAll\tN/A\na\t1\tLIME\t5\t1\n",
     r"R.csv:4: the header again"),
])
def test_released_errors_name_the_line(tmp_path, body, msg):
    f = tmp_path / "R.csv"
    f.write_bytes(HEADER.encode() + (body if isinstance(body, bytes) else body.encode()))
    with pytest.raises(ReleasedFormatError, match=msg):
        read_release(f, n_classes=2)


def test_released_file_with_a_byte_order_mark_is_read(tmp_path):
    f = tmp_path / "R.csv"
    f.write_bytes(("\ufeff" + HEADER + "a b\t1\tN/A\tAll\tN/A\na .\t1\tLIME\t5\t1\n").encode())
    assert read_release(f, n_classes=2).samples["text"].tolist() == ["a b"]


def test_released_rejects_comma_file(tmp_path):
    f = tmp_path / "R.csv"
    f.write_text("Text,Label,Saliency,Words,Correct\n")
    with pytest.raises(ReleasedFormatError, match=r"R.csv:1: header"):
        read_release(f)
