"""The crowd source type ``study`` (issue 19): the workflow reads a study database through rule
study_export, whose snapshot param makes new answers rerun the tables and an unchanged database
rerun nothing."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import REPO

pytest.importorskip("sqlalchemy")

from saliency_repro.crowd.platform import read_answers  # noqa: E402
from saliency_repro.errors import InputError  # noqa: E402
from saliency_repro.study import db  # noqa: E402
from saliency_repro.study.service import (  # noqa: E402
    Arrival,
    Study,
    database_snapshot,
    export_step,
)
from saliency_repro.study.simulate import synthetic_design  # noqa: E402
from saliency_repro.study.source import load_study  # noqa: E402


@pytest.fixture
def study_db(tmp_path):
    root = tmp_path / "crowd" / "topic"
    labels, _ = synthetic_design(root, n_samples={"correct": 6, "misclassified": 3},
                                 methods=("ig", "random"), ks=(1, 3), workers_per_task=2,
                                 tasks_per_worker=6)
    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    db.install(db.engine_for(url), load_study(root, "topic", labels))
    return url, root, labels


def finish_one_batch(url: str, person: str, labels: list[str]) -> int:
    study = Study(db.engine_for(url))
    token = study.arrive(Arrival("prolific", person, session_id=f"s-{person}"))
    lease = study.lease(token)
    for tid in lease.task_ids:
        study.answer(token, tid, labels[0])
    return len(lease.task_ids)


def test_snapshot_moves_only_when_answers_arrive_and_export_imports(study_db, tmp_path):
    url, root, labels = study_db
    empty = database_snapshot(url)
    assert empty["answers_counted"] == 0 and database_snapshot(url) == empty  # stable record
    n = finish_one_batch(url, "p1", labels)
    after = database_snapshot(url)
    assert after["answers_counted"] == n and after != empty
    out = tmp_path / "export.csv"
    snap = export_step(url, out, after)
    assert snap["answers_counted"] == n
    tasks = pd.concat([pd.read_parquet(p) for p in sorted(root.glob("*/design/tasks.parquet"))])
    raw, _ = read_answers(out, tasks, labels, "long")
    assert len(raw) == n and raw["worker_id"].nunique() == 1


def test_a_missing_database_is_one_input_error(tmp_path):
    with pytest.raises(InputError, match="crowd source db"):
        database_snapshot(f"sqlite:///{tmp_path / 'nothing.sqlite'}")


def _config_with_study(tmp_path, url: str | None) -> object:
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    source = {"name": "lab", "type": "study"}
    if url:
        source["db"] = url
    cfg["datasets"]["topic"]["crowd_sources"].append(source)
    path = tmp_path / "study_config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_workflow_plans_the_export_and_the_tables_of_a_study_source(study_db, tmp_path):
    url, _, _ = study_db
    cfg = _config_with_study(tmp_path, url)
    dry = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile",
                          str(cfg), "--directory", str(tmp_path / "wd")], cwd=REPO,
                         capture_output=True, text=True)
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out[-3000:]
    assert "study_export" in out and "crowd_scores_topic_lab" in out


def test_a_study_source_without_db_is_refused_naming_the_key(tmp_path):
    cfg = _config_with_study(tmp_path, None)
    r = subprocess.run([sys.executable, "-m", "saliency_repro.cli", "check-config", str(cfg),
                        "--no-device"], cwd=REPO, capture_output=True, text=True)
    assert r.returncode != 0
    assert "db" in (r.stdout + r.stderr) and "Traceback" not in r.stdout + r.stderr
