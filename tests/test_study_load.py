"""The study server as a real service under load: many simulated workers over HTTP on loopback
against a uvicorn process, on SQLite and on a PostgreSQL server started for the test; a
``kill -9`` of the server mid-load; workers who vanish mid-batch. The simulated crowd (the
package's worker model) decides every answer, so each one is known in advance."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("httpx")

from sqlalchemy import func, select  # noqa: E402

from saliency_repro.crowd.aggregate import majority_vote  # noqa: E402
from saliency_repro.crowd.export import IDK_TEXT  # noqa: E402
from saliency_repro.crowd.platform import read_answers  # noqa: E402
from saliency_repro.study import db  # noqa: E402
from saliency_repro.study.harness import (  # noqa: E402
    POSTGRES_PACKAGE,
    ServerProcess,
    postgres_bin,
    postgres_cluster,
)
from saliency_repro.study.service import Study  # noqa: E402
from saliency_repro.study.simulate import Brains, run_crowd, synthetic_design  # noqa: E402

R = 5


def skip_or_fail(msg: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{msg} (CI=true: a missing service is a failure)")
    pytest.skip(msg)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo-like study, smaller: 40 + 10 samples, 4 methods x 4 k, R=5, B=40 (160 batches,
    4,000 answers; the demo itself has 40 + 40 samples, 8 methods x 5 k: 400 batches)."""
    root = tmp_path_factory.mktemp("study") / "crowd" / "topic"
    labels, train = synthetic_design(root, workers_per_task=R, tasks_per_worker=40)
    tasks = {s: pd.read_parquet(root / s / "design" / "tasks.parquet") for s in ("correct", "misclassified")}
    brains = Brains(pd.concat(tasks.values()), train, labels, seed=3)
    return root, labels, tasks, brains


@pytest.fixture(scope="module")
def pg_url():
    if postgres_bin() is None:
        skip_or_fail(f"PostgreSQL server programs not found (install the Debian package {POSTGRES_PACKAGE})")
    with postgres_cluster() as url:
        yield url


def serve_args(root, labels, url, *extra) -> list[str]:
    return ["--design-dir", str(root), "--dataset", "topic", "--label-names", ",".join(labels),
            "--db", url, "--token", "tok", *extra]


def engine_of(url):
    return db.engine_for(url)


