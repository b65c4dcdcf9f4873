"""A single-node SLURM cluster for tests: ``munged``, ``slurmctld`` and ``slurmd`` started by
hand (no systemd) from Debian's ``munge`` and ``slurm-wlm``, on loopback, in a temporary folder.

Why by hand: a test must start and stop its own services, and a container has neither systemd
nor cgroup delegation. The configuration is what such a machine can run and what the SLURM
executor plugin needs without accounting:

- ``munged`` on its default socket (``/run/munge``, owned by ``munge``) with a fresh key of
  mode 0400 in the temporary folder: a configless ``slurmd`` asks it before it has a config;
- ``slurmd`` configless (``--conf-server``): it links the config at ``/run/slurm/conf``,
  where the ``srun`` inside each job finds it (the jobstep plugin drops ``SLURM_CONF``);
- ``ProctrackType=proctrack/linuxproc`` and ``TaskPlugin=task/none``: no cgroups, no dbus;
- the node's ``CPUs`` and socket layout from ``slurmd -C`` (or it drains), and its
  ``RealMemory`` too unless a larger one is asked for (``SlurmdParameters=config_overrides``,
  so that a profile's memory requests are scheduled as they are; nothing enforces memory);
- no ``slurmdbd``: the plugin is told ``--slurm-status-command squeue``, which it keeps only
  while ``MinJobAge`` is at least three times its first status-check interval (else it falls
  back to ``sacct``, which fails without accounting storage); a long ``MinJobAge`` also keeps
  every finished job in ``scontrol show job`` for the test to inspect;
- one generic-resource GPU bound to ``/dev/null`` (``Gres=gpu:1``): the scheduler then really
  allocates the GPU request of the GPU rules (``--gpus=1``), although torch sees no CUDA
  device and ``device: auto`` resolves to the CPU on the node (the situation of a cluster
  whose planning machine differs from the machine that runs a job).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MUNGE_SOCKET = Path("/run/munge/munge.socket.2")  # munge's default, where slurmd looks first
CONF_LINK = Path("/run/slurm/conf")  # a configless slurmd's config, read by srun in a job
# program -> the Debian package that ships it
PROGRAMS = {
    "munged": "munge", "munge": "munge", "unmunge": "munge",
    "slurmctld": "slurmctld", "slurmd": "slurmd",
    "sbatch": "slurm-client", "squeue": "slurm-client", "scontrol": "slurm-client",
    "srun": "slurm-client",
}
# the metapackage the project installs (.ci/install-system-packages.sh) pulls in all of them
META = {"slurmctld": "slurm-wlm", "slurmd": "slurm-wlm", "slurm-client": "slurm-wlm", "munge": "munge"}


def missing_packages() -> list[str]:
    """Debian packages (as the project installs them) whose programs are not on the PATH."""
    sbin = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    missing = {META[pkg] for prog, pkg in PROGRAMS.items() if shutil.which(prog, path=sbin) is None}
    return sorted(missing)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_hardware() -> dict[str, str]:
    """``slurmd -C``'s first line as a mapping (NodeName, CPUs, RealMemory, layout)."""
    out = subprocess.run([_which("slurmd"), "-C"], capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return dict(item.split("=", 1) for item in out.splitlines()[0].split())


def _which(program: str) -> str:
    path = shutil.which(program, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if path is None:
        raise FileNotFoundError(program)
    return path


class ClusterUnavailable(RuntimeError):
    """This machine cannot host the test cluster (another SLURM config is in the way)."""


class SlurmCluster:
    """Start with :meth:`start` (or ``with``), talk to it with :attr:`env` (``SLURM_CONF``),
    inspect finished jobs with :meth:`jobs`, stop with :meth:`stop`."""

    HARDWARE_KEYS = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore",
                     "RealMemory")

    def __init__(self, partition: str = "main", gpus: int = 1, min_job_age: int = 3600,
                 min_memory_mb: int = 0) -> None:
        """``min_memory_mb``: declare at least this much node memory, so that jobs asking for
        more than the machine has are still scheduled (``SlurmdParameters=config_overrides``;
        nothing enforces memory on this node)."""
        self.partition = partition
        self.gpus = gpus
        self.min_job_age = min_job_age
        # not pytest's tmp_path: the munge user must reach its socket through every parent
        self.root = Path(tempfile.mkdtemp(prefix="slurm-test-"))
        self.root.chmod(0o755)
        self.conf = self.root / "slurm" / "slurm.conf"
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.hardware = node_hardware()
        self.node = self.hardware["NodeName"]
        self.overrides = min_memory_mb > int(self.hardware["RealMemory"])
        if self.overrides:
            self.hardware["RealMemory"] = str(min_memory_mb)

    @property
    def env(self) -> dict[str, str]:
        """The environment of a SLURM client (sbatch, squeue, Snakemake) of this cluster."""
        path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"])
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": path}

    def __enter__(self) -> SlurmCluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- start-up ------------------------------------------------------------------------------
    def start(self) -> None:
        try:
            for other in (Path("/etc/slurm/slurm.conf"), CONF_LINK / "slurm.conf"):
                if other.exists():
                    raise ClusterUnavailable(f"{other} exists: the srun inside each job would "
                                             "read that cluster's config instead of this one's")
            self._start_munge()
            self._write_config()
            self._spawn("slurmctld", [_which("slurmctld"), "-D", "-f", str(self.conf)])
            self._wait(lambda: "UP" in self._run(["scontrol", "ping"], check=False).stdout,
                       "slurmctld answering scontrol ping")
            # configless, as many sites run their nodes: slurmd fetches the config from
            # slurmctld and links it at /run/slurm/conf, where the srun inside a job finds it
            # (the jobstep plugin drops SLURM_CONF from the job's environment)
            self._spawn("slurmd", [_which("slurmd"), "-D", "-N", self.node,
                                   "--conf-server", f"127.0.0.1:{self.ctld_port}"])
            self._wait(self._node_idle, f"node {self.node} idle")
        except BaseException:
            self.stop()
            raise

    def _start_munge(self) -> None:
        """munged on its default socket (/run/munge, owned by ``munge``: a configless slurmd
        asks it for a credential before it has any config), as the ``munge`` user, with a key
        of mode 0400 made here; a munged that already answers there is used as it is."""
        if MUNGE_SOCKET.exists() and self._munge_answers():
            return
        base = self.root / "munge"
        etc, log = base / "etc", base / "log"
        for d in (base, etc, log):
            d.mkdir()
        MUNGE_SOCKET.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        key = etc / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        etc.chmod(0o700)
        log.chmod(0o700)
        prefix: list[str] = []
        if os.geteuid() == 0:
            munge_user = pwd.getpwnam("munge")
            for path in (base, etc, key, log, MUNGE_SOCKET.parent):
                os.chown(path, munge_user.pw_uid, munge_user.pw_gid)
            prefix = ["setpriv", f"--reuid={munge_user.pw_uid}", f"--regid={munge_user.pw_gid}",
                      "--init-groups"]
        self._spawn("munged", [*prefix, _which("munged"), "--foreground", f"--key-file={key}",
                               f"--socket={MUNGE_SOCKET}", f"--pid-file={base / 'munged.pid'}",
                               f"--log-file={log / 'munged.log'}", f"--seed-file={etc / 'seed'}"])
        self._wait(self._munge_answers, "munged answering on " + str(MUNGE_SOCKET))

    def _munge_answers(self) -> bool:
        if not MUNGE_SOCKET.exists():
            return False
        encoded = subprocess.run([_which("munge"), "-n", "-S", str(MUNGE_SOCKET)],
                                 capture_output=True, timeout=10)
        decoded = subprocess.run([_which("unmunge"), "-S", str(MUNGE_SOCKET)],
                                 input=encoded.stdout, capture_output=True, timeout=10)
        return encoded.returncode == 0 and decoded.returncode == 0

    def _write_config(self) -> None:
        slurm = self.conf.parent
        for sub in ("state", "spool"):
            (slurm / sub).mkdir(parents=True)
        user = pwd.getpwuid(os.geteuid()).pw_name
        self.ctld_port = free_port()
        hw = " ".join(f"{k}={self.hardware[k]}" for k in self.HARDWARE_KEYS if k in self.hardware)
        gres = f" Gres=gpu:{self.gpus}" if self.gpus else ""
        lines = [
            "ClusterName=test",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={self.ctld_port}",
            f"SlurmdPort={free_port()}",
            f"SlurmUser={user}",
            f"SlurmdUser={user}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"StateSaveLocation={slurm / 'state'}",
            f"SlurmdSpoolDir={slurm / 'spool'}",
            f"SlurmctldPidFile={slurm / 'slurmctld.pid'}",
            f"SlurmdPidFile={slurm / 'slurmd.pid'}",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/none",
            "MpiDefault=none",
            "SchedulerType=sched/backfill",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core_Memory",
            f"MinJobAge={self.min_job_age}",
            "ReturnToService=2",
            "SlurmctldParameters=enable_configless",
            *(["SlurmdParameters=config_overrides"] if self.overrides else []),
            "SlurmctldTimeout=30",
            "SlurmdTimeout=60",
            *(["GresTypes=gpu"] if self.gpus else []),
            f"NodeName={self.node} NodeAddr=127.0.0.1 {hw}{gres} State=UNKNOWN",
            f"PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")
        if self.gpus:  # count-only GPUs: a device file that exists, no driver behind it
            (slurm / "gres.conf").write_text(
                "\n".join(["Name=gpu File=/dev/null"] * self.gpus) + "\n")

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.root / f"{name}.out", "w")  # noqa: SIM115 (closed by the process' end)
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                start_new_session=True)
        log.close()
        self.procs.append((name, proc))

    def _run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(argv, capture_output=True, text=True, env=self.env, check=check,
                              timeout=30)

    def _node_idle(self) -> bool:
        state = self._run(["sinfo", "-h", "-n", self.node, "-o", "%T"], check=False).stdout.strip()
        return state == "idle"

    def _wait(self, ready, what: str, timeout: float = 60) -> None:
        deadline = time.time() + timeout
        while not ready():
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}) while waiting for "
                                       f"{what}:\n{self.logs()}")
            if time.time() > deadline:
                raise RuntimeError(f"timed out waiting for {what}:\n{self.logs()}")
            time.sleep(0.3)

    def logs(self) -> str:
        """The last lines of each daemon's output, for a failure message."""
        parts = []
        for name, _ in self.procs:
            text = (self.root / f"{name}.out").read_text(errors="replace").splitlines()
            parts.append(f"--- {name}\n" + "\n".join(text[-25:]))
        return "\n".join(parts)

    # -- inspection ------------------------------------------------------------------------------
    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still remembers (``MinJobAge``), as ``scontrol show job``'s
        key=value fields."""
        out = self._run(["scontrol", "-o", "show", "job"]).stdout
        jobs = []
        for line in out.splitlines():
            fields = {}
            for item in line.split():
                if "=" in item:
                    key, value = item.split("=", 1)
                    fields[key] = value
            if "JobId" in fields:
                jobs.append(fields)
        return jobs

    # -- shutdown --------------------------------------------------------------------------------
    def stop(self) -> None:
        if any(name == "slurmctld" and proc.poll() is None for name, proc in self.procs):
            self._run(["scancel", "--full", f"--partition={self.partition}"], check=False)
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        if CONF_LINK.is_symlink() and str(os.readlink(CONF_LINK)).startswith(str(self.root)):
            CONF_LINK.unlink()
        shutil.rmtree(self.root, ignore_errors=True)
