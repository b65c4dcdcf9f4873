"""Shared test fixtures: the repository root, the demo config, and the shared real data."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """Real data beside the repo (``../shared/data``), or SALIENCY_REPRO_SHARED_DATA."""
    return Path(os.environ.get("SALIENCY_REPRO_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data not present at {path}")
    return path


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def demo_config() -> dict:
    """A fresh (unvalidated) copy of the default config."""
    return copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text()))
