"""The package's own error classes end a job with one line; anything else keeps its traceback.

Every error about the user's input (a config key, a data file, a released or platform crowd
file, a download) derives from :class:`InputError`, and its message already names the key or
the file and line. A traceback under such a message only hides it (Snakemake's
``show-failed-logs`` prints the whole job log), so :func:`install_one_line_errors`, which every
workflow script runs through ``runtime.setup_logging``, prints ``Error: <message>`` for them
and exits with status 1. An unexpected exception (a bug) still prints its full traceback.
"""

from __future__ import annotations

import sys
from types import TracebackType


class InputError(ValueError):
    """Bad user input; the message names the config key, or the file and line."""


def one_line(exc: BaseException) -> str:
    """``Error: <message>`` on one line (a message never spans lines in a log)."""
    return "Error: " + " ".join(str(exc).split("\n"))


def _hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None,
          previous=sys.__excepthook__) -> None:
    if isinstance(exc, InputError):
        print(one_line(exc), file=sys.stderr, flush=True)
        return
    previous(kind, exc, tb)


def install_one_line_errors() -> None:
    """Make an uncaught :class:`InputError` end the process with its one-line message (exit
    status 1, as for any uncaught exception); other exceptions keep the traceback."""
    previous = sys.excepthook

    def hook(kind, exc, tb):
        _hook(kind, exc, tb, previous)

    sys.excepthook = hook
