"""Checks before any work: what can be checked cheaply fails the dry run, naming key or file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from saliency_repro.config import ConfigError
from saliency_repro.preflight import header_columns, preflight, source_files


def local_config(tmp_path, files: dict, **source) -> dict:
    return {"datasets": {"mine": {"task": "classification", "label_names": ["a", "b"],
                                  "crowd_sources": [],
                                  "source": {"type": "local", "files": files, **source}}}}


def _f(tmp_path, name: str, content: str | bytes) -> str:
    """Write a file (str: UTF-8) and return its path."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


RELEASE = "Text\tLabel\tSaliency\tWords\tCorrect\na b\t0\tN/A\tAll\tN/A\na .\t0\tLIME\t5\t1\n" \
          "c d\t1\tN/A\tAll\tN/A\nc .\t1\tLIME\t5\t0\n"


def crowd_config(tmp_path, crowd: dict, **crowd_cfg) -> dict:
    """A synthetic dataset with one crowd source (the preflight reads only the crowd file)."""
    return {"crowd": {"platform": {"min_seconds": 120, **crowd_cfg}},
            "datasets": {"d": {"task": "classification", "label_names": ["a", "b"],
                               "source": {"type": "synthetic"}, "crowd_sources": [crowd]}}}


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("review,stars\nnice film,1\n")
    return path


@pytest.mark.parametrize(("make", "named"), [
    (lambda t, good: local_config(t, {"train": str(t / "missing.csv"), "test": str(good)},
                                  columns={"text": "review", "label": "stars"}),
     "datasets.mine.source.files.train"),
    (lambda t, good: local_config(t, {"train": str(good), "test": str(good)},
                                  columns={"text": "body", "label": "stars"}),
     "train.csv:1: no column 'body'"),
    (lambda t, good: local_config(t, {"train": str(good), "test": str(good)}),
     "no column 'text'"),
    (lambda t, good: {"download_mirror": str(t / "nope"), "datasets": {}}, "download_mirror"),
    (lambda t, good: {"datasets": {"d": {"task": "classification", "source": {"type": "synthetic"},
                                         "crowd_sources": [{"name": "r", "type": "released",
                                                            "path": str(t / "IMDB.csv")}]}}},
     "datasets.d.crowd_sources[0].path"),
    (lambda t, good: {"device": "cuda:7", "datasets": {}}, "config key 'device'"),
    # one file per class: each file is checked, and each key must be a label name
    (lambda t, good: local_config(t, {"train": {"a": str(good), "b": str(t / "b.txt")}}, format="lines"),
     "config key 'datasets.mine.source.files.train.b'"),
    (lambda t, good: local_config(t, {"train": {"a": str(good), "c": str(good)}}, format="lines"),
     "config key 'datasets.mine.source.files.train.c': 'c' is not one of datasets.mine.label_names"),
    (lambda t, good: local_config(t, {"train": str(good)}, format="lines"),
     "config key 'datasets.mine.source.files.train': format lines gives texts without labels"),
    (lambda t, good: local_config(t, {"train": {"a": str(good), "b": str(good)}}, columns={"text": "body"}),
     "train.csv:1: no column 'body'"),
    (lambda t, good: (t / "loop").symlink_to(t / "loop") or local_config(t, {"train": str(t / "loop")}),
     "config key 'datasets.mine.source.files.train': " + "{tmp}/loop: Too many levels of symbolic links"),
    (lambda t, good: local_config(t, {"train": str(t)}), "config key 'datasets.mine.source.files.train': "
                                                         "{tmp} is not a file"),
    # the first megabyte, read with the configured settings: its errors are no longer thrown away
    (lambda t, good: local_config(t, {"train": _f(t, "cp.csv", b"text,label\nok,0\ncaf\xe9,1\n")}),
     "cp.csv:3: undecodable bytes for encoding 'utf-8'"),
    (lambda t, good: local_config(t, {"train": _f(t, "u16.csv", "\ufefftext,label\nx,0\n".encode("utf-16"))}),
     "u16.csv:1: the file starts with a UTF-16 byte order mark"),
    (lambda t, good: local_config(t, {"train": _f(t, "ragged.csv", "text,label\nx,0\ny,1,2\n")}),
     "ragged.csv:3: 3 fields, expected 2"),
    (lambda t, good: local_config(t, {"train": _f(t, "d.csv.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00")}),
     "d.csv.gz:1: a gzip-compressed file"),
    (lambda t, good: local_config(t, {"train": _f(t, "arr.json", '[{"text": "x", "label": 0}]\n')}),
     "arr.json:1: expected one JSON object per line, got a list"),
    (lambda t, good: local_config(t, {"train": _f(t, "pq.parquet", "text,label\nx,0\n")}),
     "pq.parquet:1: not a parquet file"),
    (lambda t, good: local_config(t, {"train": _f(t, "trec.label", "DESC:manner How ?\nENTY What ?\n")},
                                  format="regex", line_pattern=r"(?P<label>[A-Z]+):\S+ (?P<text>.+)"),
     "trec.label:2: line 'ENTY What ?' does not match the source's line_pattern"),
    # integer column references are checked against the row, names against a repeated header
    (lambda t, good: local_config(t, {"train": _f(t, "raw.csv", "1,some text\n")}, header=False,
                                  columns={"text": 5, "label": 0}),
     "raw.csv:1: no column 5 (columns: 0, 1); map it under config key 'datasets.mine.source.columns'"),
    (lambda t, good: local_config(t, {"train": _f(t, "dup.csv", "text,text,label\nx,y,0\n")}),
     "dup.csv:1: column name 'text' appears 2 times in the header"),
    (lambda t, good: local_config(t, {"train": str(good)},
                                  split_options={"train": {"columns": {"text": "body", "label": "stars"}}}),
     "config key 'datasets.mine.source.split_options.train.columns'"),
    # a local released crowd file: pin, format and labels before any job
    (lambda t, good: crowd_config(t, {"name": "r", "type": "released", "path": _f(t, "IMDB.csv", RELEASE),
                                      "sha256": "0" * 64}),
     "IMDB.csv: sha256 differed (expected 0000"),
    (lambda t, good: crowd_config(t, {"name": "r", "type": "released",
                                      "path": _f(t, "IMDB.csv", RELEASE.replace("LIME\t5\t1", "LIME\tfive\t1"))}),
     "IMDB.csv:3: Words 'five' is not an integer k (config key 'datasets.d.crowd_sources[0].path')"),
    (lambda t, good: crowd_config(t, {"name": "r", "type": "released",
                                      "path": _f(t, "IMDB.csv", RELEASE.replace("\t1\t", "\t0\t"))}),
     "IMDB.csv: labels [0] in the file, but the dataset has 2 label_names"),
    # a platform file's header
    (lambda t, good: crowd_config(t, {"name": "p", "type": "platform", "path": _f(t, "p.csv", "")}),
     "p.csv:1: empty file or missing header"),
    (lambda t, good: crowd_config(t, {"name": "p", "type": "platform",
                                      "path": _f(t, "p.csv", "task_id;worker_id;answer;seconds\n")}),
     "p.csv:1: the header is split by ';'; platform files are comma-separated"),
    (lambda t, good: crowd_config(t, {"name": "p", "type": "platform", "format": "mturk",
                                      "path": _f(t, "p.csv", "task_id,worker_id,answer,seconds\n")}),
     "p.csv:1: no column 'WorkerId' for format mturk"),
    (lambda t, good: crowd_config(t, {"name": "p", "type": "platform",
                                      "path": _f(t, "p.csv", "task_id,worker_id,answer\n")}),
     "p.csv:1: no seconds column, but crowd.platform.min_seconds is 120"),
])
def test_preflight_names_the_problem(tmp_path, good_csv, make, named):
    if named == "config key 'device'":
        torch = pytest.importorskip("torch")
        if torch.cuda.is_available() and torch.cuda.device_count() > 7:
            pytest.skip("this machine has a cuda:7")
    with pytest.raises(ConfigError) as info:
        preflight(make(tmp_path, good_csv))
    assert named.replace("{tmp}", str(tmp_path)) in str(info.value)


