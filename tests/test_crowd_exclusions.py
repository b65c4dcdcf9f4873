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


def test_rejected_assignments_are_dropped_and_counted(tmp_path, tasks):
    # line 2: W1 Approved, 400 s, two answers          -> kept
    # line 3: W2 Rejected, two answers                 -> dropped unread (2 answers); W2 has
    #         nothing else: excluded
    # line 4: W1 Rejected, one filled slot             -> dropped (1 answer); W1 keeps line 2
    f = tmp_path / "batch.csv"
    f.write_text("HITId,AssignmentId,WorkerId,AssignmentStatus,WorkTimeInSeconds,Input.task_id_1,"
                 "Input.task_id_2,Answer.answer_1,Answer.answer_2\n"
                 "H1,A1,W1,Approved,400,s0|random|5,s1|lime|10,negative,positive\n"
                 "H2,A2,W2,Rejected,400,s0|lime|5,s1|random|5,junk,junk\n"
                 "H3,A3,W1,Rejected,400,s2|random|5,,positive,\n")
    answers, dropped = read_answers(f, tasks, LABELS, "mturk")
    assert len(answers) == 2 and dropped["line"].tolist() == [3, 4]
    kept, excl = exclusion_rule(answers, 120, empty=dropped, source="batch.csv")
    assert kept["worker_id"].tolist() == ["W1", "W1"]
    by = excl.set_index("worker_id")
    assert by["excluded"].to_dict() == {"W1": False, "W2": True}
    assert by["answers"].to_dict() == {"W1": 1, "W2": 2} and by["rows"].to_dict() == {"W1": 1, "W2": 1}
    assert by["empty"].to_dict() == {"W1": 0, "W2": 0}
    assert by["lines"].to_dict() == {"W1": "batch.csv:4", "W2": "batch.csv:3"}
    assert "Rejected" in by.at["W2", "reason"]
    table = exclusions_table(excl, kept, "correct").set_index("worker_id")
    # answers read = 2 kept + 3 dropped; workers seen W1, W2; excluded W2
    assert table.loc["all", ["answers_read", "answers_kept", "answers_dropped", "workers_seen",
                             "workers_excluded"]].tolist() == [5, 2, 3, 2, 1]


@pytest.mark.parametrize(("min_seconds", "raises"), [(120, True), (0, False)])
def test_min_seconds_without_submission_times_is_refused(tmp_path, tasks, min_seconds, raises):
    f = tmp_path / "long.csv"
    f.write_text("task_id,worker_id,answer\ns0|random|5,A,positive\ns1|lime|5,B,negative\n")
    answers, empty = read_answers(f, tasks, LABELS, "long")
    if raises:
        with pytest.raises(PlatformFormatError, match=r"long.csv: no submission times .* "
                                                      r"crowd.platform.min_seconds is 120"):
            exclusion_rule(answers, min_seconds, empty=empty, source=str(f))
    else:
        kept, _ = exclusion_rule(answers, min_seconds, empty=empty, source=str(f))
        assert len(kept) == 2


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


# ----------------------------------------------------------------------------- both sample sets
# One results file holds the answers of both sample sets (a study exports both): each set is
# imported from it with the other set's tasks beside its own. correct: samples s0-s3, 16 tasks;
# misclassified: m0-m1, 8 tasks.
BOTH_LONG = ("task_id,worker_id,answer,seconds\n"
             "s0|random|5,A,positive,300\n"       # 2 correct    A
             "m0|lime|5,A,negative,300\n"         # 3 mis        A
             "s1|lime|10,B,idk,300\n"             # 4 correct    B: all IDK in correct only
             "m1|random|5,B,positive,300\n"       # 5 mis        B  -> kept in both (whole file)
             "s2|random|5,C,negative,50\n"        # 6 correct    C: too fast -> excluded in both
             "m0|random|10,C,negative,50\n"       # 7 mis        C
             "s3|lime|5,D,idk,300\n"              # 8 correct    D: all IDK -> excluded
             "s0|lime|10,D,I don't know,300\n")   # 9 correct    D
# correct: read lines 2,4,6,8,9 = 5; dropped C 1 + D 2 = 3; kept A, B = 2; seen A-D = 4,
#          excluded C, D = 2; other set: lines 3, 5, 7 = 3
# mis:     read lines 3,5,7 = 3; dropped C 1; kept A, B = 2; seen A, B, C = 3, excluded 1;
#          other set: 5

