"""The study server in process (Starlette's TestClient, SQLite): arrival on each platform,
answers, leases, escaping, and every refused request leaving the database unchanged."""

from __future__ import annotations

import re

import pandas as pd
import pytest

pytest.importorskip("starlette")
from sqlalchemy import select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from saliency_repro.crowd.export import IDK_TEXT  # noqa: E402
from saliency_repro.study import db  # noqa: E402
from saliency_repro.study.app import create_app  # noqa: E402
from saliency_repro.study.service import Settings, Study  # noqa: E402
from saliency_repro.study.simulate import TASK_RE, synthetic_design  # noqa: E402
from saliency_repro.study.source import load_study  # noqa: E402

LEASE = 600.0


@pytest.fixture(scope="module")
def design(tmp_path_factory):
    root = tmp_path_factory.mktemp("study") / "crowd" / "topic"
    labels, _ = synthetic_design(root, n_samples={"correct": 8, "misclassified": 4},
                                 methods=("ig", "random"), ks=(1, 3), workers_per_task=3,
                                 tasks_per_worker=8)
    return load_study(root, "topic", labels)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def env(design, tmp_path):
    engine = db.engine_for(f"sqlite:///{tmp_path / 'study.sqlite'}")
    db.install(engine, design)
    clock = Clock()
    study = Study(engine, Settings(lease_seconds=LEASE, admin_token="s3cret",
                                   completion_url="https://app.prolific.com/submissions/complete?cc=C0DE"),
                  clock=clock)
    client = TestClient(create_app(study), follow_redirects=False)
    return study, client, clock, engine


def arrive(client, pid: str) -> str:
    r = client.get("/start", params={"PROLIFIC_PID": pid, "STUDY_ID": "st1", "SESSION_ID": f"se-{pid}"})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def current_task(client, page: str) -> str:
    r = client.get(page)
    assert r.status_code == 200
    return TASK_RE.search(r.text).group(1)


def answer(client, page: str, task_id: str, value: str):
    return client.post(f"{page}/answer", data={"task_id": task_id, "answer": value})


def finish(client, page: str, value: str) -> None:
    while True:
        r = client.get(page)
        m = TASK_RE.search(r.text)
        if r.status_code != 200 or m is None:
            return
        assert answer(client, page, m.group(1), value).status_code == 303


def test_prolific_worker_answers_and_is_sent_to_the_completion_url(env):
    study, client, _, engine = env
    page = arrive(client, "5f1a")
    labels = study.label_names
    given = {}
    for i in range(study.batches.set_index("batch_id")["n_tasks"].max()):
        r = client.get(page)
        if r.status_code == 303:
            break
        assert f"Task {i + 1} of " in r.text
        tid = TASK_RE.search(r.text).group(1)
        value = [*labels, IDK_TEXT][i % (len(labels) + 1)]
        assert answer(client, page, tid, value).status_code == 303
        given[tid] = value
    r = client.get(page)
    assert r.status_code == 303
    assert r.headers["location"] == "https://app.prolific.com/submissions/complete?cc=C0DE"
    stored = study.answers_frame()
    assert dict(zip(stored["task_id"], [[*labels, IDK_TEXT][a] for a in stored["answer"]],
                    strict=True)) == given
    assert stored["counted"].all() and stored["worker_id"].eq("5f1a").all()
    # returning with the same PROLIFIC_PID (a new session) lands on the same, finished batch
    assert arrive(client, "5f1a") == page


def test_returning_worker_continues_the_same_batch(env):
    study, client, _, _ = env
    page = arrive(client, "w1")
    t1 = current_task(client, page)
    assert answer(client, page, t1, study.label_names[1]).status_code == 303
    again = arrive(client, "w1")
    assert again == page
    assert current_task(client, page) != t1
    assert "Task 2 of" in client.get(page).text


