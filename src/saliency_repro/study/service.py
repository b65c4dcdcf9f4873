"""What the server does, without HTTP: arrival and assignment, answers, leases, progress, export.

Every write is one short transaction (:func:`saliency_repro.study.db.write_tx`) whose
correctness under concurrency rests on the database's unique constraints (module docstring of
:mod:`saliency_repro.study.db`): an arrival that loses a race for a slot gets an
``IntegrityError``, its transaction is rolled back whole and it tries again.

Leases: a batch not finished within ``lease_seconds`` of its start is released (its hold is
deleted, so the slot goes to the next arrival); the answers given under the lease stay in the
database, flagged ``lease expired`` and never counted toward R. Only the answers of finished
batches are counted, so every task ends with exactly R counted answers (one per batch holding
it). The person keeps the exposure to the batch's samples, so they never get those samples
again.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import (
    Boolean,
    Engine,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from saliency_repro.crowd import IDK
from saliency_repro.crowd.export import IDK_TEXT
from saliency_repro.study import db

LOG = logging.getLogger(__name__)

ID_RE = re.compile(r"[A-Za-z0-9_.@:-]{1,128}")
PLATFORMS = ("prolific", "mturk", "lab")
MTURK_SUBMIT_HOSTS = ("https://www.mturk.com", "https://workersandbox.mturk.com")
#: the long CSV the ``platform`` importer reads (:func:`saliency_repro.crowd.platform.read_long`)
LONG_COLUMNS = ["task_id", "worker_id", "answer", "seconds"]

# The answer route's statements, built once: plain SQL with named parameters is what every
# SQLAlchemy dialect takes, and skips per-request statement construction (most of its CPU)
_LEASE_BY_TOKEN = text(
    "SELECT lease_id, token, batch_id, platform, person_id, person_key, session_id, submit_to, "
    "state, started_at, expires_at, last_at, n_answered FROM leases WHERE token = :token")
_ANSWER_CAS = text(
    "UPDATE leases SET n_answered = :n, last_at = :now WHERE lease_id = :id AND n_answered = :pos "
    "AND state = 'active' AND expires_at > :now")
_FINISH_CAS = text(
    "UPDATE leases SET n_answered = :n, last_at = :now, state = 'finished', finished_at = :now "
    "WHERE lease_id = :id AND n_answered = :pos AND state = 'active' AND expires_at > :now")
_INSERT_ANSWER = text(
    "INSERT INTO answers (lease_id, position, task_id, person_key, answer, answered_at, seconds, "
    "counted, flag) VALUES (:lease_id, :position, :task_id, :person_key, :answer, :answered_at, "
    ":seconds, :counted, :flag)").bindparams(bindparam("counted", type_=Boolean))
_COUNT_LEASE = text("UPDATE answers SET counted = :t WHERE lease_id = :id").bindparams(
    bindparam("t", type_=Boolean))


class StudyRequestError(Exception):
    """A request the server refuses; ``status`` is the HTTP status, the message is shown."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Settings:
    """The study's run settings (command-line options of ``saliency-repro study serve``)."""

    lease_seconds: float = 3600.0
    completion_url: str = ""  # Prolific: https://app.prolific.com/submissions/complete?cc=CODE
    completion_code: str = ""
    admin_token: str = ""
    min_seconds: float = 120.0  # shown in the researcher view (the importer's too-fast rule)
    mturk_submit_hosts: tuple[str, ...] = MTURK_SUBMIT_HOSTS
    max_body_bytes: int = 2048
    assign_retries: int = 20


@dataclass
class Arrival:
    """Who arrived, from the URL: platform, person id, and the platform's session fields."""

    platform: str
    person_id: str
    session_id: str = ""
    study_id: str = ""
    submit_to: str = ""

    @property
    def person_key(self) -> str:
        return f"{self.platform}:{self.person_id}"


@dataclass
class LeaseView:
    """A lease as the task page needs it."""

    token: str
    lease_id: int
    batch_id: str
    platform: str
    person_id: str
    state: str
    n_answered: int
    n_tasks: int
    expires_at: float
    session_id: str
    submit_to: str
    task_ids: list[str] = field(default_factory=list)
    person_key: str = ""
    started_at: float = 0.0
    last_at: float | None = None


