"""The workflow as a user runs it: dry runs of both configs, lint, bad configs, and one
end-to-end run of the whole DAG on a reduced demo config in a temporary directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from saliency_repro.config import deep_merge

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

# A smaller demo: fewer documents, samples, steps and epochs. Same DAG, same rules.
REDUCED = {
    "datasets": {
        "sentiment": {"source": {"n_train": 300, "n_validation": 40, "n_test": 120}},
        "topic": {"source": {"n_train": 400, "n_validation": 40, "n_test": 120},
                  "saliency": {"k": [4, 8, 16]}},  # a dataset's own display sizes
        "summaries": {"source": {"n_train": 600, "n_validation": 40, "n_test": 30}},
    },
    "saliency": {"n_samples": 12, "k": [5, 10, 20], "ig_steps": 8, "ig_internal_batch_size": 8,
                 "lime_samples": 40},
    "crowd": {"tasks_per_worker": 12, "bootstrap": 50, "expert_tasks": 20},
    "classifier": {"epochs": 6},
    "summarizer": {"training": {"epochs": 6}},
    "lrp": {"n_articles": 20},
    "counterfactual": {"n_articles": 12, "k": [2, 4], "random_draws": 19, "ig_steps": 4,
                       "ig_internal_batch_size": 4},
}


def run_snakemake(args: list[str], cwd: Path, timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    return subprocess.run(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(cwd), *args],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def test_dry_run_builds_the_dag_of_both_configs(tmp_path):
    for extra in ([], ["--configfile", str(REPO / "configs" / "paper.yaml")]):
        result = run_snakemake(["-n", "--cores", "1", "--configfile", str(REPO / "config.yaml"), *extra], tmp_path)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert "artifact_index" in result.stdout + result.stderr


def test_lint_reports_nothing():
    result = subprocess.run([*SNAKEMAKE, "--lint"], cwd=REPO, capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Lints for" not in output, output[-3000:]


@pytest.mark.parametrize(
    ("override", "named"),
    [("seed=abc", "config key 'seed'"), ("device=tpu", "config key 'device'"),
     ("colour=blue", "'colour' was unexpected"),
     ("datasets={}", "config key 'datasets': an empty mapping given with --config changes nothing"),
     ("datasets={topic: {saliency: {k: [8, 4]}}}", "config key 'datasets.topic.saliency.k'")],
)
def test_bad_config_on_the_command_line_stops_before_any_job(tmp_path, override, named):
    result = run_snakemake(["-n", "--cores", "1", "--config", override], tmp_path)
    assert result.returncode != 0
    assert named in result.stdout + result.stderr
    assert "Traceback" not in result.stderr and 'File "' not in result.stderr  # one line, no traceback
    assert not (tmp_path / "results").exists()


def test_quicklook_overlay_shrinks_a_config_into_its_own_run(tmp_path):
    """configs/quicklook.yaml is given after a user's config: only global keys (it must fit
    any datasets), outputs in their own run, and the workflow accepts the merged config."""
    overlay = yaml.safe_load((REPO / "configs" / "quicklook.yaml").read_text())
    assert "datasets" not in overlay and overlay["run"] == "quicklook"
    assert overlay["crowd"]["tasks_per_worker"] <= overlay["saliency"]["n_samples"]
    result = run_snakemake(["-n", "--cores", "1", "--configfile", str(REPO / "config.yaml"),
                            str(REPO / "configs" / "quicklook.yaml")], tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-3000:]
    assert "results/quicklook/data/sentiment/train.parquet" in out
    assert "results/demo/" not in out


@pytest.mark.slow
def test_end_to_end_reduced_demo(tmp_path):
    config = deep_merge(yaml.safe_load((REPO / "config.yaml").read_text()), REDUCED)
    config_path = tmp_path / "reduced.yaml"
    config_path.write_text(yaml.safe_dump(config))
    result = run_snakemake(["--cores", "2", "--configfile", str(config_path)], tmp_path, timeout=2400)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]

    figures = tmp_path / "paper_figures" / "demo"
    topic_k = pd.read_csv(figures / "lu2024" / "crowd_scores_topic_simulated.csv").columns
    assert [c for c in topic_k if c.endswith("Words")] == ["4 Words", "8 Words", "16 Words"]
    index = pd.read_csv(figures / "index.csv", keep_default_na=False)
    listed = set(index["artifact"])
    expected = {
        # Lu et al.
        "method_overlap", "method_table", "top_words_figure", "rationale_recall", "classifier_metrics",
        "crowd_scores", "flip_counts", "flip_histogram", "flip_example", "misclassified_counts",
        "task_example", "expert_agreement", "significance", "aggregation_agreement", "claims",
        "crowd_coverage", "crowd_exclusions", "faithfulness_metrics", "metric_comparison", "metric_agreement",
        "faithfulness_claims",
        # Tuckey et al.
        "summary_example", "lrp_word_map", "lrp_map_matrix", "rouge", "lrp_similarity",
        "lrp_conservation", "lrp_recall", "counterfactual", "counterfactual_example",
        "counterfactual_curves", "rouge_baselines",
    }
    assert expected <= listed, sorted(expected - listed)
    refs = set(index["paper_ref"])
    for ref in ["lu2024/table1", "lu2024/table2", "lu2024/table3", "lu2024/table4", "lu2024/table6",
                "lu2024/table7", "lu2024/table8", "lu2024/table9", "lu2024/figure1", "lu2024/figure2",
                "lu2024/figure3", "lu2024/figure4", "tuckey2019/figure1", "tuckey2019/figure2",
                "tuckey2019/figure3"]:
        assert any(ref in r.split(";") for r in refs), ref
    for row in index.itertuples():
        if not row.path:
            assert row.paper_ref == "lu2024/figure2"
            continue
        stem = tmp_path / Path(row.path).with_suffix("")
        for ext in row.formats.split("/"):
            path = stem.with_suffix(f".{ext}")
            assert path.is_file() and path.stat().st_size > 0, path
        if row.formats.startswith("csv"):
            assert "[demo]" in stem.with_suffix(".md").read_text().splitlines()[0], row.path
    # Snakemake's report shows every indexed artifact, grouped by paper, with its caption
    report = tmp_path / "report.html"
    made = run_snakemake(["--report", str(report), "--configfile", str(config_path)], tmp_path)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    html = report.read_text(encoding="utf-8")
    for row in index.itertuples():
        if row.path:
            assert Path(row.path).name in html, f"{row.path} is in index.csv but not in the report"
    assert "Lu et al. (2024)" in html and "Tuckey et al. (2019)" in html
    assert "Kendall tau" in html  # a table's own caption (metric_agreement_tau) reached the report

    # nothing is left to do, and no temporary file was left behind
    again = run_snakemake(["-n", "--cores", "2", "--configfile", str(config_path)], tmp_path)
    assert "Nothing to be done" in again.stdout + again.stderr
    leftovers = [p for root in ("results", "paper_figures") for p in (tmp_path / root).rglob(".*")
                 if p.is_file() and p.name != ".snakemake_timestamp"]  # Snakemake's directory marker
    assert leftovers == []

    # touching (or checking out again) every script and package module reruns nothing
    for path in [*(REPO / "scripts").glob("*.py"), *(REPO / "src" / "saliency_repro").rglob("*.py")]:
        os.utime(path)
    touched = run_snakemake(["-n", "--cores", "2", "--configfile", str(config_path)], tmp_path)
    assert "Nothing to be done" in touched.stdout + touched.stderr, touched.stdout[-3000:]

    # a config edit reruns exactly the jobs that use the edited value (and what reads their files)
    for edit, expected_rules in [
        ({"crowd": {"alpha": 0.01}}, {"crowd_significance", "claims_lu2024", "artifact_index"}),
        ({"crowd": {"compare_with_paper": True}},
         {"crowd_scores", "crowd_flips", "crowd_misclassified", "artifact_index"}),
        ({"crowd": {"significance": {"equivalence_margin_pp": 2.5}}},
         {"crowd_significance", "claims_lu2024", "artifact_index"}),
        ({"datasets": {"topic": {"saliency": {"overlap_k": 15}}}},
         {"saliency_overlap_table", "artifact_index"}),
    ]:
        edited = tmp_path / "edited.yaml"
        edited.write_text(yaml.safe_dump(deep_merge(config, edit)))
        dry = run_snakemake(["-n", "--cores", "2", "--configfile", str(edited)], tmp_path)
        assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
        assert planned_rules(dry.stdout + dry.stderr) == expected_rules, edit


def planned_rules(dry_run_output: str) -> set[str]:
    """Rule names in the 'Job stats' table of a dry run."""
    rules, in_table = set(), False
    for line in dry_run_output.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
            continue
        if in_table:
            if not parts or parts[0] == "total":
                break
            if len(parts) == 2 and parts[1].isdigit() and parts[0] != "all":  # the target rule
                rules.add(parts[0])
    return rules


def start_snakemake(targets: list[str], config_path: Path, cwd: Path) -> subprocess.Popen:
    """A workflow run in its own process group, to be killed as Ctrl-C or a cluster would."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    return subprocess.Popen(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(cwd), *targets, "--cores", "2",
         "--configfile", str(config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)


