"""Simulated workers over HTTP: the load tests' and the benchmark's crowd.

:func:`synthetic_design` writes a study shaped like the demo's (a ``crowd_design`` output for
the ``correct`` and ``misclassified`` sample sets) from the package's synthetic corpus;
:class:`Brains` is the package's simulated worker model (:mod:`saliency_repro.crowd.simulate`:
a bag-of-words reader trained on the training split, per-worker skill, "I don't know" and
lapses) answering the display a worker is shown, deterministically per (worker, task), so every
answer is known in advance; :func:`run_worker` is one person in a browser-like loop (arrive,
read the task page, click), tolerant of a server that dies and comes back.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from saliency_repro.crowd.design import assign_workers, build_tasks
from saliency_repro.crowd.export import IDK_TEXT
from saliency_repro.crowd.simulate import Reader, WorkerModel, answer
from saliency_repro.data.synthetic import classification_split, label_names
from saliency_repro.io import write_parquet
from saliency_repro.saliency.display import render_display

TASK_RE = re.compile(r'name="task_id" value="([^"]*)"')
DISPLAY_RE = re.compile(r'<p class="display" id="display"[^>]*>(.*?)</p>', re.S)


def synthetic_design(root: str | os.PathLike, n_samples: dict[str, int] | None = None,
                     methods: tuple[str, ...] = ("ig", "lime", "random", "attention"),
                     ks: tuple[int, ...] = (1, 3, 5, 10), workers_per_task: int = 5,
                     tasks_per_worker: int = 40, seed: int = 0,
                     generator: str = "topic") -> tuple[list[str], pd.DataFrame]:
    """Write ``<root>/<set>/design/{tasks,assignments}.parquet`` like the ``crowd_design`` rule
    (displays: random shown words of synthetic texts); returns (label names, training split)."""
    n_samples = n_samples or {"correct": 40, "misclassified": 10}
    rng = np.random.default_rng(seed)
    for i, (s, n) in enumerate(n_samples.items()):
        texts = classification_split(generator, n, seed + i, f"study-{s}")
        rows = []
        for r in texts.itertuples():
            words = r.text.split()
            for m in methods:
                for k in ks:
                    shown = rng.choice(len(words), size=min(k, len(words)), replace=False)
                    rows.append({"sample_id": r.id, "method": m, "k": k,
                                 "display": render_display(words, shown), "label": int(r.label)})
        tasks = build_tasks(pd.DataFrame(rows))
        assignments = assign_workers(tasks, workers_per_task, tasks_per_worker, seed + 10 + i)
        d = Path(root) / s / "design"
        write_parquet(tasks, d / "tasks.parquet")
        write_parquet(assignments, d / "assignments.parquet")
    return label_names(generator), classification_split(generator, 400, seed, "train")


class Brains:
    """The simulated crowd: answer of worker ``person`` to task ``task_id`` (a label name or
    "I don't know"), drawn from the reader's probabilities for the task's display with the
    person's skill, seeded by (person, task) so it is the same whenever it is asked."""

    def __init__(self, tasks: pd.DataFrame, train: pd.DataFrame, label_names: list[str],
                 seed: int = 0, model: WorkerModel | None = None) -> None:
        self.model = model or WorkerModel()
        self.labels = list(label_names)
        reader = Reader(len(label_names), C=self.model.reader_C).fit(train["text"], train["label"])
        p = reader.proba(list(tasks["display"]))
        self.p = dict(zip(tasks["task_id"], p, strict=True))
        self.seed = seed

    def skill(self, person: str) -> float:
        rng = np.random.default_rng([self.seed, zlib.crc32(person.encode())])
        return float(np.exp(np.log(self.model.skill_median)
                            + self.model.skill_sigma * rng.standard_normal()))

    def code(self, person: str, task_id: str) -> int:
        rng = np.random.default_rng([self.seed, zlib.crc32(person.encode()),
                                     zlib.crc32(task_id.encode())])
        return int(answer(self.p[task_id][None, :], np.array([self.skill(person)]), self.model, rng)[0])

    def __call__(self, person: str, task_id: str) -> str:
        c = self.code(person, task_id)
        return IDK_TEXT if c < 0 else self.labels[c]