def check_complete(url, root, labels, tasks, logs, tmp_path, n_batches):
    """Exactly R counted answers per task, no sample twice per worker, the stored answers are
    the acknowledged ones, and the export imports through the platform importer to them."""
    study = Study(engine_of(url))
    counted = study.answers_frame(counted_only=True)
    all_tasks = pd.concat(tasks.values())
    per_task = counted.groupby("task_id").size().reindex(all_tasks["task_id"], fill_value=0)
    assert (per_task == R).all(), per_task[per_task != R].head()
    assert not counted.duplicated(["worker_id", "sample_id"]).any()
    assert counted["batch_id"].nunique() == n_batches == counted["worker_id"].nunique()
    # every person's pages: no sample twice
    sample_of = all_tasks.set_index("task_id")["sample_id"]
    for log in logs:
        seen = sample_of.loc[log.tasks_seen]
        assert seen.is_unique, f"{log.person} saw a sample twice"
    acked = {(log.person, t, v) for log in logs for t, v in log.acked.items()}
    choices = [*labels, IDK_TEXT]
    stored = {(w, t, choices[a]) for w, t, a in zip(counted["worker_id"], counted["task_id"],
                                                   counted["answer"], strict=True)}
    assert stored == acked
    # the long CSV, written by the command line, read by the workflow's importer
    out = tmp_path / "answers.csv"
    env = {**os.environ}
    subprocess.run([sys.executable, "-m", "saliency_repro.cli", "study", "export", "--db", url,
                    "--out", str(out)], check=True, env=env, capture_output=True)
    imported, empty = read_answers(out, tasks["correct"], labels, "long",
                                   other_tasks=[tasks["misclassified"]])
    assert empty.empty and len(imported) == len(acked)
    got = {(w, t, choices[a]) for w, t, a in zip(imported["worker_id"], imported["task_id"],
                                                imported["answer"], strict=True)}
    assert got == acked
    # equation (1) from the database's answers = from the answers as given
    direct = pd.DataFrame([{"task_id": t, "worker_id": p, "answer": choices.index(v) if v != IDK_TEXT else -1}
                           for p, t, v in acked])
    truth = tasks["correct"][["task_id", "method", "k", "label"]]
    a = majority_vote(imported[imported["in_set"]], truth)
    b = majority_vote(direct, truth)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_many_workers_complete_the_study(demo, tmp_path, backend, request):
    root, labels, tasks, brains = demo
    url = (f"sqlite:///{tmp_path / 'study.sqlite'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    n_batches = 80 + 80  # 640 tasks x 5 / 40 + 160 tasks x 5 / 10
    server = ServerProcess(serve_args(root, labels, url), tmp_path / "server.log")
    server.args += ["--completion-url", f"{server.base}/done?cc=SIMDONE"]
    server.start()
    try:
        persons = [f"P{i:04d}" for i in range(n_batches + 20)]
        logs = asyncio.run(run_crowd(server.base, persons, brains, concurrency=50))
    finally:
        server.stop()
    assert [e for log in logs for e in log.errors] == []
    assert sum(log.finished for log in logs) == n_batches
    assert sum(log.full for log in logs) == 20  # the late ones find a polite "study full"
    assert {log.final_url for log in logs if log.finished} == {f"{server.base}/done?cc=SIMDONE"}
    check_complete(url, root, labels, tasks, logs, tmp_path, n_batches)


@pytest.mark.timeout(900)
def test_kill_9_mid_load_loses_no_acknowledged_answer(demo, tmp_path):
    root, labels, tasks, brains = demo
    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    server = ServerProcess(serve_args(root, labels, url), tmp_path / "server.log").start()
    persons = [f"K{i:04d}" for i in range(160)]
    result: dict = {}

    def crowd() -> None:
        result["logs"] = asyncio.run(run_crowd(server.base, persons, brains, concurrency=50,
                                               retry_s=120))

    th = threading.Thread(target=crowd)
    th.start()
    engine = engine_of(url)
    try:
        deadline = time.monotonic() + 300
        n = 0
        while n < 1500 and time.monotonic() < deadline and th.is_alive():
            time.sleep(0.2)
            with engine.connect() as conn:
                n = conn.execute(select(func.count()).select_from(db.answers)).scalar_one()
        assert th.is_alive(), "the load finished before the kill"
        server.kill9()
        killed_at = n
        time.sleep(1.0)
        server.args = ["--db", url, "--token", "tok"]  # the study is in the database
        server.start()
        th.join(600)
    finally:
        server.stop()
    assert not th.is_alive()
    logs = result["logs"]
    assert killed_at >= 1500
    transport = [e for log in logs for e in log.errors if "Error" in e]
    assert transport, "the kill did not interrupt any request"
    # every acknowledged answer is stored, with the value given, and the study completed
    study = Study(engine)
    every = study.answers_frame(counted_only=False)
    choices = [*labels, IDK_TEXT]
    stored = {(w, t): choices[a] for w, t, a in zip(every["worker_id"], every["task_id"],
                                                   every["answer"], strict=True)}
    for log in logs:
        for t, v in log.acked.items():
            assert stored.get((log.person, t)) == v
    assert all(log.finished for log in logs)
    with engine.connect() as conn:
        leases = pd.read_sql(select(db.leases), conn)
    fin = leases[leases["state"] == "finished"]
    assert fin["batch_id"].is_unique and len(fin) == 160  # no slot given twice
    counted = study.answers_frame()
    per_task = counted.groupby("task_id").size()
    assert len(per_task) == sum(len(t) for t in tasks.values()) and (per_task == R).all()


@pytest.mark.timeout(600)
def test_vanished_workers_slots_come_back_after_the_lease(tmp_path):
    root = tmp_path / "crowd" / "topic"
    labels, train = synthetic_design(root, n_samples={"correct": 10, "misclassified": 4},
                                     methods=("ig", "random"), ks=(1, 3), workers_per_task=3,
                                     tasks_per_worker=10)
    tasks = {s: pd.read_parquet(root / s / "design" / "tasks.parquet") for s in ("correct", "misclassified")}
    brains = Brains(pd.concat(tasks.values()), train, labels, seed=5)
    url = f"sqlite:///{tmp_path / 'study.sqlite'}"
    lease_s = 4.0
    server = ServerProcess(serve_args(root, labels, url, "--lease-minutes", str(lease_s / 60)),
                           tmp_path / "server.log").start()
    engine = engine_of(url)
    try:
        with engine.connect() as conn:
            n_batches = conn.execute(select(func.count()).select_from(db.batches)).scalar_one()
        vanished = asyncio.run(run_crowd(server.base, [f"V{i}" for i in range(5)], brains,
                                         concurrency=5, vanish_after=2))
        assert all(len(v.acked) == 2 for v in vanished)
        logs, wave = [], 0
        while wave < 20:
            wave += 1
            batch = asyncio.run(run_crowd(server.base, [f"W{wave}-{i}" for i in range(n_batches)],
                                          brains, concurrency=10))
            logs += batch
            with engine.connect() as conn:
                done = conn.execute(select(func.count()).select_from(db.leases).where(
                    db.leases.c.state == "finished")).scalar_one()
            if done == n_batches:
                break
            time.sleep(lease_s / 2)
    finally:
        server.stop()
    assert done == n_batches
    study = Study(engine)
    counted = study.answers_frame()
    per_task = counted.groupby("task_id").size()
    assert len(per_task) == sum(len(t) for t in tasks.values()) and (per_task == 3).all()
    every = study.answers_frame(counted_only=False)
    gone = every[every["worker_id"].str.startswith("V")]
    assert len(gone) == 10 and (~gone["counted"]).all() and gone["flag"].eq("lease expired").all()
    with engine.connect() as conn:
        states = pd.read_sql(select(db.leases), conn)
    assert (states.loc[states["person_id"].str.startswith("V"), "state"] == "expired").all()
    # the vanished workers' batches were finished by others
    vb = set(states.loc[states["person_id"].str.startswith("V"), "batch_id"])
    assert vb <= set(states.loc[states["state"] == "finished", "batch_id"])
