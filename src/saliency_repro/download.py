"""Downloads by URL that check a sha256 and look in a local mirror first.

Users behind firewalls put the files in a directory and pass ``download_mirror=DIR``; a file
there is used only if its name matches the URL's file name and its sha256 matches the pin.
Only then is the network tried. An unpinned download (empty sha256) is accepted and its
actual sha256 is returned so that the caller can record it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from saliency_repro.errors import InputError
from saliency_repro.io import atomic_path

LOG = logging.getLogger(__name__)


class ChecksumError(InputError, RuntimeError):
    """A downloaded or mirrored file does not have the pinned sha256."""


class DownloadError(InputError, RuntimeError):
    """A file could not be downloaded (and was not in the mirror)."""


@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str
    origin: str  # "mirror:<path>" or the URL


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def url_file_name(url: str) -> str:
    name = Path(urlparse(url).path).name
    if not name:
        raise ValueError(f"cannot tell a file name from URL {url!r}")
    return name


def fetch(
    url: str, sha256: str, dest: str | os.PathLike, mirror: str | os.PathLike | None = None,
    timeout: float = 60.0,
) -> Fetched:
    """Put the file behind ``url`` at ``dest``; mirror first, then network; verify sha256."""
    dest = Path(dest)
    expected = sha256.lower().strip()
    name = url_file_name(url)
    if mirror:
        candidate = Path(mirror) / name
        if candidate.is_file():
            actual = sha256_of(candidate)
            if not expected or actual == expected:
                with atomic_path(dest) as tmp:
                    shutil.copyfile(candidate, tmp)
                if expected:
                    LOG.info("using %s from mirror %s (sha256 %s)", name, mirror, actual)
                else:  # any file of that name is taken, even another dataset's
                    LOG.warning("%s: using the unpinned mirror file %s (sha256 %s) for %s; it is "
                                "taken by its name alone, so pin its sha256 in the config",
                                candidate, name, actual, url)
                return Fetched(dest, actual, f"mirror:{candidate}")
            LOG.warning("mirror copy %s ignored: its sha256 differed (expected %s, found %s)",
                        candidate, expected, actual)
        else:
            LOG.info("%s not in mirror %s; trying the network", name, mirror)
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:
            hint = f" and not in download_mirror {mirror}" if mirror else "; set download_mirror to a directory holding it"
            raise DownloadError(f"could not download {url}: {exc}{hint}") from exc
        actual = sha256_of(tmp)
        if expected and actual != expected:
            raise ChecksumError(f"{url}: sha256 {actual} does not match the pinned {expected}")
    if not expected:
        LOG.warning("%s is not pinned; downloaded sha256 %s (record it in the config)", url, actual)
    return Fetched(dest, actual, url)