def test_mturk_preview_arrival_and_external_submit(env):
    study, client, _, engine = env
    before = db.dump(engine)
    r = client.get("/start", params={"assignmentId": "ASSIGNMENT_ID_NOT_AVAILABLE", "hitId": "H1"})
    assert r.status_code == 200 and "example task" in r.text and "Accept the HIT" in r.text
    assert db.dump(engine) == before  # a preview takes no slot
    q = {"workerId": "AW1", "assignmentId": "A1", "hitId": "H1",
         "turkSubmitTo": "https://workersandbox.mturk.com"}
    r = client.get("/start", params=q)
    assert r.status_code == 303
    page = r.headers["location"]
    t1 = current_task(client, page)
    answer(client, page, t1, IDK_TEXT)
    # MTurk reuses assignment ids after a return; the same worker with a new one continues
    r = client.get("/start", params={**q, "assignmentId": "A2"})
    assert r.headers["location"] == page
    finish(client, page, study.label_names[0])
    r = client.get(page)
    assert r.status_code == 200
    assert 'action="https://workersandbox.mturk.com/mturk/externalSubmit"' in r.text
    assert 'name="assignmentId" value="A2"' in r.text


def test_lab_link_asks_for_an_id_then_assigns(env):
    _, client, _, _ = env
    r = client.get("/start")
    assert r.status_code == 200 and 'name="worker"' in r.text
    r = client.get("/start", params={"worker": "lab-07"})
    assert r.status_code == 303 and r.headers["location"].startswith("/b/")


def test_no_sample_twice_and_full_page(env):
    study, client, clock, engine = env
    n = len(study.batches)
    pages = [arrive(client, f"p{i}") for i in range(n)]
    assert len(set(pages)) == n
    r = client.get("/start", params={"PROLIFIC_PID": "late", "STUDY_ID": "s", "SESSION_ID": "x"})
    assert r.status_code == 200 and r.headers["x-study-state"] == "full"
    assert "study is full" in r.text
    with engine.connect() as conn:
        holds = pd.read_sql(select(db.holds), conn)
        expo = pd.read_sql(select(db.exposures), conn)
    assert holds["batch_id"].is_unique and len(holds) == n
    assert not expo.duplicated(["person_key", "sample_id"]).any()


def test_expired_lease_releases_the_slot_and_keeps_answers_uncounted(env):
    study, client, clock, engine = env
    page = arrive(client, "gone")
    with engine.connect() as conn:
        batch = conn.execute(select(db.leases.c.batch_id)).scalar_one()
    for _ in range(2):
        answer(client, page, current_task(client, page), study.label_names[0])
    clock.now += LEASE + 1
    r = client.get(page)
    assert r.status_code == 410 and "ran out" in r.text
    page2 = arrive(client, "next")
    with engine.connect() as conn:
        leases = pd.read_sql(select(db.leases).order_by(db.leases.c.lease_id), conn)
        ans = pd.read_sql(select(db.answers), conn)
    assert list(leases["state"]) == ["expired", "active"]
    assert leases["batch_id"].iloc[1] == batch  # the released slot went to the next arrival
    assert len(ans) == 2 and (~ans["counted"]).all() and ans["flag"].eq("lease expired").all()
    assert page2 != page
    # the vanished worker comes back: no batch with a sample they were given before
    r = client.get("/start", params={"PROLIFIC_PID": "gone", "STUDY_ID": "s", "SESSION_ID": "y"})
    if r.status_code == 303:
        with engine.connect() as conn:
            lid = conn.execute(select(db.leases.c.batch_id).where(
                db.leases.c.person_key == "prolific:gone", db.leases.c.state == "active")).scalar_one()
        first = set(study.batch_samples[batch])
        assert not first & set(study.batch_samples[lid])
    assert study.answers_frame().empty  # nothing counted: no batch finished


