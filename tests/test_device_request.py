"""``device: auto`` is a request, resolved by the job on the machine that runs it: a rerun
planned on a machine where the request would resolve differently (a CPU login node after GPU
jobs, or the reverse) plans nothing, because the rules' ``device`` param is the request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_workflow import REDUCED, planned_rules

from saliency_repro.config import deep_merge

REPO = Path(__file__).resolve().parents[1]
# a planning process that sees a CUDA device (emulated: torch.cuda answers as on a GPU node)
CUDA_SITE = """
import torch
torch.cuda.is_available = lambda: True
torch.cuda.device_count = lambda: 1
"""


def snakemake(args: list[str], cwd: Path, extra_env: dict[str, str] | None = None,
              timeout: int = 600):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1", **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
                           "--directory", str(cwd), *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.slow
def test_a_rerun_where_auto_resolves_differently_plans_nothing(tmp_path):
    config = deep_merge(yaml.safe_load((REPO / "config.yaml").read_text()), REDUCED)
    config["datasets"] = {"sentiment": config["datasets"]["sentiment"]}
    config["classifier"]["epochs"] = 1
    assert config["device"] == "auto"
    config_path = tmp_path / "c.yaml"
    config_path.write_text(yaml.safe_dump(config))
    target = "results/demo/classify/sentiment/metrics.json"  # train_ and evaluate_classifier
    run = snakemake([target, "--cores", "2", "--configfile", str(config_path)], tmp_path,
                    timeout=2400)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    log = tmp_path / "results/demo/logs/train_classifier/sentiment.log"
    assert "device: auto requested, cpu used" in log.read_text()  # resolved in the job

    site = tmp_path / "cuda_site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(CUDA_SITE)
    pythonpath = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
    emulated = {"PYTHONPATH": pythonpath}
    # the emulation works: there, the resolver would now pick CUDA
    probe = subprocess.run(
        [sys.executable, "-c", "from saliency_repro.runtime import resolve_device; "
         "print(resolve_device('auto'))"],
        capture_output=True, text=True, env={**os.environ, **emulated}, timeout=300)
    assert probe.stdout.strip().splitlines()[-1] == "cuda", probe.stderr[-2000:]

    for extra_env in (None, emulated):
        dry = snakemake([target, "-n", "--cores", "2", "--configfile", str(config_path)],
                        tmp_path, extra_env)
        assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
        assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]

    # an edit of the request is a change: device: cpu reruns the jobs that use the device
    edited = tmp_path / "cpu.yaml"
    edited.write_text(yaml.safe_dump({**config, "device": "cpu"}))
    dry = snakemake([target, "-n", "--cores", "2", "--configfile", str(edited)], tmp_path)
    assert planned_rules(dry.stdout + dry.stderr) == {"train_classifier", "evaluate_classifier"}