def kill_when(proc: subprocess.Popen, ready, timeout: float = 900) -> None:
    """SIGTERM the run's process group as soon as ``ready()`` holds."""
    import signal
    import time

    deadline = time.time() + timeout
    while not ready():
        assert proc.poll() is None, "the run ended before it could be killed: " + proc.stdout.read()[-3000:]
        assert time.time() < deadline, "the moment to kill never came"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=120)
    assert proc.returncode != 0


@pytest.mark.slow
def test_a_killed_and_resumed_run_writes_the_tables_of_an_uninterrupted_one(tmp_path):
    """Repeatable, and resumable: a small part of the DAG (data, tokenizer, classifier,
    attribution, crowd, tables, figures) run from scratch twice gives byte-identical files, also
    when the second run is killed during training (it resumes from its checkpoint) and again
    during attribution (the job starts over), and is then restarted with the same command."""
    import hashlib

    reduced = deep_merge(yaml.safe_load((REPO / "config.yaml").read_text()), REDUCED)
    reduced["datasets"] = {"sentiment": reduced["datasets"]["sentiment"]}
    reduced["classifier"]["epochs"] = 3
    targets = [f"paper_figures/demo/lu2024/{name}" for name in (
        "crowd_scores_sentiment_simulated.csv", "crowd_scores_sentiment_simulated.md",
        "method_overlap_sentiment.csv", "flip_counts_sentiment_simulated.csv",
        "flip_histogram_sentiment_simulated.png", "flip_histogram_sentiment_simulated.pdf",
        "top_words_sentiment.png", "top_words_sentiment.pdf")]
    digests = []
    for run in ("uninterrupted", "killed"):
        work = tmp_path / run
        work.mkdir()
        config_path = work / "reduced.yaml"
        config_path.write_text(yaml.safe_dump(reduced))
        if run == "killed":
            results = work / "results" / "demo"
            checkpoint = results / "models" / "sentiment" / "checkpoints" / "state.pt"
            kill_when(start_snakemake(targets, config_path, work), checkpoint.is_file)
            assert not (results / "models" / "sentiment" / "classifier").exists()
            attribute_log = results / "logs" / "attribute" / "sentiment_correct.log"
            kill_when(start_snakemake(targets, config_path, work), attribute_log.is_file)
            assert not (results / "saliency" / "sentiment" / "correct" / "word_scores.parquet").exists()
        result = run_snakemake([*targets, "--cores", "2", "--configfile", str(config_path)], work)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        state = json.loads((work / "results/demo/models/sentiment/classifier/trainer_state.json").read_text())
        assert state["resumed"] is (run == "killed")
        digests.append({t: hashlib.sha256((work / t).read_bytes()).hexdigest() for t in targets})
    differing = [t for t in targets if digests[0][t] != digests[1][t]]
    assert differing == []