class Study:
    """One study in one database: the static design cached in memory, state in the database."""

    def __init__(self, engine: Engine, settings: Settings | None = None,
                 clock=time.time) -> None:
        self.engine = engine
        self.settings = settings or Settings()
        self.clock = clock
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:") \
                and not Path(engine.url.database).is_file():
            raise db.StudyError(f"{engine.url.database}: no such study database file")
        conn = None
        try:
            conn = engine.connect()
            m = db.read_meta(conn)
        except DBAPIError as exc:
            if conn is not None:
                conn.close()
            raise db.StudyError(f"{engine.url.render_as_string(hide_password=True)}: cannot read a study "
                                f"database there ({str(exc.orig).strip()})") from None
        with conn:
            if not m:
                raise db.StudyError("database holds no study: run `saliency-repro study serve` "
                                    "with the study's design first")
            self.dataset = m["dataset"]
            self.label_names: list[str] = json.loads(m["label_names"])
            t = pd.read_sql(select(db.tasks), conn)
            bt = pd.read_sql(select(db.batch_tasks).order_by(db.batch_tasks.c.batch_id,
                                                             db.batch_tasks.c.position), conn)
            self.batches = pd.read_sql(select(db.batches), conn)
        self.tasks = t.set_index("task_id")
        self.batch_task_ids: dict[str, list[str]] = {
            b: list(g["task_id"]) for b, g in bt.groupby("batch_id", sort=False)}
        self.batch_samples: dict[str, list[str]] = {
            b: list(g["sample_id"]) for b, g in bt.groupby("batch_id", sort=False)}
        self.choices = [*self.label_names, IDK_TEXT]
        self._task_info = {tid: {"task_id": tid, "display": r.display, "method": r.method,
                                 "k": int(r.k)} for tid, r in self.tasks.iterrows()}

    # ------------------------------------------------------------------ arrival
    def parse_answer(self, value: str) -> int:
        """An answer button's value -> label index (-1: I don't know); anything else is 422."""
        if value == IDK_TEXT:
            return IDK
        if value in self.label_names:
            return self.label_names.index(value)
        raise StudyRequestError(422, f"answer {value[:40]!r} is not one of the labels "
                                     f"{self.label_names} or {IDK_TEXT!r}")

    def sweep(self, conn, now: float) -> int:
        """Release every active lease past its expiry (inside the caller's transaction)."""
        ids = [r.lease_id for r in conn.execute(
            select(db.leases.c.lease_id).where(db.leases.c.state == "active",
                                               db.leases.c.expires_at <= now))]
        if ids:
            conn.execute(update(db.leases).where(db.leases.c.lease_id.in_(ids),
                                                 db.leases.c.state == "active")
                         .values(state="expired"))
            conn.execute(delete(db.holds).where(db.holds.c.lease_id.in_(ids)))
            conn.execute(update(db.answers).where(db.answers.c.lease_id.in_(ids))
                         .values(flag="lease expired", counted=False))
            LOG.info("released %d expired lease(s): %s", len(ids), ids)
        return len(ids)

    def release(self, person_key: str, state: str = "returned") -> bool:
        """Release a person's active lease now (Prolific RETURNED / TIMED-OUT, the researcher's
        call); its answers are kept, flagged, not counted. False when none is active."""
        with db.write_tx(self.engine) as conn:
            row = conn.execute(select(db.leases.c.lease_id).where(
                db.leases.c.person_key == person_key, db.leases.c.state == "active")).first()
            if row is None:
                return False
            conn.execute(update(db.leases).where(db.leases.c.lease_id == row.lease_id)
                         .values(state=state))
            conn.execute(delete(db.holds).where(db.holds.c.lease_id == row.lease_id))
            conn.execute(update(db.answers).where(db.answers.c.lease_id == row.lease_id)
                         .values(flag=f"lease {state}", counted=False))
        return True

    def arrive(self, who: Arrival) -> str | None:
        """The lease token for ``who``: their current batch, or the least-filled open batch none
        of whose samples they were given before; None when no batch is free ("study full")."""
        if who.platform not in PLATFORMS:
            raise StudyRequestError(400, f"unknown platform {who.platform!r}")
        if not ID_RE.fullmatch(who.person_id):
            raise StudyRequestError(400, "a worker id is 1-128 letters, digits or _.@:-")
        for name, v in (("session", who.session_id), ("study", who.study_id)):
            if v and not ID_RE.fullmatch(v):
                raise StudyRequestError(400, f"{name} id {v[:40]!r} is malformed")
        last: Exception | None = None
        for _ in range(self.settings.assign_retries):
            try:
                return self._arrive_once(who)
            except (IntegrityError, OperationalError) as exc:  # lost a race: start over
                last = exc
                time.sleep(0.005 + secrets.randbelow(20) / 1000)
        raise StudyRequestError(503, f"the study is busy, please reload ({type(last).__name__})")

    def _arrive_once(self, who: Arrival) -> str | None:
        now = self.clock()
        L, H, B, BT, E = db.leases, db.holds, db.batches, db.batch_tasks, db.exposures
        with db.write_tx(self.engine) as conn:
            self.sweep(conn, now)
            cur = conn.execute(select(L).join(H, H.c.lease_id == L.c.lease_id)
                               .where(H.c.person_key == who.person_key)).first()
            if cur is not None:
                if who.platform == "mturk" and (who.session_id != cur.session_id
                                                or who.submit_to != cur.submit_to):
                    # MTurk: the same worker accepted the HIT again (new assignmentId)
                    conn.execute(update(L).where(L.c.lease_id == cur.lease_id).values(
                        session_id=who.session_id, submit_to=who.submit_to, study_id=who.study_id))
                return cur.token
            seen = exists(select(E.c.sample_id).join(BT, BT.c.sample_id == E.c.sample_id)
                          .where(E.c.person_key == who.person_key, BT.c.batch_id == B.c.batch_id))
            held = exists(select(H.c.batch_id).where(H.c.batch_id == B.c.batch_id))
            q = (select(B.c.batch_id).where(~held, ~seen).order_by(B.c.ord, B.c.batch_id).limit(1))
            if conn.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True, of=B)
            row = conn.execute(q).first()
            if row is None:
                return None
            token = secrets.token_urlsafe(24)
            lease_id = conn.execute(insert(L).values(
                token=token, batch_id=row.batch_id, platform=who.platform,
                person_id=who.person_id, person_key=who.person_key, session_id=who.session_id,
                study_id=who.study_id, submit_to=who.submit_to, state="active", started_at=now,
                expires_at=now + self.settings.lease_seconds, n_answered=0)).inserted_primary_key[0]
            conn.execute(insert(H).values(batch_id=row.batch_id, lease_id=lease_id,
                                          person_key=who.person_key))
            conn.execute(insert(E), [{"person_key": who.person_key, "sample_id": s,
                                      "lease_id": lease_id}
                                     for s in self.batch_samples[row.batch_id]])
            LOG.info("%s gets batch %s (lease %d)", who.person_key, row.batch_id, lease_id)
            return token

    # ------------------------------------------------------------------ the task page
    def lease(self, token: str) -> LeaseView:
        """The lease of ``token`` (404 when unknown)."""
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", token or ""):
            raise StudyRequestError(404, "unknown link")
        with self.engine.connect() as conn:
            r = conn.execute(_LEASE_BY_TOKEN, {"token": token}).first()
        if r is None:
            raise StudyRequestError(404, "unknown link")
        ids = self.batch_task_ids[r.batch_id]
        state = r.state
        if state == "active" and r.expires_at <= self.clock():
            state = "expired"
        return LeaseView(r.token, r.lease_id, r.batch_id, r.platform, r.person_id, state,
                         r.n_answered, len(ids), r.expires_at, r.session_id, r.submit_to, ids,
                         r.person_key, r.started_at, r.last_at)

    def task(self, task_id: str) -> dict:
        """What the page shows of a task (a copy: callers may add to it)."""
        return dict(self._task_info[task_id])

    # ------------------------------------------------------------------ answers
    def answer(self, token: str, task_id: str, value: str) -> LeaseView:
        """Store one answer (one transaction). Refusals change nothing: 404 unknown link or a
        task outside the batch, 409 a task already answered (or not the current one) or a
        finished batch, 410 a lease that ran out or was returned, 422 not a label."""
        code = self.parse_answer(value)
        lv = self.lease(token)
        if task_id not in self.batch_task_ids[lv.batch_id]:
            raise StudyRequestError(404, "this task is not in your batch")
        if lv.state == "finished":
            raise StudyRequestError(409, "your batch is already finished")
        if lv.state != "active":
            raise StudyRequestError(410, "the time for this batch ran out (its slot was released)")
        pos = lv.task_ids.index(task_id)
        if pos < lv.n_answered:
            raise StudyRequestError(409, "this task is already answered")
        if pos > lv.n_answered:
            raise StudyRequestError(409, "this is not your current task")
        now = self.clock()
        last = pos == lv.n_tasks - 1
        # the compare-and-set on n_answered makes the values read with the lease current: the
        # update succeeds only if no answer was stored since, so last_at is this task's start
        start = lv.last_at if lv.last_at is not None else lv.started_at
        with db.write_tx(self.engine) as conn:
            n = conn.execute(_FINISH_CAS if last else _ANSWER_CAS,
                             {"n": pos + 1, "now": now, "id": lv.lease_id, "pos": pos}).rowcount
            if n != 1:  # a concurrent duplicate, or the lease ran out meanwhile: nothing written
                raise StudyRequestError(409, "this task is already answered or the batch ended")
            conn.execute(_INSERT_ANSWER, {
                "lease_id": lv.lease_id, "position": pos, "task_id": task_id,
                "person_key": lv.person_key, "answer": code, "answered_at": now,
                "seconds": max(0.0, now - start), "counted": last, "flag": ""})
            if last:
                conn.execute(_COUNT_LEASE, {"id": lv.lease_id, "t": True})
        lv.n_answered = pos + 1
        lv.state = "finished" if last else "active"
        return lv

    # ------------------------------------------------------------------ researcher
    def answers_frame(self, counted_only: bool = True) -> pd.DataFrame:
        """Answers with their task, worker and lease columns (counted ones only by default)."""
        L, A, T = db.leases, db.answers, db.tasks
        q = (select(A.c.task_id, T.c.sample_set, T.c.sample_id, T.c.method, T.c.k,
                    L.c.person_id.label("worker_id"), L.c.platform, L.c.batch_id,
                    A.c.answer, A.c.seconds.label("task_seconds"), A.c.counted, A.c.flag,
                    (L.c.finished_at - L.c.started_at).label("seconds"), A.c.answered_at)
             .join(L, L.c.lease_id == A.c.lease_id).join(T, T.c.task_id == A.c.task_id)
             .order_by(A.c.answer_id))
        if counted_only:
            q = q.where(A.c.counted == True)  # noqa: E712 - SQL expression
        with self.engine.connect() as conn:
            return pd.read_sql(q, conn)

    def long_csv(self) -> str:
        """The counted answers as the ``platform`` importer's long CSV (task_id, worker_id,
        answer, seconds): the answer as its label name or "I don't know", ``seconds`` the
        worker's whole batch (what the importer's too-fast rule reads)."""
        a = self.answers_frame(counted_only=True)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(LONG_COLUMNS)
        for r in a.itertuples():
            w.writerow([r.task_id, r.worker_id, self.choices[r.answer] if r.answer != IDK else IDK_TEXT,
                        f"{r.seconds:.3f}"])
        return buf.getvalue()

    def progress(self) -> dict:
        """The researcher's view: batches, workers, leases, per (sample set, method, k) counts."""
        now = self.clock()
        L, A = db.leases, db.answers
        with db.write_tx(self.engine) as conn:  # leases past their time show as released
            self.sweep(conn, now)
        with self.engine.connect() as conn:
            states = dict(conn.execute(select(L.c.state, func.count()).group_by(L.c.state)).all())
            outstanding = [dict(r._mapping) for r in conn.execute(
                select(L.c.person_key, L.c.batch_id, L.c.n_answered, L.c.started_at, L.c.expires_at)
                .where(L.c.state == "active").order_by(L.c.expires_at))]
            per_task = dict(conn.execute(select(A.c.task_id, func.count()).where(
                A.c.counted == True).group_by(A.c.task_id)).all())  # noqa: E712
            flagged = conn.execute(select(func.count()).select_from(A).where(
                and_(A.c.counted == False, A.c.flag != ""))).scalar_one()  # noqa: E712
        required = {t: 0 for t in self.tasks.index}
        for ids in self.batch_task_ids.values():
            for t in ids:
                required[t] += 1
        t = self.tasks.assign(required=pd.Series(required), counted=pd.Series(per_task)).fillna(
            {"counted": 0})
        by = (t.groupby(["sample_set", "method", "k"])[["required", "counted"]].sum()
              .astype(int).reset_index())
        hist = t["counted"].astype(int).value_counts().sort_index()
        n_batches = len(self.batches)
        for o in outstanding:
            o["expires_in_s"] = round(o.pop("expires_at") - now)
            o["started_s_ago"] = round(now - o.pop("started_at"))
        return {
            "dataset": self.dataset, "batches": n_batches,
            "batches_done": int(states.get("finished", 0)),
            "batches_held": int(states.get("active", 0)),
            "batches_open": n_batches - int(states.get("finished", 0)) - int(states.get("active", 0)),
            "workers_started": int(sum(states.values())), "workers_finished": int(states.get("finished", 0)),
            "leases_expired": int(states.get("expired", 0)), "leases_returned": int(states.get("returned", 0)),
            "answers_counted": int(t["counted"].sum()), "answers_flagged": int(flagged),
            "excluded": self.excluded(), "outstanding": outstanding,
            "per_method_k": by.to_dict("records"),
            "answers_per_task": {int(k): int(v) for k, v in hist.items()},
        }

    def snapshot(self) -> dict:
        """What an export read: the design's fingerprint, the counted answers and the last
        answer stored (id and time), so that a record of it tells whether answers arrived since."""
        A = db.answers
        with self.engine.connect() as conn:
            fp = db.read_meta(conn)["fingerprint"]
            n, last_id, last_at = conn.execute(select(
                func.count().filter(A.c.counted == True),  # noqa: E712
                func.max(A.c.answer_id), func.max(A.c.answered_at))).one()
        return {"dataset": self.dataset, "fingerprint": fp, "answers_counted": int(n or 0),
                "last_answer_id": int(last_id or 0), "last_answered_at": last_at}

    def excluded(self) -> list[dict]:
        """Finished workers the importer's exclusion rule would drop (with this study's
        ``min_seconds``), judged on their counted answers."""
        from saliency_repro.crowd.platform import exclusion_rule

        a = self.answers_frame(counted_only=True)
        if a.empty:
            return []
        _, excl = exclusion_rule(a, self.settings.min_seconds)
        return [{"worker_id": r.worker_id, "reason": r.reason} for r in excl.itertuples()]


