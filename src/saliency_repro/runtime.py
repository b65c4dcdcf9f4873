"""Process-level setup shared by every workflow step: logging, threads, seeds, device."""

from __future__ import annotations

import logging
import os
import random
import sys
from pathlib import Path

import numpy as np

LOG = logging.getLogger("saliency_repro")


def setup_logging(log_path: str | os.PathLike | None = None, level: int = logging.INFO,
                  job=None) -> None:
    """Send logging, warnings and progress bars (stderr) to the rule's log file.

    Snakemake shows its own progress; a rule's tqdm bars and messages belong in its log, where a
    user auditing a number can find them. With ``job`` (a script's ``snakemake`` object) the
    job's provenance record is written when the script ends without an error.
    """
    if job is not None:
        from saliency_repro.provenance import register_job_record

        register_job_record(job)
    handlers: list[logging.Handler] = []
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        stream = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        sys.stderr = stream
        sys.stdout = stream
        handlers.append(logging.StreamHandler(stream))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=level, handlers=handlers, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.captureWarnings(True)
    from saliency_repro.errors import install_one_line_errors

    install_one_line_errors()  # the package's own errors end the job with one line


def set_threads(n: int) -> None:
    """Bound intra-op parallelism to what Snakemake granted the job."""
    import torch

    torch.set_num_threads(max(1, int(n)))


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def resolve_device(name: str) -> str:
    """The device a job computes on, decided inside the job: ``auto`` means CUDA when the
    machine running the job has it, else CPU; an explicit ``cuda`` without a GPU fails.

    Rules pass the request (``config['device']``) as their ``device`` param and only this
    function resolves it, on the machine that runs the job: on a cluster that is not the
    machine that plans the DAG, and a param holding the resolution would make every model job
    look changed to a rerun planned elsewhere (a CPU login node after GPU jobs). The job's log
    says what the request became.
    """
    import torch

    if name == "auto":
        resolved = "cuda" if torch.cuda.is_available() else "cpu"
    elif name.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"config key 'device' is {name!r} but no CUDA device is available")
    else:
        resolved = name
    LOG.info("device: %s requested, %s used", name, resolved)
    return resolved