def test_editing_a_local_data_file_reruns_its_preparation_and_touching_it_does_not(tmp_path):
    rows = "\n".join(f"{'good' if i % 2 else 'bad'} film number {i},{i % 2}" for i in range(40))
    for split in ("train", "test"):
        (tmp_path / f"{split}.csv").write_text("text,label\n" + rows + "\n")
    config = {"run": "t", "datasets": {"mine": {
        "task": "classification", "label_names": ["neg", "pos"], "split_overlap": "warn",
        "source": {"type": "local", "files": {"train": str(tmp_path / "train.csv"),
                                              "test": str(tmp_path / "test.csv")}}}}}
    config_path = tmp_path / "c.yaml"
    config_path.write_text(yaml.safe_dump(config))
    target = "results/t/data/mine/train.parquet"
    first = run_snakemake([target, "--cores", "1", "--configfile", str(config_path)], tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    os.utime(tmp_path / "train.csv")
    touched = run_snakemake([target, "-n", "--cores", "1", "--configfile", str(config_path)], tmp_path)
    assert "Nothing to be done" in touched.stdout + touched.stderr
    (tmp_path / "train.csv").write_text("text,label\n" + rows + "\nanother good film,1\n")
    edited = run_snakemake([target, "-n", "--cores", "1", "--configfile", str(config_path)], tmp_path)
    assert planned_rules(edited.stdout + edited.stderr) == {"prepare_dataset"}


def test_a_killed_job_leaves_no_output_and_is_planned_again(tmp_path):
    """Killing the workflow in the middle of a job (Ctrl-C, a cluster's time limit) leaves none
    of that job's output and no temporary file; the next run plans the job again and finishes."""
    import signal
    import time

    config = deep_merge(yaml.safe_load((REPO / "config.yaml").read_text()), REDUCED)
    config["datasets"] = {"sentiment": config["datasets"]["sentiment"]}
    config["classifier"]["epochs"] = 40  # long enough to be killed mid-training
    config_path = tmp_path / "reduced.yaml"
    config_path.write_text(yaml.safe_dump(config))
    model = tmp_path / "results" / "demo" / "models" / "sentiment" / "classifier"
    log = tmp_path / "results" / "demo" / "logs" / "train_classifier" / "sentiment.log"
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    proc = subprocess.Popen(
        [*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "--directory", str(tmp_path), str(model.relative_to(tmp_path)),
         "--cores", "1", "--configfile", str(config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    deadline = time.time() + 600
    while time.time() < deadline and "epoch" not in (log.read_text() if log.is_file() else ""):
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        time.sleep(1)
    assert "epoch" in log.read_text(), "training never started"
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=120)
    assert proc.returncode != 0
    assert not model.exists(), "a killed job left its output behind"
    leftovers = [p for p in (tmp_path / "results").rglob("*") if p.is_file() and
                 (p.name.startswith(".") and p.name != ".snakemake_timestamp" or p.suffix == ".tmp")]
    assert leftovers == []
    dry = run_snakemake([str(model.relative_to(tmp_path)), "-n", "--cores", "1",
                         "--configfile", str(config_path)], tmp_path)
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert planned_rules(dry.stdout + dry.stderr) == {"train_classifier"}


def _threads_by_rule(dry_run_output: str) -> dict[str, set[int]]:
    """rule -> the thread counts of its jobs in a dry run (Snakemake prints none for 1)."""
    out: dict[str, set[int]] = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output):
        m = re.match(r"(?:local)?rule (\w+):", block.strip())
        if m:
            t = re.search(r"^\s+threads: (\d+)$", block, re.M)
            out.setdefault(m.group(1), set()).add(int(t.group(1)) if t else 1)
    return out


@pytest.mark.parametrize("overrides, expected", [
    ([], {"train_classifier": {2}, "counterfactual_check": {2}, "attribute": {1},
          "crowd_answers": {1}}),  # config.yaml
    (["max_threads=3", "classifier={threads: 1}", "counterfactual={threads: 1}"],
     {"train_classifier": {1}, "counterfactual_check": {1}, "attribute": {3}, "crowd_answers": {3}}),
    (["max_threads=3"], {"train_classifier": {2}, "attribute": {3}}),
    (["max_threads=3", "classifier={threads: null}"], {"train_classifier": {3}, "attribute": {3}}),
])
def test_classifier_threads_apart_from_max_threads(tmp_path, overrides, expected):
    """classifier.threads (counterfactual.threads) sets the training (deletion check) job's
    threads alone (null: max_threads), so a machine can give the other heavy jobs another count
    without changing the trained weights (the check's log-probabilities)."""
    args = ["-n", "--cores", "4"] + (["--config", *overrides] if overrides else [])
    result = run_snakemake(args, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    threads = _threads_by_rule(result.stdout + result.stderr)
    for rule, counts in expected.items():
        assert threads[rule] == counts, (rule, threads[rule])
