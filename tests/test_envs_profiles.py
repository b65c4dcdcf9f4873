"""Conda environments pin what requirements.lock pins; the SLURM profile builds its DAG."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from conftest import REPO


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[normalize(name)] = version.strip()
    return pins


def pip_entries(env_file):
    for dep in yaml.safe_load(env_file.read_text())["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            yield from dep["pip"]


@pytest.mark.parametrize("env_file", sorted((REPO / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_match_the_lock(env_file):
    pins = lock_pins() | {"torch": "2.13.0"}  # installed first, from its own file, by the Makefile
    for entry in pip_entries(env_file):
        assert "==" in entry, f"{env_file.name}: {entry!r} is not pinned"
        name, version = entry.split("==", 1)
        assert pins.get(normalize(name)) == version, (
            f"{env_file.name}: {entry} but requirements.lock has {pins.get(normalize(name))}")


def test_slurm_profile_dry_run():
    """The SLURM profile and executor plugin build the paper DAG (conda swapped out: CI has none)."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "profiles/slurm", "--configfile",
         "configs/paper.yaml", "-n", "--sdm", "env-modules"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "train_classifier" in result.stdout + result.stderr
