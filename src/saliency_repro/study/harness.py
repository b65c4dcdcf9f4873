"""Real services for the study's tests and benchmark: the server as its own process (so it can
be killed with SIGKILL) and a throwaway PostgreSQL cluster, both on loopback only."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

POSTGRES_PACKAGE = "postgresql"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``saliency-repro study serve ARGS --port PORT`` in a child process (loopback)."""

    def __init__(self, args: list[str], log: str | os.PathLike, port: int | None = None) -> None:
        self.args = list(args)
        self.port = port or free_port()
        self.log = Path(log)
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        import httpx

        fh = open(self.log, "a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "saliency_repro.cli", "study", "serve", *self.args,
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=fh, stderr=subprocess.STDOUT, env=os.environ.copy())
        fh.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"study server exited with {self.proc.returncode}: "
                                   f"{self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"study server did not come up in {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


def postgres_bin() -> Path | None:
    """Debian's PostgreSQL server programs (``/usr/lib/postgresql/<v>/bin``), newest first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return Path(found[-1]).parent if found else None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A fresh PostgreSQL cluster in a temporary folder on a loopback port; yields the
    SQLAlchemy URL of an empty database ``study``. As root the server runs as the ``postgres``
    user (PostgreSQL refuses root). Raises FileNotFoundError when the package is missing."""
    bindir = postgres_bin()
    if bindir is None:
        raise FileNotFoundError(f"PostgreSQL's initdb not found under /usr/lib/postgresql/*/bin "
                                f"(Debian package {POSTGRES_PACKAGE})")
    prefix: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="study-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(tmp, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, port = tmp / "data", free_port()
    run = lambda *a: subprocess.run([*prefix, *a], check=True, capture_output=True, text=True)  # noqa: E731
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-locale")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "server.log"), "-w", "-t", "60",
            "-o", f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c max_connections=200",
            "start")
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE study")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/study"
    finally:
        with contextlib.suppress(Exception):
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(tmp, ignore_errors=True)