BOTH_MTURK = (HEADER
              + "H1,A1,W1,400,s0|random|5,s1|lime|10,negative,positive\n"  # 2 correct W1 (2)
              + "H2,A2,W1,350,m0|lime|5,m1|random|10,positive,idk\n"       # 3 mis W1 (2)
              + "H3,A3,W2,30,s2|lime|5,s3|random|5,positive,negative\n"    # 4 correct W2 (2) too fast
              + "H4,A4,W2,20,m1|lime|5,,negative,\n"                       # 5 mis W2 (1) too fast
              + "H5,A5,W3,300,s0|lime|5,,I don't know,\n"                  # 6 correct W3 (1) IDK
              + "H6,A6,W3,300,m0|random|5,m1|lime|10,idk,idk\n"            # 7 mis W3 (2) IDK
              + "H7,A7,W4,200,,,,\n"                                       # 8 W4 empty, no answer
              + "H8,A8,W5,250,m0|lime|10,,negative,\n"                     # 9 mis W5 (1)
              + "H9,A9,W5,100,,,,\n")                                      # 10 W5 empty
# W2 (max 30 s) and W3 (every answer IDK, both sets) are excluded in both sets; W4's empty row
# names no task and W4 has no answer anywhere -> the first set (correct); W5's empty row goes
# to the set of W5's first answered row (line 9, mis); W5 stays (250 s, not all IDK).
# correct: read 2+2+1 = 5; dropped W2 2 + W3 1 = 3; kept W1 2; seen W1-W4 = 4, excluded W2, W3,
#          W4 = 3; rows dropped lines 4, 6, 8 = 3, empty 1; other set: 2+1+2+1 = 6
# mis:     read 2+1+2+1 = 6; dropped W2 1 + W3 2 = 3; kept W1 2 + W5 1 = 3; seen W1, W2, W3,
#          W5 = 4, excluded 2; rows dropped lines 5, 7, 10 = 3, empty 1; other set: 5


def _both_sets(tmp_path, content, fmt):
    f = tmp_path / ("both.csv" if fmt == "long" else "Batch_both_results.csv")
    f.write_text(content)
    build_tasks(displays("s", 4)).to_parquet(tmp_path / "correct_tasks.parquet")
    build_tasks(displays("m", 2)).to_parquet(tmp_path / "misclassified_tasks.parquet")
    src = {"type": "platform", "format": fmt, "path": str(f)}
    sets = ("correct", "misclassified")
    for this in sets:
        other = [tmp_path / f"{s}_tasks.parquet" for s in sets if s != this]
        steps.run_platform_answers(src, tmp_path / f"{this}_tasks.parquet", LABELS, 5, 100, PLATFORM,
                                   tmp_path / f"{this}_answers.parquet",
                                   tmp_path / f"{this}_excl.parquet",
                                   other_tasks=other, first_set=this == "correct")
    steps.run_exclusions({s: tmp_path / f"{s}_excl.parquet" for s in sets},
                         {s: tmp_path / f"{s}_answers.parquet" for s in sets},
                         tmp_path / "excl_table", "[t] exclusions.")
    table = pd.read_csv(tmp_path / "excl_table.csv", dtype=str, keep_default_na=False)
    rows = {(r.sample_set, r.worker_id): r for r in table.itertuples()}
    answers = {s: pd.read_parquet(tmp_path / f"{s}_answers.parquet") for s in sets}
    return f, rows, answers


COUNTS = ("workers_seen", "workers_excluded", "answers_read", "answers_kept", "answers_dropped",
          "rows_dropped", "empty_submissions", "answers_other_set")


def _all_row(rows, sample_set):
    a = rows[sample_set, "all"]
    counts = {c: int(getattr(a, c)) for c in COUNTS}
    assert counts["answers_read"] == counts["answers_kept"] + counts["answers_dropped"]
    return counts


