"""The workflow through a real SLURM scheduler: a single-node cluster (tests/slurm_cluster.py)
runs the reduced demo with ``profiles/slurm``; the jobs must have gone through ``slurmctld``
with the resources the rules and the profile ask for, and the tables and figures must be those
of a local run of the same config, byte for byte. The GPU request of the paper config's GPU
rules is checked on a dry run (no GPU needed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from slurm_cluster import ClusterUnavailable, SlurmCluster, missing_packages
from test_workflow import REDUCED

from saliency_repro.config import deep_merge

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
GPU_RULES = {"train_classifier", "attribute", "train_summarizer"}  # profiles/slurm set-resources
LARGEST_REQUEST_MB = 32000  # the GPU rules' mem_mb in profiles/slurm


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true (where the Makefile installed the packages)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster():
    missing = missing_packages()
    if missing:
        unavailable(f"the SLURM cluster test needs the Debian package(s) {' '.join(missing)} "
                    f"(apt-get install {' '.join(missing)}, or make system-packages as root)")
    if os.geteuid() != 0:
        unavailable("the SLURM cluster test needs root: slurmd starts each job as its user")
    # the node declares the memory the profile's largest request needs (nothing enforces
    # memory here: no cgroups), so the profile's requests are submitted unchanged
    try:
        running = SlurmCluster(partition="main", gpus=1, min_memory_mb=LARGEST_REQUEST_MB)
        running.start()
    except ClusterUnavailable as reason:
        unavailable(f"the SLURM cluster test cannot run here: {reason}")
    try:
        yield running
    finally:
        running.stop()


def snakemake(args: list[str], cwd: Path, env: dict[str, str] | None = None,
              timeout: int = 1800) -> subprocess.CompletedProcess:
    env = {**(env or os.environ), "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    return subprocess.run([*SNAKEMAKE, "--directory", str(cwd), *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


def cluster_profile(folder: Path) -> Path:
    """profiles/slurm as a site without job accounting and without conda runs it."""
    profile = yaml.safe_load(PROFILE.read_text())
    profile.pop("software-deployment-method")  # the node shares this machine's venv
    profile["slurm-status-command"] = "squeue"  # no slurmdbd, so no sacct
    profile["slurm-init-seconds-before-status-checks"] = 2  # kept: MinJobAge >= 3 x 2 s
    profile["retries"] = 0  # a failure fails the test at once
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(profile))
    return folder


TABLES_AND_FIGURES = {".csv", ".md", ".tex", ".png", ".pdf"}


def artifacts(figures: Path) -> set[Path]:
    """The tables and figures under paper_figures/ (not the provenance records: they hold
    times and host names)."""
    return {p.relative_to(figures) for p in figures.rglob("*") if p.is_file()
            and p.suffix in TABLES_AND_FIGURES and "provenance" not in p.relative_to(figures).parts}


def planned_jobs(output: str) -> dict[str, int]:
    """Job counts per rule in the 'Job stats' table of a run (the target rule left out)."""
    counts, in_table = {}, False
    for line in output.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
        elif in_table and (not parts or parts[0] == "total"):
            break
        elif in_table and len(parts) == 2 and parts[1].isdigit() and parts[0] != "all":
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.mark.slow
def test_reduced_demo_through_slurm_equals_the_local_run(cluster, tmp_path):
    """The reduced demo with one classification and one summarization dataset: every rule of
    the DAG, about 50 jobs (each cluster job pays two Snakefile start-ups; the three datasets
    of tests/test_workflow.py would double the test's time for no rule more)."""
    config = deep_merge(yaml.safe_load((REPO / "config.yaml").read_text()), REDUCED)
    config["datasets"] = {name: config["datasets"][name] for name in ("sentiment", "summaries")}
    by_rule = run_on_cluster_and_locally(cluster, tmp_path, config, targets=[])
    assert {rule for rule, _, _ in EXPECTED_RESOURCES} <= set(by_rule)


# (rule, CPUs, memory) as rules/*.smk, config.yaml (max_threads 1, classifier.threads 2,
# summarizer.threads 1) and profiles/slurm (32000 MB for the GPU rules, 8000 MB by default)
# give them
EXPECTED_RESOURCES = [
    ("train_classifier", "2", "32000M"), ("attribute", "1", "32000M"),
    ("train_summarizer", "1", "32000M"), ("evaluate_classifier", "1", "4000M"),
    ("prepare_dataset", "1", "4000M"), ("generate_summaries", "1", "4000M"),
    ("crowd_significance", "1", "2000M"), ("artifact_index", "1", "8000M"),
]


def run_on_cluster_and_locally(cluster: SlurmCluster, tmp_path: Path, config: dict,
                               targets: list[str]) -> dict[str, list[dict[str, str]]]:
    """Run ``targets`` of ``config`` through the cluster and, alongside, locally; check the
    submissions and that both wrote the same tables and figures. Returns the SLURM jobs by
    rule."""
    config_path = tmp_path / "reduced.yaml"
    config_path.write_text(yaml.safe_dump(config))
    on_cluster, local = tmp_path / "cluster", tmp_path / "local"
    on_cluster.mkdir()
    local.mkdir()

    # the local run of the same config alongside (it fills the cluster run's waits)
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1"}
    local_log = tmp_path / "local.log"
    with local_log.open("w") as log:
        local_run = subprocess.Popen(
            [*SNAKEMAKE, "--directory", str(local), *targets, "--cores", "2", "--configfile",
             str(config_path)], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        run = snakemake([*targets, "--profile", str(cluster_profile(tmp_path / "profile")),
                         "--configfile", str(config_path)], on_cluster, env=cluster.env,
                        timeout=2400)
        local_run.wait(timeout=2400)
    finally:
        if local_run.poll() is None:
            local_run.kill()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:] + "\n" + cluster.logs()
    assert local_run.returncode == 0, local_log.read_text()[-5000:]

    # every job went through slurmctld: the plugin's submission lines name SLURM job ids, and
    # slurmctld remembers each of them as a completed job of the workflow's rules
    submitted = {int(i) for i in re.findall(r"has been submitted with SLURM jobid (\d+)", output)}
    jobs = {int(job["JobId"]): job for job in cluster.jobs()}
    planned = planned_jobs(output)
    assert len(submitted) == sum(planned.values()) > 0, (sorted(submitted), planned)
    assert submitted <= set(jobs), (sorted(submitted), sorted(jobs))
    assert {job["JobState"] for job in jobs.values()} == {"COMPLETED"}
    by_rule: dict[str, list[dict[str, str]]] = {}
    for job_id in submitted:
        rule = re.match(r"rule_(\w+?)(_wildcards_|$)", jobs[job_id]["Comment"]).group(1)
        by_rule.setdefault(rule, []).append(jobs[job_id])
    assert {rule: len(js) for rule, js in by_rule.items()} == planned

    # the rules' threads and memory and the profile's GPU request reached the submission
    for rule, cpus, memory in EXPECTED_RESOURCES:
        for job in by_rule.get(rule, []):
            assert (job["NumCPUs"], job["MinMemoryNode"]) == (cpus, memory), (rule, job)
    for rule, rule_jobs in by_rule.items():
        for job in rule_jobs:
            assert (job.get("TresPerJob") == "gres:gpu:1") is (rule in GPU_RULES), (rule, job)

    # the local run of the same config wrote the same tables and figures, byte for byte
    figures, local_figures = (artifacts(root / "paper_figures") for root in (on_cluster, local))
    assert figures == local_figures, figures ^ local_figures
    assert figures
    differing = sorted(str(p) for p in figures if (on_cluster / "paper_figures" / p).read_bytes()
                       != (local / "paper_figures" / p).read_bytes())
    assert differing == []

    # and rerunning the cluster's results on this machine (device: auto resolved here, as on
    # the node) plans nothing
    again = snakemake([*targets, "-n", "--cores", "2", "--configfile", str(config_path)],
                      on_cluster)
    assert "Nothing to be done" in again.stdout + again.stderr, again.stdout[-3000:]
    return by_rule


def dry_run_resources(output: str) -> dict[str, set[str]]:
    """Each rule's ``resources:`` lines in a dry run's job listing."""
    resources: dict[str, set[str]] = {}
    rule = None
    for line in output.splitlines():
        started = re.match(r"^(?:local)?rule (\w+):", line)
        if started:
            rule = started.group(1)
        elif rule and line.strip().startswith("resources:"):
            resources.setdefault(rule, set()).add(line.strip())
    return resources


def test_gpu_rules_of_the_paper_config_request_a_gpu(tmp_path):
    """The profile's ``gpu: 1`` (rendered as ``--gpus=1`` by the plugin, which the cluster run
    above checks in slurmctld's record) is on the paper config's GPU rules and only there."""
    result = snakemake(["--profile", str(REPO / "profiles" / "slurm"), "--configfile",
                        str(REPO / "configs" / "paper.yaml"), "-n", "--sdm", "env-modules"],
                       tmp_path, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    resources = dry_run_resources(result.stdout + result.stderr)
    assert GPU_RULES <= set(resources) and len(resources) > 20, sorted(resources)
    for rule, lines in resources.items():
        for line in lines:
            asks_gpu = re.search(r"\bgpu=1\b", line) is not None
            assert asks_gpu is (rule in GPU_RULES), (rule, line)
            assert "slurm_partition=main" in line, (rule, line)
