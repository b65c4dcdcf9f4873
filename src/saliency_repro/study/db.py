"""The study database: schema, engine set-up and loading a designed study into it.

The guarantees the server gives rest on constraints here, not on application code alone:

- ``holds.batch_id`` is the primary key: a batch (one worker slot) is held by at most one
  lease at a time, so two simultaneous arrivals can never get the same slot;
- ``holds.person_key`` is unique: a person holds at most one batch (active or finished);
- ``exposures (person_key, sample_id)`` is the primary key: a person is never given a batch
  with a sample they were already given, across batches and across expired leases;
- ``answers (lease_id, task_id)`` and ``(lease_id, position)`` are unique: one answer per task.

SQLite (the default, an embedded file) runs in WAL mode with a busy timeout; every write is one
short ``BEGIN IMMEDIATE`` transaction (see :func:`write_tx`). Any SQLAlchemy URL works; the
PostgreSQL driver is psycopg 3 (``postgresql+psycopg://...``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
)

metadata = MetaData()

meta = Table("study_meta", metadata,
             Column("key", String(64), primary_key=True),
             Column("value", Text, nullable=False))

tasks = Table("tasks", metadata,
              Column("task_id", String(255), primary_key=True),
              Column("sample_set", String(64), nullable=False),
              Column("sample_id", String(255), nullable=False),
              Column("method", String(64), nullable=False),
              Column("k", Integer, nullable=False),
              Column("display", Text, nullable=False),
              Column("label", Integer, nullable=False))

batches = Table("batches", metadata,
                Column("batch_id", String(128), primary_key=True),
                Column("sample_set", String(64), nullable=False),
                Column("design_worker", String(64), nullable=False),
                Column("n_tasks", Integer, nullable=False),
                # interleaves the sample sets: the i-th of n batches of a set has ord i/n
                Column("ord", Float, nullable=False))

batch_tasks = Table("batch_tasks", metadata,
                    Column("batch_id", ForeignKey("batches.batch_id"), primary_key=True),
                    Column("position", Integer, primary_key=True),
                    Column("task_id", ForeignKey("tasks.task_id"), nullable=False),
                    Column("sample_id", String(255), nullable=False),
                    UniqueConstraint("batch_id", "task_id"),
                    UniqueConstraint("batch_id", "sample_id"))

leases = Table("leases", metadata,
               Column("lease_id", Integer, primary_key=True, autoincrement=True),
               Column("token", String(64), nullable=False, unique=True),
               Column("batch_id", ForeignKey("batches.batch_id"), nullable=False),
               Column("platform", String(16), nullable=False),
               Column("person_id", String(128), nullable=False),
               Column("person_key", String(160), nullable=False),
               # Prolific SESSION_ID / MTurk assignmentId (latest), STUDY_ID / hitId
               Column("session_id", String(128), nullable=False, default=""),
               Column("study_id", String(128), nullable=False, default=""),
               Column("submit_to", String(255), nullable=False, default=""),
               Column("state", String(16), nullable=False),  # active finished expired returned
               Column("started_at", Float, nullable=False),
               Column("expires_at", Float, nullable=False),
               Column("last_at", Float, nullable=True),
               Column("finished_at", Float, nullable=True),
               Column("n_answered", Integer, nullable=False, default=0),
               Index("ix_leases_state_expires", "state", "expires_at"),
               Index("ix_leases_person", "person_key"))

holds = Table("holds", metadata,
              Column("batch_id", ForeignKey("batches.batch_id"), primary_key=True),
              Column("lease_id", ForeignKey("leases.lease_id"), nullable=False, unique=True),
              Column("person_key", String(160), nullable=False, unique=True))

exposures = Table("exposures", metadata,
                  Column("person_key", String(160), primary_key=True),
                  Column("sample_id", String(255), primary_key=True),
                  Column("lease_id", ForeignKey("leases.lease_id"), nullable=False))

answers = Table("answers", metadata,
                Column("answer_id", Integer, primary_key=True, autoincrement=True),
                Column("lease_id", ForeignKey("leases.lease_id"), nullable=False),
                Column("position", Integer, nullable=False),
                Column("task_id", ForeignKey("tasks.task_id"), nullable=False),
                Column("person_key", String(160), nullable=False),
                Column("answer", Integer, nullable=False),  # label index, -1 = I don't know
                Column("answered_at", Float, nullable=False),
                Column("seconds", Float, nullable=False),  # server-side time on this task
                # counted toward R: the lease finished; flag: why an answer is not counted
                Column("counted", Boolean, nullable=False, default=False),
                Column("flag", String(32), nullable=False, default=""),
                UniqueConstraint("lease_id", "task_id"),
                UniqueConstraint("lease_id", "position"),
                Index("ix_answers_task", "task_id"))

#: tables in dependency order (what a dump for "nothing changed" compares)
TABLES = [meta, tasks, batches, batch_tasks, leases, holds, exposures, answers]


class StudyError(ValueError):
    """A study cannot be loaded or does not match the database; the message says which file."""


@dataclass
class StudyData:
    """A designed study: every sample set's tasks and batches, and the dataset's label names."""

    dataset: str
    label_names: list[str]
    tasks: pd.DataFrame  # task_id, sample_set, sample_id, method, k, display, label
    batches: pd.DataFrame  # batch_id, sample_set, design_worker, n_tasks, ord
    batch_tasks: pd.DataFrame  # batch_id, position, task_id, sample_id
    sources: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        """sha256 of the design (tasks, batches, labels): a database serves one design only."""
        h = hashlib.sha256()
        h.update(json.dumps([self.dataset, self.label_names]).encode())
        for df in (self.tasks, self.batch_tasks):
            h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        return h.hexdigest()


def engine_for(url: str, sqlite_synchronous: str = "NORMAL") -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` writes.

    ``synchronous=NORMAL`` in WAL mode loses no committed transaction when the *process* dies
    (kill -9, crash); only an operating-system crash or power loss can lose the last ones.
    ``FULL`` closes that too at the cost of an fsync per answer."""
    if url.startswith("sqlite"):
        eng = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                            pool_size=8, max_overflow=32)

        @event.listens_for(eng, "connect")
        def _connect(dbapi_conn, _record) -> None:  # pragma: no cover - driver hook
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(eng, "begin")
        def _begin(conn) -> None:  # pragma: no cover - driver hook
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return eng
    return create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)