def test_long_file_with_both_sample_sets_imports_into_each(tmp_path):
    f, rows, answers = _both_sets(tmp_path, BOTH_LONG, "long")
    assert _all_row(rows, "correct") == {
        "workers_seen": 4, "workers_excluded": 2, "answers_read": 5, "answers_kept": 2,
        "answers_dropped": 3, "rows_dropped": 3, "empty_submissions": 0, "answers_other_set": 3}
    assert _all_row(rows, "misclassified") == {
        "workers_seen": 3, "workers_excluded": 1, "answers_read": 3, "answers_kept": 2,
        "answers_dropped": 1, "rows_dropped": 1, "empty_submissions": 0, "answers_other_set": 5}
    assert sorted(k for k in rows if k[1] != "all") == [
        ("correct", "C"), ("correct", "D"), ("misclassified", "C")]
    assert rows["correct", "C"].lines == f"{f}:6" and rows["misclassified", "C"].lines == f"{f}:7"
    assert "50 s < 120 s" in rows["misclassified", "C"].reason
    assert rows["correct", "D"].lines == f"{f}:8-9"
    # B answered "I don't know" to every correct-set task but not to every task: kept (per worker)
    c, m = answers["correct"], answers["misclassified"]
    assert c.sort_values("worker_id")[["worker_id", "task_id"]].values.tolist() == [
        ["A", "s0|random|5"], ["B", "s1|lime|10"]]
    assert m.sort_values("worker_id")[["worker_id", "task_id"]].values.tolist() == [
        ["A", "m0|lime|5"], ["B", "m1|random|5"]]
    assert list(c.columns) == ["task_id", "sample_id", "method", "k", "worker_id", "answer", "seconds"]


def test_mturk_file_with_both_sample_sets_imports_into_each(tmp_path):
    f, rows, answers = _both_sets(tmp_path, BOTH_MTURK, "mturk")
    assert _all_row(rows, "correct") == {
        "workers_seen": 4, "workers_excluded": 3, "answers_read": 5, "answers_kept": 2,
        "answers_dropped": 3, "rows_dropped": 3, "empty_submissions": 1, "answers_other_set": 6}
    assert _all_row(rows, "misclassified") == {
        "workers_seen": 4, "workers_excluded": 2, "answers_read": 6, "answers_kept": 3,
        "answers_dropped": 3, "rows_dropped": 3, "empty_submissions": 1, "answers_other_set": 5}
    workers = {s: sorted(w for (ss, w) in rows if ss == s and w != "all") for s in ("correct", "misclassified")}
    assert workers == {"correct": ["W2", "W3", "W4"], "misclassified": ["W2", "W3", "W5"]}
    lines = {k: r.lines for k, r in rows.items() if k[1] != "all"}
    assert lines == {("correct", "W2"): f"{f}:4", ("correct", "W3"): f"{f}:6",
                     ("correct", "W4"): f"{f}:8", ("misclassified", "W2"): f"{f}:5",
                     ("misclassified", "W3"): f"{f}:7", ("misclassified", "W5"): f"{f}:10"}
    # the 20 s batch and the 30 s one: W2 is too fast in both sets, judged on the whole file
    assert "30 s < 120 s" in rows["misclassified", "W2"].reason
    assert rows["misclassified", "W5"].excluded == "False"
    assert rows["correct", "W4"].excluded == "True" and "no answer" in rows["correct", "W4"].reason
    assert answers["correct"]["worker_id"].tolist() == ["W1", "W1"]
    assert sorted(answers["misclassified"]["worker_id"]) == ["W1", "W1", "W5"]
    md = (tmp_path / "excl_table.md").read_text().splitlines()[0]
    assert "misclassified: 4 workers seen, 2 excluded; 6 answers read, 3 kept, 3 dropped" in md


