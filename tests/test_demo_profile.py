"""benchmarks/demo_profile.py's tables from a made-up run: per-rule sums and shares from the
benchmark files, the other jobs from their provenance records, sizing per unit (expected values
worked out by hand from the files written here)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


@pytest.fixture(scope="module")
def profile():
    spec = importlib.util.spec_from_file_location("demo_profile", REPO / "benchmarks" / "demo_profile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(results: Path, rule: str, job: str, s: float, cpu: float, rss: float) -> None:
    f = results / "benchmarks" / rule / f"{job}.tsv"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(HEADER + f"{s}\t0:00:00\t{rss}\t0\t0\t0\t0\t0\t50\t{cpu}\n")


def _record(results: Path, name: str, rule: str, wildcards: dict, started: str, finished: str) -> None:
    f = results / "provenance" / f"{name}.json"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(json.dumps({"rule": rule, "wildcards": wildcards, "started": started,
                             "finished": finished}))


def test_profile_and_sizing_tables(tmp_path, profile):
    r = tmp_path / "results" / "demo"
    _bench(r, "attribute", "sentiment_correct", 30.0, 20.0, 700.0)
    _bench(r, "attribute", "sentiment_misclassified", 10.0, 8.0, 650.0)
    _bench(r, "train_classifier", "sentiment", 60.0, 50.0, 500.0)
    _bench(r, "crowd_reader", "sentiment", 20.0, 18.0, 900.0)
    # two outputs of one make_displays job (one job), one crowd_design job; attribute has a
    # benchmark file, so its provenance record is not counted again
    _record(r, "a", "make_displays", {"dataset": "sentiment"}, "2026-01-01T00:00:00", "2026-01-01T00:00:03")
    _record(r, "b", "make_displays", {"dataset": "sentiment"}, "2026-01-01T00:00:00", "2026-01-01T00:00:03")
    _record(r, "c", "crowd_design", {"dataset": "sentiment"}, "2026-01-01T00:00:00", "2026-01-01T00:00:07")
    _record(r, "d", "attribute", {"dataset": "sentiment"}, "2026-01-01T00:00:00", "2026-01-01T00:00:30")
    (r / "data" / "sentiment").mkdir(parents=True)
    pd.DataFrame({"label": [0, 1] * 50}).to_parquet(r / "data" / "sentiment" / "train.parquet")
    for sample_set, seconds in (("correct", {"lime": 12.0, "integrated_gradients": 8.0}),
                                ("misclassified", {"lime": 3.0, "integrated_gradients": 2.0})):
        d = r / "saliency" / "sentiment" / sample_set
        d.mkdir(parents=True)
        (d / "diagnostics.json").write_text(json.dumps({"n_samples": {"correct": 8, "misclassified": 2}[sample_set],
                                                        "seconds": seconds}))
    bench = profile.benchmark_rows(r)
    table = profile.profile_table(bench, profile.provenance_jobs(r), None).set_index("rule")
    assert table.loc["attribute", "jobs"] == 2 and table.loc["attribute", "seconds"] == 40.0
    assert table.loc["attribute", "cpu_seconds"] == 28.0 and table.loc["attribute", "peak_rss_mb"] == 700.0
    other = table.loc["other rules (provenance times)"]
    assert other["jobs"] == 2 and other["seconds"] == 10.0
    assert table.loc["all jobs", "seconds"] == 130.0 and table.loc["all jobs", "jobs"] == 6
    assert table.loc["train_classifier", "share"] == pytest.approx(60 / 130)
    before = {"rules": {"attribute": {"jobs": 4, "seconds": 80.0}}, "job_seconds": 200.0, "jobs": 9}
    with_before = profile.profile_table(bench, profile.provenance_jobs(r), before).set_index("rule")
    assert with_before.loc["attribute", "seconds before"] == 80.0
    assert with_before.loc["all jobs", "seconds before"] == 200.0

    sizing = profile.sizing_table(r, {"classifier": {"epochs": 12, "model": {"type": "scratch"}},
                                      "saliency": {"ig_steps": 100}}, bench).set_index("stage")
    assert sizing.loc["train_classifier", "seconds per unit"] == pytest.approx(60 / 100)
    assert sizing.loc["crowd_reader", "CPU seconds per unit"] == pytest.approx(18 / 100)
    assert sizing.loc["attribute: lime", "seconds per unit"] == pytest.approx(15 / 10)
    assert sizing.loc["attribute: integrated_gradients", "seconds per unit"] == pytest.approx(10 / 10)
    # what the method timers do not cover is the jobs' start-up: (40 - 25) s over 2 jobs
    assert sizing.loc["attribute: start-up", "seconds per unit"] == pytest.approx(7.5)


def test_tree_comparison_of_two_runs(tmp_path, profile):
    """--before-revision's byte comparison: same bytes, changed bytes, files of one run only;
    provenance records (times, paths) are left out by design."""
    before, after = tmp_path / "before", tmp_path / "after"
    for root, files in ((before, {"a.csv": "1", "lu/b.md": "x", "gone.png": "p", "provenance/r.json": "t1"}),
                        (after, {"a.csv": "1", "lu/b.md": "y", "new.pdf": "q", "provenance/r.json": "t2"})):
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    b, a = profile.tree_digests(before), profile.tree_digests(after)
    assert sorted(b) == ["a.csv", "gone.png", "lu/b.md"]
    assert profile.compare_trees(b, a) == {"identical": 1, "differing": ["lu/b.md"],
                                           "only_before": ["gone.png"], "only_after": ["new.pdf"]}
