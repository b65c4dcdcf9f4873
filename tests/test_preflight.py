"""Checks before any work: what can be checked cheaply fails the dry run, naming key or file."""

from __future__ import annotations

import pandas as pd
import pytest

from saliency_repro.config import ConfigError
from saliency_repro.preflight import header_columns, preflight, source_files


def local_config(tmp_path, files: dict, **source) -> dict:
    return {"datasets": {"mine": {"task": "classification", "label_names": ["a", "b"],
                                  "crowd_sources": [],
                                  "source": {"type": "local", "files": files, **source}}}}


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
])
def test_preflight_names_the_problem(tmp_path, good_csv, make, named):
    if named == "config key 'device'":
        torch = pytest.importorskip("torch")
        if torch.cuda.is_available() and torch.cuda.device_count() > 7:
            pytest.skip("this machine has a cuda:7")
    with pytest.raises(ConfigError) as info:
        preflight(make(tmp_path, good_csv))
    assert named in str(info.value)


def test_preflight_accepts_good_files_and_headerless_ones(tmp_path, good_csv):
    preflight(local_config(tmp_path, {"train": str(good_csv), "test": str(good_csv)},
                           columns={"text": "review", "label": "stars"}))
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