_SQLITE_WRITE_LOCK = threading.Lock()


@contextlib.contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """One short write transaction. On SQLite, writers of this process queue on a lock (no
    busy-wait storms) and the transaction is ``BEGIN IMMEDIATE`` (another process waits on the
    busy timeout instead of failing with "database is locked" at commit)."""
    if engine.dialect.name == "sqlite":
        with _SQLITE_WRITE_LOCK, engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                yield conn
    else:
        with engine.begin() as conn:
            yield conn


def read_meta(conn: Connection) -> dict[str, str]:
    return {r.key: r.value for r in conn.execute(select(meta))}


def install(engine: Engine, study: StudyData) -> bool:
    """Create the tables and load ``study`` unless the database already holds it.

    Returns True when the study was loaded now. A database that holds another design raises
    :class:`StudyError` (answers are never mixed across designs)."""
    metadata.create_all(engine)
    fp = study.fingerprint()
    with write_tx(engine) as conn:
        have = read_meta(conn)
        if have:
            if have.get("fingerprint") != fp:
                raise StudyError(
                    f"database holds study {have.get('dataset')!r} of another design "
                    f"(fingerprint {have.get('fingerprint', '')[:12]} != {fp[:12]}): use a new --db")
            return False
        conn.execute(insert(meta), [
            {"key": "fingerprint", "value": fp}, {"key": "dataset", "value": study.dataset},
            {"key": "label_names", "value": json.dumps(study.label_names)},
            {"key": "sources", "value": json.dumps(study.sources)}])
        conn.execute(insert(tasks), study.tasks.to_dict("records"))
        conn.execute(insert(batches), study.batches.to_dict("records"))
        conn.execute(insert(batch_tasks), study.batch_tasks.to_dict("records"))
    return True


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (sorted): what a test compares to prove nothing changed."""
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in TABLES}