@pytest.mark.parametrize(("fmt", "content", "message"), [
    ("long", "task_id,worker_id,answer\ns0|random|5,A,positive\nm0|lime|5,A,negative\n"
             "x9|lime|5,B,negative\n",
     r"f.csv:4: unknown task_id 'x9\|lime\|5' \(in no sample set's tasks\)"),
    ("mturk", HEADER + "H1,A1,W1,400,s0|random|5,m0|lime|5,negative,positive\n"
                       "H2,A2,W2,400,m1|lime|5,x9|lime|5,negative,positive\n",
     r"f.csv:3: Input.task_id_2 'x9\|lime\|5' is not a known task \(in no sample set's tasks\)"),
])
def test_a_task_id_in_neither_sample_set_names_the_line(tmp_path, fmt, content, message):
    (tmp_path / "f.csv").write_text(content)
    build_tasks(displays("s", 4)).to_parquet(tmp_path / "c.parquet")
    build_tasks(displays("m", 2)).to_parquet(tmp_path / "m.parquet")
    for this, other in (("c", "m"), ("m", "c")):
        with pytest.raises(PlatformFormatError, match=message):
            steps.run_platform_answers({"type": "platform", "format": fmt, "path": str(tmp_path / "f.csv")},
                                       tmp_path / f"{this}.parquet", LABELS, 5, 100, PLATFORM,
                                       tmp_path / "a.parquet", tmp_path / "e.parquet",
                                       other_tasks=[tmp_path / f"{other}.parquet"])


def test_a_file_for_one_sample_set_gives_the_other_no_answers(tmp_path, caplog):
    """The old situation: a file with the correct set's answers only (MTURK, 7 answers). The
    misclassified import gets an empty answers table with the schema, and a warning."""
    (tmp_path / "batch.csv").write_text(MTURK)
    build_tasks(displays("s", 4)).to_parquet(tmp_path / "correct_tasks.parquet")
    mis = build_tasks(displays("m", 2))
    mis.to_parquet(tmp_path / "misclassified_tasks.parquet")
    src = {"type": "platform", "format": "mturk", "path": str(tmp_path / "batch.csv")}
    sets = ("correct", "misclassified")
    for this in sets:
        steps.run_platform_answers(src, tmp_path / f"{this}_tasks.parquet", LABELS, 5, 100, PLATFORM,
                                   tmp_path / f"{this}_answers.parquet", tmp_path / f"{this}_excl.parquet",
                                   other_tasks=[tmp_path / f"{s}_tasks.parquet" for s in sets if s != this],
                                   first_set=this == "correct")
        if this == "misclassified":
            assert any(r.levelname == "WARNING" and "no answer for this sample set" in r.getMessage()
                       for r in caplog.records)
    empty = pd.read_parquet(tmp_path / "misclassified_answers.parquet")
    assert len(empty) == 0
    assert list(empty.columns) == ["task_id", "sample_id", "method", "k", "worker_id", "answer", "seconds"]
    assert len(pd.read_parquet(tmp_path / "misclassified_excl.parquet")) == 0
    # the correct set is imported as without the other set's tasks (see the MTURK comments)
    assert len(pd.read_parquet(tmp_path / "correct_answers.parquet")) == 5
    steps.run_exclusions({s: tmp_path / f"{s}_excl.parquet" for s in sets},
                         {s: tmp_path / f"{s}_answers.parquet" for s in sets},
                         tmp_path / "excl_table", "[t] exclusions.")
    table = pd.read_csv(tmp_path / "excl_table.csv", dtype=str, keep_default_na=False)
    rows = {(r.sample_set, r.worker_id): r for r in table.itertuples()}
    assert _all_row(rows, "correct") == {
        "workers_seen": 4, "workers_excluded": 2, "answers_read": 7, "answers_kept": 5,
        "answers_dropped": 2, "rows_dropped": 3, "empty_submissions": 2, "answers_other_set": 0}
    assert _all_row(rows, "misclassified") == {
        "workers_seen": 0, "workers_excluded": 0, "answers_read": 0, "answers_kept": 0,
        "answers_dropped": 0, "rows_dropped": 0, "empty_submissions": 0, "answers_other_set": 7}
    # downstream: every misclassified task unanswered (left out of scores), nothing raises
    steps.run_aggregate("platform", {"tasks": tmp_path / "misclassified_tasks.parquet",
                                     "answers": tmp_path / "misclassified_answers.parquet"},
                        LABELS, tmp_path / "mis_agg.parquet")
    agg = pd.read_parquet(tmp_path / "mis_agg.parquet")
    assert len(agg) == len(mis) and agg["correct"].isna().all() and (agg["n_votes"] == 0).all()


def test_sample_sets_that_share_a_task_id_are_an_error(tasks):
    with pytest.raises(ValueError, match=r"'s0\|lime\|10' is in more than one sample set"):
        read_answers("unused.csv", tasks, LABELS, "long", other_tasks=[tasks.iloc[[1]]])
