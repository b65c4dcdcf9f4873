"""The crowd steps end to end on a tiny fixture: design -> simulated answers -> equation (1)
-> tables, with the file contracts of docs/ARCHITECTURE.md."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from saliency_repro.crowd import steps
from saliency_repro.crowd.design import validate_design

METHODS = ["random", "integrated_gradients", "lime"]
KS = [5, 10]
GOOD = ["great", "superb", "wonderful", "fine", "lovely"]
BAD = ["awful", "boring", "terrible", "dull", "poor"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("crowd")
    rng = np.random.default_rng(0)
    train = []
    for i in range(200):
        label = i % 2
        words = list(rng.choice(GOOD if label else BAD, 3)) + ["the", "film", "was", "seen"]
        train.append({"id": f"t{i}", "text": " ".join(rng.permutation(words)), "label": label})
    pd.DataFrame(train).to_parquet(d / "train.parquet")
    rows = []
    for i in range(12):
        label = i % 2
        cue = (GOOD if label else BAD)[i % 5]
        for m in METHODS:
            for k in KS:
                shown = cue if m != "random" else "the"
                rows.append({"sample_id": f"s{i:02d}", "label": label, "pred": label, "method": m,
                             "k": k, "display": f"..{shown} ..film .", "shown_positions": [2]})
    pd.DataFrame(rows).to_parquet(d / "displays.parquet")
    return d


def test_steps_end_to_end(workdir):
    d = workdir
    steps.run_design(d / "displays.parquet", d / "tasks.parquet", d / "assign.parquet", 3, 6, 1)
    tasks, assign = pd.read_parquet(d / "tasks.parquet"), pd.read_parquet(d / "assign.parquet")
    validate_design(assign, tasks, 3, 6)
    steps.run_export(d / "tasks.parquet", d / "assign.parquet", ["negative", "positive"], d / "export")
    assert (d / "export" / "batches.csv").is_file()
    cfg = {"skill_median": 4.0, "lapse_rate": 0.0, "idk_margin": 0.1}
    # the reader is fitted once (rule crowd_reader) and read by the answers and expert jobs
    steps.run_fit_reader(d / "train.parquet", ["negative", "positive"], cfg, 3,
                         d / "reader.pkl", dataset="toy")
    info = json.loads((d / "reader.pkl.json").read_text())
    assert info["seed"] == 3 and info["train"]["rows"] == 200 and info["reader"] == "Reader"
    steps.run_simulated_answers(d / "tasks.parquet", d / "assign.parquet", d / "reader.pkl",
                                ["negative", "positive"], cfg, 3, d / "answers.parquet",
                                d / "excl.parquet")
    answers = pd.read_parquet(d / "answers.parquet")
    assert list(answers.columns) == ["task_id", "sample_id", "method", "k", "worker_id", "answer"]
    assert len(answers) == len(assign)  # only assigned pairs are answered
    # the simulated crowd drops nothing: the exclusions table is its "all" row, which closes
    steps.run_exclusions({"correct": d / "excl.parquet"}, {"correct": d / "answers.parquet"},
                         d / "excl_table", "[t] exclusions.")
    excl = pd.read_csv(d / "excl_table.csv")
    assert excl["worker_id"].tolist() == ["all"]
    assert excl.loc[0, ["workers_seen", "workers_excluded", "answers_read", "answers_kept",
                        "answers_dropped"]].tolist() == [assign["worker_id"].nunique(), 0,
                                                         len(assign), len(assign), 0]
    assert "no worker or submission was dropped" in (d / "excl_table.md").read_text()
    steps.run_aggregate("simulated", {"tasks": d / "tasks.parquet", "answers": d / "answers.parquet"},
                        ["negative", "positive"], d / "aggregate.parquet")
    agg = pd.read_parquet(d / "aggregate.parquet")
    assert {"sample_id", "method", "k", "label", "correct"} <= set(agg.columns)
    # shown cue words are easy for skilled, lapse-free readers; "the" carries nothing
    by_method = agg.groupby("method")["correct"].mean()
    assert by_method["integrated_gradients"] > by_method["random"]

    steps.run_scores(d / "aggregate.parquet", d / "scores", "[t] scores", "lu2024/table3", False)
    scores = pd.read_csv(d / "scores.csv")
    assert scores.columns.tolist() == ["Method", "5 Words", "10 Words", "Score"]
    steps.run_flips(d / "aggregate.parquet", d / "flips", d / "example", d / "hist", "t",
                    "toy", "simulated", "lu2024/table3", False)
    assert (d / "hist.png").is_file() and (d / "hist.pdf").is_file()
    crowd = {"alpha": 0.05, "bootstrap": 50,
             "significance": {"null_simulations": 20}}
    steps.run_significance(d / "aggregate.parquet", d / "sig", "[t] sig", crowd, 0, True)
    sig = pd.read_csv(d / "sig.csv")
    assert {"perm_p_holm", "clustered_mcnemar_p_holm", "naive_mcnemar_p_holm", "score_ci_low",
            "perm_centred_null_rate", "naive_mcnemar_swap_null_rate", "paper_claim"} <= set(sig.columns)
    steps.run_significance(d / "aggregate.parquet", d / "sig2", "[t] sig", crowd, 0, False)
    assert "paper_claim" not in pd.read_csv(d / "sig2.csv").columns  # no paper table, no claim
    steps.run_aggregation_agreement(d / "tasks.parquet", d / "answers.parquet",
                                    d / "aggregate.parquet", d / "agree", "[t] agree", 0)
    steps.run_expert_check(d / "tasks.parquet", d / "aggregate.parquet", d / "reader.pkl",
                           ["negative", "positive"], cfg, 20, 0, d / "expert", "[t] experts",
                           "lu2024/table3")
    expert = pd.read_csv(d / "expert.csv")
    assert expert.at[0, "tasks"] == 20 and expert.at[0, "paper_agreement_%"] == 86.0
    steps.run_task_example(d / "tasks.parquet", ["negative", "positive"], d / "task", "[t] task")
    assert (d / "task.png").is_file()


def test_task_example_shows_a_sample_longer_than_k(tmp_path, monkeypatch):
    """The one-word text "ridiculous" shows its whole self at k = 10; the figure of a task must
    show a text the top-k actually cut."""
    shown = {}
    monkeypatch.setattr(steps.figures, "task_figure",
                        lambda display, labels, title, question: shown.setdefault("display", display))
    monkeypatch.setattr(steps, "save_figure", lambda fig, stem: None)
    tasks = pd.DataFrame({
        "task_id": ["a10", "a20", "b10", "b20"], "sample_id": ["a", "a", "b", "b"],
        "method": "lime", "k": [10, 20, 10, 20],
        "display": ["ridiculous . ", "ridiculous . ",
                    " ".join(f"w{i}" for i in range(10)), " ".join(f"w{i}" for i in range(14))]})
    tasks.to_parquet(tmp_path / "tasks.parquet")
    steps.run_task_example(tmp_path / "tasks.parquet", ["neg", "pos"], tmp_path / "task", "t")
    assert shown["display"] == " ".join(f"w{i}" for i in range(10))
    assert steps.scores.display_words("ridiculous . ") == 1