def database_snapshot(url: str) -> dict:
    """``Study.snapshot`` of the database at ``url`` (without the answer time, so that the
    record is the same whenever nothing was added); a missing database is an InputError."""
    from saliency_repro.errors import InputError

    try:
        snap = Study(db.engine_for(url)).snapshot()
    except db.StudyError as exc:
        raise InputError(f"crowd source db {url!r}: {exc}") from None
    snap.pop("last_answered_at", None)
    return snap


def write_long_csv(engine_or_url: Engine | str, path: str | os.PathLike) -> dict:
    """Write a study database's counted answers as the ``platform`` importer's long CSV and
    return the snapshot it read (:meth:`Study.snapshot` plus the file's sha256), for provenance.

    This is how the workflow reads a study: a crowd source ``{type: platform, format: long,
    path: <this file>}`` imports it with the exclusion rule and design checks of
    :mod:`saliency_repro.crowd.platform`. A file whose content would not change is left alone
    (same bytes, same mtime), so a rerun recomputes only after new answers arrived."""
    import hashlib

    from saliency_repro.io import write_text

    engine = db.engine_for(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
    study = Study(engine)
    snap = study.snapshot()
    text = study.long_csv()
    p = Path(path)
    if not (p.is_file() and p.read_text(encoding="utf-8") == text):
        write_text(p, text)
    snap["sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
    snap["path"] = str(p)
    return snap


def export_step(url: str, out: str | os.PathLike, planned: dict) -> dict:
    """Rule ``study_export``: write the answers and log the snapshot read. ``planned`` is the
    snapshot the DAG was built on; answers that arrive between planning and the job are
    exported too, and the log says so (the next run sees the new snapshot and reruns)."""
    snap = write_long_csv(url, out)
    LOG.info("study %s: %d counted answers exported (last answer id %d; sha256 %s)",
             snap["dataset"], snap["answers_counted"], snap["last_answer_id"], snap["sha256"])
    if snap["answers_counted"] != planned.get("answers_counted"):
        LOG.warning("answers arrived after the workflow was planned (%s then, %d now): exported "
                    "all of them; the next run reruns from the new snapshot",
                    planned.get("answers_counted"), snap["answers_counted"])
    return snap