def test_html_in_dataset_texts_and_labels_is_escaped(tmp_path):
    evil = "<script>alert('x')</script> <img src=x onerror=alert(1)> ."
    tasks = pd.DataFrame({"task_id": ["s1|ig|1"], "sample_set": ["correct"], "sample_id": ["s1"],
                          "method": ["ig"], "k": [1], "display": [evil], "label": [0]})
    data = db.StudyData("evil", ["<b>bold</b>", 'quote"s'], tasks,
                        pd.DataFrame({"batch_id": ["correct/w0"], "sample_set": ["correct"],
                                      "design_worker": ["w0"], "n_tasks": [1], "ord": [0.0]}),
                        pd.DataFrame({"batch_id": ["correct/w0"], "position": [0],
                                      "task_id": ["s1|ig|1"], "sample_id": ["s1"]}))
    engine = db.engine_for(f"sqlite:///{tmp_path / 'e.sqlite'}")
    db.install(engine, data)
    client = TestClient(create_app(Study(engine, Settings(admin_token="t"))), follow_redirects=False)
    page = client.get("/start", params={"worker": "x"}).headers["location"]
    text = client.get(page).text
    assert "<script>alert" not in text and "<img src=x" not in text and "<b>bold" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert answer(client, page, "s1|ig|1", "<b>bold</b>").status_code == 303
    csv = client.get("/admin/export.csv", params={"token": "t"}).text
    assert csv.splitlines()[1].startswith('s1|ig|1,x,<b>bold</b>,')


# ---------------------------------------------------------------- refused requests change nothing
def _other_batch_task(study, page_token_batch):
    for b, ids in study.batch_task_ids.items():
        if b != page_token_batch:
            return ids[0]