def test_preflight_accepts_good_files_and_headerless_ones(tmp_path, good_csv):
    assert preflight(local_config(tmp_path, {"train": str(good_csv), "test": str(good_csv)},
                                  columns={"text": "review", "label": "stars"})) == []
    # a byte order mark (Excel's "CSV UTF-8") is not part of the first column's name
    bom = _f(tmp_path, "excel.csv", "\ufefftext,label\nfine,1\n")
    assert preflight(local_config(tmp_path, {"train": bom})) == []
    assert header_columns(Path(bom)) == ["text", "label"]
    # a spreadsheet export with empty header names: positional columns with header: true
    spam = _f(tmp_path, "spam.csv", "v1,v2,,,\nb,Free entry, win,,\n")
    preflight(local_config(tmp_path, {"train": spam}, columns={"text": [1, 2, 3, 4], "label": 0}))
    trec = _f(tmp_path, "trec.label", b"DESC:manner How caf\xe9 ?\nb:x Why ?\n")
    preflight(local_config(tmp_path, {"train": trec}, format="regex", encoding="latin-1",
                           line_pattern=r"(?P<label>\w+):\S+ (?P<text>.+)", label_values=["DESC", "b"]))
    released = _f(tmp_path, "IMDB.csv", RELEASE)
    preflight(crowd_config(tmp_path, {"name": "r", "type": "released", "path": released,
                                      "sha256": hashlib.sha256(RELEASE.encode()).hexdigest()}))
    platform = _f(tmp_path, "p.csv", "\ufefftask_id,worker_id,answer\n")
    preflight(crowd_config(tmp_path, {"name": "p", "type": "platform", "path": platform}, min_seconds=0))
    raw = tmp_path / "raw.csv"
    raw.write_text("1,some text\n")
    preflight(local_config(tmp_path, {"train": str(raw), "test": str(raw)}, header=False,
                           columns={"text": 1, "label": 0}))


