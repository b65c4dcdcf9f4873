"""Fetching a released crowd file: pinned sha256 verified for local paths too, labels checked
against the dataset, errors naming the user's file, the mirror saying why it ignored a copy."""

from __future__ import annotations

import hashlib
import logging

import pytest

from saliency_repro.crowd.released import ReleasedFormatError, fetch_release
from saliency_repro.download import ChecksumError, fetch

HEADER = "Text\tLabel\tSaliency\tWords\tCorrect\n"


def release_text(labels) -> str:
    body = ""
    for i, lab in enumerate(labels):
        body += f"text {i} here\t{lab}\tN/A\tAll\tN/A\n"
        body += f"text {i}\t{lab}\tLIME\t5\t1\n"
    return HEADER + body


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_local_path_with_pin_is_verified(tmp_path):
    src = tmp_path / "IMDB.csv"
    src.write_text(release_text([0, 1]))
    dest = tmp_path / "out" / "released.tsv"
    dest.parent.mkdir()
    fetch_release({"path": str(src), "sha256": sha(src)}, dest, n_classes=2)
    assert dest.read_text() == src.read_text()
    src.write_text(release_text([0, 1]).replace("text 0 here", "text 0 edited"))
    dest.unlink()
    with pytest.raises(ChecksumError, match=r"IMDB.csv: sha256 differed \(expected .* found"):
        fetch_release({"path": str(src), "sha256": "0" * 64}, dest, n_classes=2)
    assert not dest.exists()  # nothing half-written


def test_binary_release_on_a_four_class_dataset_is_refused(tmp_path):
    src = tmp_path / "IMDB.csv"
    src.write_text(release_text([0, 1, 0, 1]))
    with pytest.raises(ReleasedFormatError, match=r"IMDB.csv: labels \[0, 1\] in the file, but the dataset has 4"):
        fetch_release({"path": str(src)}, tmp_path / "r.tsv", n_classes=4)


def test_format_error_names_the_users_file(tmp_path):
    src = tmp_path / "mine.csv"
    src.write_text(HEADER + "a\t1\tN/A\tAll\tN/A\na\t1\tLIME\tfive\t1\n")
    with pytest.raises(ReleasedFormatError) as info:
        fetch_release({"path": str(src)}, tmp_path / "results_copy.tsv", n_classes=2)
    assert f"{src}:3" in str(info.value) and "results_copy" not in str(info.value)


def test_mirror_says_the_sha256_differed(tmp_path, caplog):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "IMDB.csv").write_text("something else")
    with caplog.at_level(logging.WARNING), pytest.raises(RuntimeError):
        fetch("https://invalid.invalid/IMDB.csv", "a" * 64, tmp_path / "x.tsv", mirror=mirror, timeout=1)
    assert "sha256 differed (expected " + "a" * 64 in caplog.text
