"""Load benchmark of the crowd-study server: answers/s and p50/p95 latency of the answer route.

Simulated workers (``saliency_repro.study.simulate``: the package's worker model as brains)
answer over HTTP on loopback against ``saliency-repro study serve`` running as its own uvicorn
process, N of them at once, each arriving (Prolific parameters), reading its task page once and
then answering through the answer route (``Accept: application/json``, which returns the next
task, as a browser's click-and-redirect does in two requests). Latency is measured by the
client around each answer POST; throughput is acknowledged answers over the wall time of the
answering phase. Client and server share the machine's CPUs, so the numbers are a lower bound
for a server with its own machine. Writes a Markdown table (``--out``); with ``--full-study``
it also pushes the paper's full study size (2 datasets x 4,000 tasks x 5 answers) through.

    PYTHONPATH=src .venv/bin/python benchmarks/study_load.py --out benchmarks/tables/study_load_cpu.md
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

from saliency_repro.study.harness import ServerProcess, postgres_bin, postgres_cluster
from saliency_repro.study.simulate import Brains, run_crowd, synthetic_design


def make_design(root: Path, n_correct: int, n_mis: int, ks: tuple[int, ...]) -> tuple:
    sets = {s: n for s, n in (("correct", n_correct), ("misclassified", n_mis)) if n}
    labels, train = synthetic_design(root, n_samples=sets, ks=ks, workers_per_task=5,
                                     tasks_per_worker=100)
    tasks = pd.concat(pd.read_parquet(root / s / "design" / "tasks.parquet") for s in sets)
    return labels, Brains(tasks, train, labels, seed=11)


def one_run(root: Path, labels, brains, url: str, workers: int, per_worker: int | None,
            log: Path) -> dict:
    server = ServerProcess(["--design-dir", str(root), "--dataset", "bench", "--label-names",
                            ",".join(labels), "--db", url, "--token", "bench"], log).start()
    try:
        proc = psutil.Process(server.proc.pid)
        cpu0, me0 = sum(proc.cpu_times()[:2]), sum(psutil.Process().cpu_times()[:2])
        t0 = time.perf_counter()
        logs = asyncio.run(run_crowd(server.base, [f"B{i:05d}" for i in range(workers)], brains,
                                     concurrency=workers, json_answers=True,
                                     vanish_after=per_worker))
        wall = time.perf_counter() - t0
        server_cpu = sum(proc.cpu_times()[:2]) - cpu0
        client_cpu = sum(psutil.Process().cpu_times()[:2]) - me0
    finally:
        server.stop()
    lat = np.array([x for g in logs for x in g.latencies])
    errors = sum(len(g.errors) for g in logs)
    return {"answers": len(lat), "wall_s": wall, "answers_per_s": len(lat) / wall,
            "p50_ms": 1000 * float(np.percentile(lat, 50)), "p95_ms": 1000 * float(np.percentile(lat, 95)),
            "errors": errors, "server_cpu_ms": 1000 * server_cpu / max(len(lat), 1),
            "client_cpu_ms": 1000 * client_cpu / max(len(lat), 1),
            "finished": sum(g.finished for g in logs)}


def full_line(seconds: float, load: float) -> str:
    return (f"\nFull study size (2 datasets x 4,000 tasks x 5 answers = 40,000 answers, 200 workers "
            f"at once, each doing a whole batch of 100 through the answer route, SQLite, load average "
            f"{load:.1f} at the end): {seconds:.0f} s wall.\n")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", default="50,200", help="concurrent workers (comma-separated)")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--answers-per-worker", type=int, default=20)
    p.add_argument("--full-study", action="store_true",
                   help="also time 2 x 4,000 tasks x 5 answers pushed through (SQLite, 200 workers)")
    p.add_argument("--out", type=Path)
    p.add_argument("--full-study-only", action="store_true",
                   help="run only --full-study and add its line to the existing --out table")
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="study-bench-"))
    # enough batches for 200 workers at once: 100 batches of 100 tasks (100 samples x 4 methods
    # x 5 k x 5 answers) + 100 of 20 tasks (20 misclassified samples)
    root = tmp / "crowd" / "bench"
    labels, brains = make_design(root, 100, 20, (1, 3, 5, 10, 20))
    rows = []
    load_before = os.getloadavg()[0]
    for backend in ([] if args.full_study_only else args.backends.split(",")):
        for n in [int(x) for x in args.workers.split(",")]:
            if backend == "postgresql":
                if postgres_bin() is None:
                    print("postgresql: skipped (install the Debian package postgresql)", file=sys.stderr)
                    continue
                with postgres_cluster() as url:
                    r = one_run(root, labels, brains, url, n, args.answers_per_worker, tmp / "pg.log")
            else:
                url = f"sqlite:///{tmp / f'bench_{n}.sqlite'}"
                r = one_run(root, labels, brains, url, n, args.answers_per_worker, tmp / "sqlite.log")
            r = {"database": backend, "concurrent workers": n, **r}
            print(r, flush=True)
            rows.append(r)
    full = None
    if args.full_study or args.full_study_only:
        froot = tmp / "crowd" / "full"
        # 4,000 tasks per dataset: 100 samples x 4 methods x 10 k, R = 5, B = 100
        flabels, fbrains = make_design(froot, 100, 0, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
        t0 = time.perf_counter()
        for d in range(2):
            url = f"sqlite:///{tmp / f'full_{d}.sqlite'}"
            fr = one_run(froot, flabels, fbrains, url, 200, None, tmp / "full.log")
            print({"full study dataset": d, **fr}, flush=True)
        full = time.perf_counter() - t0
    if args.out and args.full_study_only:
        old = args.out.read_text(encoding="utf-8").split("\nFull study size")[0].rstrip("\n")
        args.out.write_text(old + "\n" + full_line(full, os.getloadavg()[0]), encoding="utf-8")
        print(args.out.read_text(encoding="utf-8"))
    elif args.out:
        df = pd.DataFrame(rows)
        df["wall_s"] = df["wall_s"].round(1)
        df["answers_per_s"] = df["answers_per_s"].round(0).astype(int)
        df["p50_ms"] = df["p50_ms"].round(1)
        df["p95_ms"] = df["p95_ms"].round(1)
        df["server_cpu_ms"] = df["server_cpu_ms"].round(2)
        df["client_cpu_ms"] = df["client_cpu_ms"].round(2)
        df = df.drop(columns=["finished"]).rename(columns={
            "wall_s": "wall (s)", "answers_per_s": "answers/s", "p50_ms": "p50 (ms)", "p95_ms": "p95 (ms)",
            "server_cpu_ms": "server CPU ms/answer", "client_cpu_ms": "client CPU ms/answer"})
        head = (f"Study server load (`benchmarks/study_load.py`), {os.cpu_count()} CPUs shared by client "
                f"and server (load average {load_before:.1f} when it started: other jobs ran too), "
                f"{datetime.date.today()}; each worker answers {args.answers_per_worker} tasks through "
                f"the answer route, one uvicorn process, SQLite in WAL mode (synchronous=NORMAL). "
                f"Server CPU ms/answer (the server process's CPU time over the run, arrivals and "
                f"page views included, per answer; PostgreSQL's own processes not included) depends far less on what else runs: "
                f"1000 / it is the answers/s one fully used core would give")
        text = head + "\n\n" + df.to_markdown(index=False) + "\n"
        if full is not None:
            text += "\n" + full_line(full, os.getloadavg()[0])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