def test_preflight_accepts_per_class_files_without_a_test_split(tmp_path, good_csv):
    neg, pos = tmp_path / "rt-polarity.neg", tmp_path / "rt-polarity.pos"
    neg.write_bytes(b"caf\xe9 , dull\n")  # latin-1, no header: lines are not header-checked
    pos.write_bytes(b"warm\n")
    preflight(local_config(tmp_path, {"train": {"a": str(neg), "b": str(pos)}}, format="lines",
                           encoding="latin-1"))
    # per-class csv files need the text column but no label column (the key is the label)
    preflight(local_config(tmp_path, {"train": {"a": str(good_csv), "b": str(good_csv)}},
                           columns={"text": "review", "label": "absent"}))


def test_preflight_warns_about_mojibake_and_unpinned_mirror_files(tmp_path):
    mr = _f(tmp_path, "mr.csv", "text,label\nclichés abound,0\n")
    warnings = preflight(local_config(tmp_path, {"train": mr}, encoding="latin-1"))
    assert warnings == [f"config key 'datasets.mine.source.encoding' is 'latin-1', but {mr}:2 reads as "
                        f"'clichÃ©s': UTF-8 text decoded as a single-byte encoding (mojibake); use "
                        f"encoding utf-8"]
    assert preflight(local_config(tmp_path, {"train": mr})) == []  # read as UTF-8: right
    saved = _f(tmp_path, "saved.csv", "text,label\nfine,1\nclichÃ©s abound,0\n")  # the file holds it
    assert preflight(local_config(tmp_path, {"train": saved})) == [
        f"{saved}:3: 'clichÃ©s' looks like UTF-8 text once decoded as latin-1 and saved so (mojibake "
        f"in the file itself; config key 'datasets.mine.source.encoding' cannot repair it)"]
    (tmp_path / "mirror").mkdir()
    config = {"download_mirror": str(tmp_path / "mirror"), "datasets": {"u": {
        "task": "classification", "label_names": ["a", "b"], "crowd_sources": [],
        "source": {"type": "url", "files": {"train": {"url": "https://x/train.csv", "sha256": ""}}}}}}
    assert preflight(config) == ["config key 'datasets.u.source.files.train.sha256' is empty: any file "
                                 "named 'train.csv' in download_mirror is used, even another dataset's; pin it"]


def test_source_files_flattens_per_class_mappings():
    url = {"url": "https://x/a.csv", "sha256": ""}
    assert source_files({"type": "local", "files": {"train": {"neg": "n", "pos": "p"}, "test": "t"}}) == {
        "train.neg": "n", "train.pos": "p", "test": "t"}
    assert source_files({"type": "url", "files": {"train": url, "test": {"neg": url}}}) == {
        "train": url, "test.neg": url}


def test_header_columns_of_each_format(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text("x\ty\n1\t2\n")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"text": "t", "label": 0}\n')
    parquet = tmp_path / "a.parquet"
    pd.DataFrame({"article": ["a"], "highlights": ["h"]}).to_parquet(parquet)
    semi = tmp_path / "b.csv"
    semi.write_text("text;label\nt;0\n")
    assert header_columns(tsv) == ["x", "y"]
    assert header_columns(jsonl) == ["text", "label"]
    assert header_columns(parquet) == ["article", "highlights"]
    assert header_columns(semi) == ["text", "label"]
    arr = tmp_path / "arr.jsonl"
    arr.write_text("[1, 2]\n")
    assert header_columns(arr) is None  # left to data preparation, which names the line


def test_labels_that_do_not_match_label_names_fail_the_dry_run(tmp_path):
    one_based = tmp_path / "train.csv"
    one_based.write_text("text,label\nfirst text,1\nsecond text,2\n")
    config = local_config(tmp_path, {"train": str(one_based), "test": str(one_based)})
    with pytest.raises(ConfigError, match=r"train.csv:3: label '2' is outside config key "
                                          r"'datasets.mine.label_names' \['a', 'b'\]"):
        preflight(config)
    config["datasets"]["mine"]["source"]["label_values"] = [1, 2]
    preflight(config)  # mapped: accepted
    named = tmp_path / "named.parquet"
    pd.DataFrame({"text": ["t", "u"], "label": ["a", "pos"]}).to_parquet(named)
    with pytest.raises(ConfigError, match=r"named.parquet row 2: label 'pos'"):
        preflight(local_config(tmp_path, {"train": str(named), "test": str(named)}))
    dropped = local_config(tmp_path, {"train": str(named), "test": str(named)}, drop_invalid=True)
    preflight(dropped)  # drop_invalid: unknown labels are dropped and counted at preparation


def test_preflight_warns_about_an_unpinned_released_file_from_the_mirror(tmp_path):
    (tmp_path / "mirror").mkdir()
    config = crowd_config(tmp_path, {"name": "r", "type": "released", "url": "https://x/IMDB.csv"})
    config["download_mirror"] = str(tmp_path / "mirror")
    assert preflight(config) == ["config key 'datasets.d.crowd_sources[0].sha256' is empty: any file "
                                 "named 'IMDB.csv' in download_mirror is used, even another dataset's; "
                                 "pin it"]
