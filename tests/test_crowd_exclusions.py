"""Nothing lost on import: every worker and submission a platform file loses is counted.

Expected values are worked out by hand from the files written here (comments), never by the
code under test.
"""

from __future__ import annotations

import pandas as pd
import pytest

from saliency_repro.crowd import steps
from saliency_repro.crowd.design import build_tasks
from saliency_repro.crowd.platform import (
    PlatformFormatError,
    exclusion_rule,
    exclusions_table,
    line_ranges,
    read_answers,
    read_mturk,
)

LABELS = ["negative", "positive"]
PLATFORM = {"min_seconds": 120, "exclude_all_idk": True}

HEADER = ("HITId,AssignmentId,WorkerId,WorkTimeInSeconds,Input.task_id_1,Input.task_id_2,"
          "Answer.answer_1,Answer.answer_2\n")
# line 2: W1, 400 s, two answers                        -> kept
# line 3: W2, 30 s, two "I don't know"                  -> excluded: too fast AND all IDK (2 answers)
# line 4: W3, every slot empty, W3's only row          -> dropped; W3 has nothing kept: excluded
# line 5: W1 again, a short batch (one slot filled)     -> kept (W1: 3 answers in all)
# line 6: W4, two answers                               -> kept
# line 7: W4 again, every slot empty                    -> dropped; W4's answers stay (not excluded)
MTURK = (HEADER
         + "H1,A1,W1,400,s0|random|5,s1|lime|10,negative,positive\n"
         + "H2,A2,W2,30,s0|lime|5,s1|random|5,I don't know,idk\n"
         + "H3,A3,W3,200,,,,\n"
         + "H4,A4,W1,500,s2|random|5,,positive,\n"
         + "H5,A5,W4,300,s2|lime|10,s3|lime|5,I don't know,negative\n"
         + "H6,A6,W4,10,,,,\n")
# answers read: W1 2+1, W2 2, W4 2 = 7; dropped: W2's 2; kept: 7 - 2 = 5 (W1 3, W4 2)
# workers seen: W1..W4 = 4; excluded: W2, W3 = 2; rows dropped: lines 3, 4, 7 = 3, of them empty: 2

# misclassified set, long layout: V1 answers "I don't know" twice (lines 2, 3) -> excluded;
# V2 one answer (line 4) -> kept. read 3, kept 1, dropped 2; seen 2, excluded 1.
LONG = ("task_id,worker_id,answer,seconds\n"
        "m0|random|5,V1,idk,300\n"
        "m1|lime|5,V1,I don't know,300\n"
        "m0|lime|5,V2,positive,300\n")


def displays(prefix, n_samples, methods=("random", "lime"), ks=(5, 10)):
    return pd.DataFrame([{"sample_id": f"{prefix}{i}", "label": i % 2, "pred": i % 2, "method": m,
                          "k": k, "display": f"w{i} {m} ..", "shown_positions": [0]}
                         for i in range(n_samples) for m in methods for k in ks])


@pytest.fixture
def tasks():
    return build_tasks(displays("s", 4))


def test_line_ranges():
    assert line_ranges([7, 2, 3, 4, 3]) == "2-4,7"
    assert line_ranges([]) == ""


def test_mturk_empty_submissions_are_returned_not_lost(tmp_path, tasks):
    f = tmp_path / "batch.csv"
    f.write_text(MTURK)
    answers, empty = read_answers(f, tasks, LABELS, "mturk")
    assert len(answers) == 7
    assert empty[["worker_id", "line"]].values.tolist() == [["W3", 4], ["W4", 7]]
    assert len(read_mturk(f, tasks, LABELS)) == 7  # the answers alone, as before

    kept, excl = exclusion_rule(answers, 120, empty=empty, source="batch.csv")
    by = excl.set_index("worker_id")
    assert by.index.tolist() == ["W2", "W3", "W4"]
    assert by["excluded"].to_dict() == {"W2": True, "W3": True, "W4": False}
    assert by["rows"].to_dict() == {"W2": 1, "W3": 1, "W4": 1}
    assert by["empty"].to_dict() == {"W2": 0, "W3": 1, "W4": 1}
    assert by["answers"].to_dict() == {"W2": 2, "W3": 0, "W4": 0}
    assert by["lines"].to_dict() == {"W2": "batch.csv:3", "W3": "batch.csv:4", "W4": "batch.csv:7"}
    assert "30 s < 120 s" in by.at["W2", "reason"] and "I don't know" in by.at["W2", "reason"]
    assert "no answer" in by.at["W3", "reason"] and "no answer" in by.at["W4", "reason"]
    assert sorted(kept["worker_id"].unique()) == ["W1", "W4"] and len(kept) == 5