CASES = {
    # name: (status, function(client, study, page, clock) -> response)
    "unknown link": (404, lambda c, s, p, k: answer(c, "/b/" + "A" * 32, "t", s.label_names[0])),
    "malformed link": (404, lambda c, s, p, k: c.get("/b/<script>")),
    "task outside the batch": (404, lambda c, s, p, k: answer(
        c, p, _other_batch_task(s, s.lease(p[3:]).batch_id), s.label_names[0])),
    "unknown task id": (404, lambda c, s, p, k: answer(c, p, "no|such|1", s.label_names[0])),
    "answer not a label": (422, lambda c, s, p, k: answer(c, p, current_task(c, p), "banana")),
    "label with other case": (422, lambda c, s, p, k: answer(c, p, current_task(c, p), s.label_names[0].upper())),
    "second answer to a task": (409, lambda c, s, p, k: answer(c, p, s.lease(p[3:]).task_ids[0], s.label_names[1])),
    "not the current task": (409, lambda c, s, p, k: answer(c, p, s.lease(p[3:]).task_ids[3], s.label_names[1])),
    "oversize body": (413, lambda c, s, p, k: c.post(f"{p}/answer", content=b"task_id=" + b"x" * 5000 + b"&answer=a",
                                                     headers={"content-type": "application/x-www-form-urlencoded"})),
    "malformed body": (400, lambda c, s, p, k: c.post(f"{p}/answer", content=b"task_id&&answer",
                                                      headers={"content-type": "application/x-www-form-urlencoded"})),
    "bad utf-8 body": (400, lambda c, s, p, k: c.post(f"{p}/answer", content=b"task_id=\xff&answer=\xfe",
                                                      headers={"content-type": "application/x-www-form-urlencoded"})),
    "missing field": (400, lambda c, s, p, k: c.post(f"{p}/answer", data={"task_id": current_task(c, p)})),
    "duplicated field": (400, lambda c, s, p, k: c.post(f"{p}/answer", content=(
        f"task_id={current_task(c, p)}&answer={s.label_names[0]}&answer={s.label_names[1]}").encode(),
        headers={"content-type": "application/x-www-form-urlencoded"})),
    "extra field": (400, lambda c, s, p, k: c.post(f"{p}/answer", data={
        "task_id": current_task(c, p), "answer": s.label_names[0], "worker": "other"})),
    "json body": (415, lambda c, s, p, k: c.post(f"{p}/answer", json={
        "task_id": current_task(c, p), "answer": s.label_names[0]})),
    "GET on the answer route": (405, lambda c, s, p, k: c.get(f"{p}/answer")),
    "lease ran out": (410, lambda c, s, p, k: (setattr(k, "now", k.now + LEASE + 5),
                                                answer(c, p, s.lease(p[3:]).task_ids[1], s.label_names[0]))[1]),
    "malformed worker id": (400, lambda c, s, p, k: c.get("/start", params={"worker": "<script>x</script>"})),
    "malformed Prolific session": (400, lambda c, s, p, k: c.get("/start", params={
        "PROLIFIC_PID": "ok1", "STUDY_ID": "s", "SESSION_ID": "a b<"})),
    "turkSubmitTo elsewhere": (400, lambda c, s, p, k: c.get("/start", params={
        "workerId": "AW9", "assignmentId": "A9", "hitId": "H", "turkSubmitTo": "https://evil.example"})),
    "admin without token": (401, lambda c, s, p, k: c.get("/admin")),
    "admin with a wrong token": (401, lambda c, s, p, k: c.get("/admin", headers={"authorization": "Bearer nope"})),
    "export without token": (401, lambda c, s, p, k: c.get("/admin/export.csv")),
    "release without token": (401, lambda c, s, p, k: c.post("/admin/release", data={"person_key": "prolific:one"})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_refused_request_changes_nothing(env, case):
    study, client, clock, engine = env
    page = arrive(client, "one")
    assert answer(client, page, current_task(client, page), study.label_names[0]).status_code == 303
    status, call = CASES[case]
    before = db.dump(engine)
    r = call(client, study, page, clock)
    assert r.status_code == status, r.text[:300]
    assert db.dump(engine) == before


def test_answer_to_a_finished_batch_is_refused(env):
    study, client, _, engine = env
    page = arrive(client, "fin")
    ids = study.lease(page[3:]).task_ids
    finish(client, page, IDK_TEXT)
    before = db.dump(engine)
    r = answer(client, page, ids[-1], study.label_names[0])
    assert r.status_code == 409 and db.dump(engine) == before


def test_admin_view_and_release(env):
    study, client, _, _ = env
    page = arrive(client, "adm")
    answer(client, page, current_task(client, page), study.label_names[0])
    r = client.get("/admin", params={"token": "s3cret"})
    assert r.status_code == 200 and "prolific:adm" in r.text and "Leases outstanding (1)" in r.text
    prog = client.get("/admin/progress.json", headers={"authorization": "Bearer s3cret"}).json()
    assert prog["batches_held"] == 1 and prog["answers_counted"] == 0
    assert sum(r["required"] for r in prog["per_method_k"]) == int(study.batches["n_tasks"].sum())
    r = client.post("/admin/release", data={"person_key": "prolific:adm"},
                    headers={"authorization": "Bearer s3cret"})
    assert r.json() == {"released": True}
    assert client.get(page).status_code == 410
    assert re.search(r"returned 1", client.get("/admin", params={"token": "s3cret"}).text)


def test_export_snapshot_and_unchanged_file(env, tmp_path):
    from saliency_repro.crowd.platform import read_long
    from saliency_repro.study.service import write_long_csv

    study, client, _, engine = env
    out = tmp_path / "answers.csv"
    empty = write_long_csv(engine, out)
    assert empty["answers_counted"] == 0 and out.read_text() == "task_id,worker_id,answer,seconds\n"
    page = arrive(client, "exp1")
    finish(client, page, study.label_names[2])
    first = write_long_csv(engine, out)
    n = len(study.lease(page[3:]).task_ids)
    assert first["answers_counted"] == n and first["sha256"] != empty["sha256"]
    mtime = out.stat().st_mtime_ns
    again = write_long_csv(engine, out)
    assert again == first and out.stat().st_mtime_ns == mtime  # nothing new: file untouched
    t = study.tasks.reset_index()
    got = read_long(out, t[t["sample_set"] == "correct"], study.label_names,
                    other_tasks=[t[t["sample_set"] != "correct"]])
    assert len(got) == n and (got["answer"] == 2).all() and got["worker_id"].eq("exp1").all()