@dataclass
class WorkerLog:
    """What one simulated person did: the answers the server acknowledged, latencies, errors."""

    person: str
    token: str = ""
    full: bool = False
    acked: dict[str, str] = field(default_factory=dict)
    attempted: dict[str, str] = field(default_factory=dict)
    tasks_seen: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    final_url: str = ""


async def _request(client, method: str, url: str, log: WorkerLog, retry_s: float, **kw):
    """One request, retried on connection errors (a server being restarted) for up to
    ``retry_s`` seconds from its first failure."""
    import httpx

    give_up = None
    while True:
        try:
            return await client.request(method, url, **kw)
        except httpx.TransportError as exc:
            log.errors.append(f"{type(exc).__name__} {method} {url}")
            give_up = give_up or time.monotonic() + retry_s
            if time.monotonic() > give_up:
                raise
            await asyncio.sleep(0.2)


async def run_worker(client, base: str, person: str, brains: Brains, platform: str = "prolific",
                     vanish_after: int | None = None, json_answers: bool = False,
                     think_s: float = 0.0, retry_s: float = 60.0) -> WorkerLog:
    """One person: arrive, then read the task page and answer until the batch ends (or until
    ``vanish_after`` answers, then leave without a word). Records what the server acknowledged."""
    log = WorkerLog(person)
    deadline = retry_s
    if platform == "prolific":
        q = {"PROLIFIC_PID": person, "STUDY_ID": "simstudy", "SESSION_ID": f"s-{person}"}
    elif platform == "mturk":
        q = {"workerId": person, "assignmentId": f"a-{person}", "hitId": "simhit",
             "turkSubmitTo": "https://workersandbox.mturk.com"}
    else:
        q = {"worker": person}
    r = await _request(client, "GET", f"{base}/start", log, deadline, params=q)
    if r.headers.get("x-study-state") == "full":
        log.full = True
        return log
    if r.status_code != 303:
        log.errors.append(f"arrival {r.status_code}")
        return log
    page = r.headers["location"]
    log.token = page.rsplit("/", 1)[-1]
    n = 0
    task_id = None
    while True:
        if task_id is None:
            r = await _request(client, "GET", f"{base}{page}", log, deadline)
            if r.status_code == 303:  # finished: the completion redirect
                log.finished, log.final_url = True, r.headers["location"]
                return log
            if r.status_code != 200:
                log.errors.append(f"page {r.status_code}")
                return log
            m = TASK_RE.search(r.text)
            if m is None:
                log.finished = "Thank you" in r.text
                return log
            task_id = html.unescape(m.group(1))
        if vanish_after is not None and n >= vanish_after:
            return log
        if think_s:
            await asyncio.sleep(think_s)
        log.tasks_seen.append(task_id)
        choice = brains(person, task_id)
        log.attempted[task_id] = choice
        headers = {"accept": "application/json"} if json_answers else {}
        t0 = time.perf_counter()
        r = await _request(client, "POST", f"{base}{page}/answer", log, deadline,
                           data={"task_id": task_id, "answer": choice}, headers=headers)
        dt = time.perf_counter() - t0
        if r.status_code in (200, 303):
            log.latencies.append(dt)
            log.acked[task_id] = choice
            n += 1
            if json_answers:
                body = r.json()
                if body["done"]:
                    task_id = None  # the page now redirects to the completion URL
                else:
                    task_id = body["next"]["task_id"]
                    continue
            task_id = None
        elif r.status_code == 409:  # stored before a crash, acknowledged never: re-read the page
            log.errors.append(f"answer 409 {task_id}")
            task_id = None
        else:
            log.errors.append(f"answer {r.status_code} {r.text[:80]}")
            return log


async def run_crowd(base: str, persons: list[str], brains: Brains, concurrency: int,
                    **worker_kw) -> list[WorkerLog]:
    """``persons`` arrive with at most ``concurrency`` working at once."""
    import httpx

    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(follow_redirects=False, limits=limits, timeout=60) as client:
        async def one(p: str) -> WorkerLog:
            async with sem:
                return await run_worker(client, base, p, brains, **worker_kw)
        return await asyncio.gather(*(one(p) for p in persons))