def test_exclusions_table_counts_every_drop_and_closes(tmp_path, tasks):
    """The brief's case end to end: a zero-answer row and a too-fast worker, both counted."""
    (tmp_path / "batch.csv").write_text(MTURK)
    (tmp_path / "long.csv").write_text(LONG)
    mis = build_tasks(displays("m", 2))
    tasks.to_parquet(tmp_path / "tasks.parquet")
    mis.to_parquet(tmp_path / "mis_tasks.parquet")
    for name, src, t in [("correct", {"type": "platform", "format": "mturk",
                                      "path": str(tmp_path / "batch.csv")}, "tasks.parquet"),
                         ("misclassified", {"type": "platform", "path": str(tmp_path / "long.csv")},
                          "mis_tasks.parquet")]:
        steps.run_platform_answers(src, tmp_path / t, LABELS, 5, 100, PLATFORM,
                                   tmp_path / f"{name}_answers.parquet",
                                   tmp_path / f"{name}_excl.parquet")
    steps.run_exclusions({s: tmp_path / f"{s}_excl.parquet" for s in ("correct", "misclassified")},
                         {s: tmp_path / f"{s}_answers.parquet" for s in ("correct", "misclassified")},
                         tmp_path / "crowd_exclusions_toy_mturk", "[t] exclusions.")
    table = pd.read_csv(tmp_path / "crowd_exclusions_toy_mturk.csv", dtype=str, keep_default_na=False)
    rows = {(r.sample_set, r.worker_id): r for r in table.itertuples()}
    assert list(rows) == [("correct", "W2"), ("correct", "W3"), ("correct", "W4"), ("correct", "all"),
                          ("misclassified", "V1"), ("misclassified", "all")]
    w2, w3, w4 = rows["correct", "W2"], rows["correct", "W3"], rows["correct", "W4"]
    assert (w2.excluded, w2.rows_dropped, w2.empty_submissions, w2.answers_dropped) == ("True", "1", "0", "2")
    assert "30 s < 120 s" in w2.reason and "\"I don't know\" to every task" in w2.reason
    assert (w3.excluded, w3.rows_dropped, w3.empty_submissions, w3.answers_dropped) == ("True", "1", "1", "0")
    assert w3.lines.endswith("batch.csv:4") and "no answer" in w3.reason
    assert (w4.excluded, w4.empty_submissions, w4.answers_dropped) == ("False", "1", "0")
    assert w4.lines.endswith("batch.csv:7")
    a = rows["correct", "all"]
    assert {c: int(getattr(a, c)) for c in ("rows_dropped", "empty_submissions", "answers_dropped",
                                            "workers_seen", "workers_excluded", "answers_read",
                                            "answers_kept")} == {
        "rows_dropped": 3, "empty_submissions": 2, "answers_dropped": 2, "workers_seen": 4,
        "workers_excluded": 2, "answers_read": 7, "answers_kept": 5}
    assert int(a.answers_read) == int(a.answers_kept) + int(a.answers_dropped)
    v1, m = rows["misclassified", "V1"], rows["misclassified", "all"]
    assert (v1.excluded, v1.rows_dropped, v1.answers_dropped) == ("True", "2", "2")
    assert v1.lines.endswith("long.csv:2-3")
    assert (m.workers_seen, m.workers_excluded, m.answers_read, m.answers_kept) == ("2", "1", "3", "1")
    # the kept answers written for aggregation are exactly the kept ones
    assert len(pd.read_parquet(tmp_path / "correct_answers.parquet")) == 5
    md = (tmp_path / "crowd_exclusions_toy_mturk.md").read_text().splitlines()[0]
    assert "correct: 4 workers seen, 2 excluded; 7 answers read, 5 kept, 2 dropped" in md
    assert {p.suffix for p in tmp_path.glob("crowd_exclusions_toy_mturk.*")} == {".csv", ".md", ".tex"}


def test_task_ids_with_every_answer_empty_stay_an_error(tmp_path, tasks):
    f = tmp_path / "b.csv"
    f.write_text(HEADER + "H1,A1,W1,400,s0|random|5,s1|lime|10,negative,positive\n"
                 + "H2,A2,W2,400,s0|lime|5,s1|random|5,,\n")
    with pytest.raises(PlatformFormatError, match=r"b.csv:3: Answer.answer_1 is empty"):
        read_answers(f, tasks, LABELS, "mturk")


def test_a_file_of_empty_submissions_only_is_an_error_that_says_so(tmp_path, tasks):
    f = tmp_path / "b.csv"
    f.write_text(HEADER + "H1,A1,W1,400,,,,\n")
    with pytest.raises(PlatformFormatError, match=r"b.csv: no answers \(1 submission.*line 2\)"):
        read_answers(f, tasks, LABELS, "mturk")


def test_nothing_dropped_gives_only_the_all_row():
    kept = pd.DataFrame({"worker_id": ["a", "a", "b"], "answer": [1, 0, 1]})
    excl = pd.DataFrame(columns=["worker_id", "excluded", "rows", "empty", "answers", "reason", "lines"])
    t = exclusions_table(excl, kept, "correct")
    assert t["worker_id"].tolist() == ["all"]
    assert t.iloc[0][["workers_seen", "workers_excluded", "answers_read", "answers_kept",
                      "answers_dropped"]].tolist() == [2, 0, 3, 3, 0]


def test_exclusions_that_contradict_the_kept_answers_raise():
    kept = pd.DataFrame({"worker_id": ["a"], "answer": [1]})
    excl = pd.DataFrame([{"worker_id": "a", "excluded": True, "rows": 1, "empty": 0, "answers": 1,
                          "reason": "r", "lines": ""}])
    with pytest.raises(ValueError, match="disagree"):
        exclusions_table(excl, kept, "correct")
