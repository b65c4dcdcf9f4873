"""Data layer: synthetic corpora, local/url/hub sources, validation errors, sample selection."""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from saliency_repro.config import ConfigError, validate_config
from saliency_repro.data import synthetic
from saliency_repro.data.prepare import prepare_dataset
from saliency_repro.data.selection import balanced_sample, select_eval_samples
from saliency_repro.data.sources import DataError, allocate, clean_text, load_source
from saliency_repro.download import ChecksumError, fetch


def _dataset(source: dict, task: str = "classification", labels=("neg", "pos"),
             split_overlap: str = "warn") -> dict:
    """A validated dataset entry. Most tests read one small file as both train and test, so
    they accept the overlap that the default (``error``) refuses; the overlap test does not."""
    config = {"run": "t", "datasets": {"d": {"task": task, "source": copy.deepcopy(source),
                                             "split_overlap": split_overlap}}}
    if task == "classification":
        config["datasets"]["d"]["label_names"] = list(labels)
    return validate_config(config)["datasets"]["d"]


# ---------------------------------------------------------------- synthetic


def test_synthetic_classification_is_deterministic_and_planted():
    a = synthetic.classification_split("sentiment", 60, seed=3, split="train")
    b = synthetic.classification_split("sentiment", 60, seed=3, split="train")
    c = synthetic.classification_split("sentiment", 60, seed=4, split="train")
    pd.testing.assert_frame_equal(a, b)
    assert not a["text"].equals(c["text"])
    assert sorted(Counter(a["label"]).values()) == [30, 30]
    negative, positive = set(synthetic.CUES["sentiment"]["negative"]), set(synthetic.CUES["sentiment"]["positive"])
    for row in a.itertuples():
        words = row.text.split()
        true_cues = positive if row.label == 1 else negative
        other = negative if row.label == 1 else positive
        assert row.rationale and all(words[p] in true_cues for p in row.rationale)
        assert all(words[p] in other for p in row.distractors)
        # the truth always outvotes the distractors, and no cue appears unplanted
        assert len(row.rationale) > len(row.distractors)
        assert sum(w in true_cues for w in words) == len(row.rationale)


def test_synthetic_topic_has_four_balanced_classes_and_varied_length():
    df = synthetic.classification_split("topic", 80, seed=1, split="test", min_words=10, max_words=40)
    assert sorted(Counter(df["label"]).values()) == [20, 20, 20, 20]
    lengths = df["text"].str.split().str.len()
    assert lengths.min() >= 10 and lengths.max() <= 40 and lengths.nunique() > 5


def test_synthetic_summaries_copy_marked_words_at_known_positions():
    df = synthetic.summarization_split(30, seed=2, split="train")
    for row in df.itertuples():
        article, summary = row.article.split(), row.summary.split()
        assert len(summary) == len(row.source_positions)
        for word, positions in zip(summary, row.source_positions, strict=True):
            assert [article[p] for p in positions] == [word]
        assert all(w in synthetic.SALIENT for w in summary)
        assert [p[0] for p in row.source_positions] == sorted(p[0] for p in row.source_positions)


def test_splits_differ_and_ids_are_unique():
    source = {"type": "synthetic", "generator": "topic", "n_train": 40, "n_validation": 10, "n_test": 20}
    splits, meta = load_source("d", _dataset(source, labels=("w", "s", "b", "t")), seed=5)
    ids = pd.concat([splits[s]["id"] for s in ("train", "validation", "test")])
    assert ids.is_unique
    assert meta["rows"] == {"train": 40, "validation": 10, "test": 20}


# ---------------------------------------------------------------- local files


def _write(path, text: str | bytes, encoding="utf-8"):
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def test_local_csv_with_header(tmp_path):
    train = _write(tmp_path / "train.csv", "id,text,label\na,good film,pos\nb,\"bad, very bad\",neg\n")
    test = _write(tmp_path / "test.csv", "id,text,label\nc,fine,1\n")
    splits, meta = load_source("d", _dataset({"type": "local", "files": {"train": str(train), "test": str(test)}}), seed=0)
    assert splits["test"]["label"].tolist() == [1]
    assert "validation_from_train" in meta["provenance"]
    all_train = pd.concat([splits["train"], splits["validation"]])
    assert dict(zip(all_train["id"], all_train["text"], strict=True)) == {"a": "good film", "b": "bad, very bad"}


def test_headerless_csv_with_index_columns_and_label_values(tmp_path):
    # AG News layout: class (1..4), title, description; #39;-style escapes
    text = ('"3","Wall St. Bears","Short-sellers#39; comeback"\n"1","Talks","Leaders meet"\n'
            '"2","Cup final","A late goal"\n"4","Mars rover","New images"\n')
    train = _write(tmp_path / "train.csv", text)
    source = {"type": "local", "files": {"train": str(train), "test": str(train)}, "header": False,
              "columns": {"text": [1, 2], "label": 0}, "label_values": [1, 2, 3, 4],
              "text_cleanup": ["html_entities"]}
    splits, _ = load_source("d", _dataset(source, labels=("world", "sports", "business", "science")), seed=0)
    test = splits["test"]
    assert test["label"].tolist() == [2, 0, 1, 3]
    assert test["text"].iloc[0] == "Wall St. Bears Short-sellers' comeback"


def test_tsv_jsonl_parquet_and_sniffed_delimiter(tmp_path):
    tsv = _write(tmp_path / "a.tsv", "text\tlabel\nx y\t0\nw\t1\n")
    semi = _write(tmp_path / "b.csv", "text;label\nx y;1\nz;0\n")
    jsonl = _write(tmp_path / "c.jsonl", '{"text": "hello", "label": "pos"}\n\n{"text": "bye", "label": "neg"}\n')
    parquet = tmp_path / "d.parquet"
    pd.DataFrame({"text": ["p q", "r"], "label": [1, 0]}).to_parquet(parquet)
    for path, expected in [(tsv, [0, 1]), (semi, [1, 0]), (jsonl, [1, 0]), (parquet, [1, 0])]:
        splits, _ = load_source("d", _dataset({"type": "local", "files": {"train": str(path), "test": str(path)}}), seed=0)
        assert splits["test"]["label"].tolist() == expected, path.name


@pytest.mark.parametrize(
    ("content", "message", "name"),
    [
        ("id,text\na,x\n", "missing column 'label'", "bad.csv"),
        ("id,text,label\na,x,0\nb,,1\n", ":3: empty text", "bad.csv"),
        ("id,text,label\na,x,0\nb,y,7\n", ":3: label '7' is outside the declared label set", "bad.csv"),
        ("id,text,label\na,x,0\nb,y,maybe\n", ":3: label 'maybe'", "bad.csv"),
        ("id,text,label\na,x,0\na,y,1\n", ":3: duplicate id 'a' (first at", "bad.csv"),
        ("id,text,label\na,x,0\nb,y\n", ":3: 2 fields, expected 3", "bad.csv"),
        ("id,text,label\na,x,0\n,y,1\n", ":3: empty id", "bad.csv"),
        ('id,text,label\na,"x,0\nb,y,1\n', ":2: 2 fields, expected 3 (delimiter ','; an unclosed quote joins lines)",
         "bad.csv"),
        ("text\tlabel\nx\t0\ny\t1\t1\n", ":3: 3 fields, expected 2 (delimiter '\\t')", "bad.tsv"),
        ('{"text": "a", "label": 0}\n{"text": "b", "label": 1\n', ":2: invalid JSON", "bad.jsonl"),
        # a U+2028 inside a JSON string is not a line break: the bad label is on line 2
        ('{"text": "a\u2028b", "label": 0}\n{"text": "c", "label": 5}\n', ":2: label 5 is outside", "bad.jsonl"),
        # a repeated header name used by the config: named with both positions (was a message
        # about line 2)
        ("id,text,text,label\na,x,y,0\n", ":1: column name 'text' appears 2 times in the header (0-based "
         "positions 1, 2)", "bad.csv"),
        # a JSON object stored where a text belongs (its Python repr became the text)
        ('{"text": {"en": "a"}, "label": 0}\n', ":1: text is a JSON object, not a string", "bad.jsonl"),
        ('{"text": "a", "label": 0}\n{"text": ["b", "c"], "label": 1}\n', ":2: text is a JSON array", "bad.jsonl"),
        # not what the suffix says: pyarrow's error, a compressed file, UTF-16 read as UTF-8
        ("text,label\na,0\n", ":1: not a parquet file (it starts with 'text,label", "bad.parquet"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", ":1: a gzip-compressed file, not a text file; decompress",
         "bad.csv.gz"),
        (b"\x1f\x8b\x08\x00\x00\x00\x00\x00", ":1: a gzip-compressed file, not a csv file", "bad.csv"),
        ("\ufefftext,label\na,0\n".encode("utf-16-le").join([b"\xff\xfe", b""]),
         ":1: the file starts with a UTF-16 byte order mark but is read as 'utf-8'", "bad.csv"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, content, message, name):
    path = _write(tmp_path / name, content)
    with pytest.raises(DataError) as info:
        load_source("d", _dataset({"type": "local", "files": {"train": str(path), "test": str(path)}}), seed=0)
    assert message in str(info.value)
    assert name in str(info.value)


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ("id,text,label\n", "no data rows in the train split"),                       # header only
        ("id,text,label\na,good,0\nb,fine,0\n", "every training row has the label 'neg'"),
        ("id,text,label\na,good,0\nb,fine,1\n", "no row of any split has the label 'mid' of datasets.d.label_names"),
        ("id,text,label\na,good,0\nb,... !!,1\n", ":3: text '... !!' has no letter or digit"),
        ("id,text,label\na,good,0\nb,fi\x00ne,1\n", ":3: NUL byte"),
        ("id,text,label\na,good,0\nb,  \t ,1\n", ":3: empty text"),                  # whitespace only
        ("id,text,label\na,good,0\n a ,fine,1\n", ":3: duplicate id 'a' (first at"),  # ids are stripped
    ],
)
def test_data_that_would_fail_later_is_refused_at_preparation(tmp_path, train, message):
    path = _write(tmp_path / "train.csv", train)
    test = _write(tmp_path / "test.csv", "id,text,label\nt,okay,1\nu,bad,0\n")
    labels = ("neg", "pos", "mid") if "'mid'" in message else ("neg", "pos")
    with pytest.raises(DataError) as info:
        load_source("d", _dataset({"type": "local", "files": {"train": str(path), "test": str(test)}},
                                  labels=labels), seed=0)
    assert message in str(info.value) and "train.csv" in str(info.value)


@pytest.mark.parametrize(("name", "content", "options", "labels", "texts", "expected_labels"), [
    # TREC's distributed line format, the label in the line (latin-1): format regex
    ("trec.label", b"DESC:manner How did serfdom develop in Russia ?\nENTY:cremat What caf\xe9 films ?\n\n",
     {"format": "regex", "line_pattern": r"(?P<label>[A-Z]+):\S+ (?P<text>.+)", "encoding": "latin-1"},
     ("DESC", "ENTY"), ["How did serfdom develop in Russia ?", "What café films ?"], [0, 1]),
    # a spreadsheet export: empty header names, the text's unquoted commas spilled over into
    # them; positional columns with header: true, joined with the comma they were split on
    ("spam.csv", "v1,v2,,,\nham,Go until jurong point,,,\nspam,Free entry, win a prize,,\nham,a,,b,\n",
     {"columns": {"text": [1, 2, 3, 4], "label": 0}}, ("ham", "spam"),
     ["Go until jurong point", "Free entry, win a prize", "a,,b"], [0, 1, 0]),
    # AG News' title + description keep their space (named header columns are not spill-over)
    ("ag.csv", "label,title,description\n0,Wall St.,Bears claw back\n1,Cup,A late goal\n",
     {"columns": {"text": ["title", "description"]}}, ("world", "sports"),
     ["Wall St. Bears claw back", "Cup A late goal"], [0, 1]),
    # Excel's "CSV UTF-8" starts with a byte order mark
    ("excel.csv", "\ufefftext,label\nfine,1\nbad,0\n", {}, ("neg", "pos"), ["fine", "bad"], [1, 0]),
    # a repeated header name that the config does not use is no problem
    ("notes.csv", "text,label,note,note\nx,0,a,b\ny,1,c,d\n", {}, ("neg", "pos"), ["x", "y"], [0, 1]),
    # an integer column with a header is the position in the row
    ("pos.csv", "a,b\n1,first\n0,second\n", {"columns": {"text": 1, "label": 0}}, ("neg", "pos"),
     ["first", "second"], [1, 0]),
])
def test_formats_the_config_can_read(tmp_path, name, content, options, labels, texts, expected_labels):
    path = _write(tmp_path / name, content)
    source = {"type": "local", "files": {"train": str(path), "test": str(path)}, **options}
    splits, _ = load_source("d", _dataset(source, labels=labels), seed=0)
    assert splits["test"]["text"].tolist() == texts
    assert splits["test"]["label"].tolist() == expected_labels


def test_trec_labels_and_a_line_the_pattern_does_not_match(tmp_path):
    path = _write(tmp_path / "trec.label", "DESC:manner How ?\nENTY:cremat What ?\nHUM:ind Who ?\n")
    source = {"type": "local", "files": {"train": str(path), "test": str(path)}, "format": "regex",
              "line_pattern": r"(?P<label>[A-Z]+):\S+ (?P<text>.+)"}
    splits, _ = load_source("d", _dataset(source, labels=("DESC", "ENTY", "HUM")), seed=0)
    assert splits["test"]["label"].tolist() == [0, 1, 2]
    _write(path, "DESC:manner How ?\nENTY What ?\n")
    with pytest.raises(DataError, match=r"trec.label:2: line 'ENTY What \?' does not match the source's "
                                        r"line_pattern"):
        load_source("d", _dataset(source, labels=("DESC", "ENTY", "HUM")), seed=0)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "latin-1"])
def test_the_head_of_a_file_is_cut_at_a_whole_line(tmp_path, encoding):
    """The dry run reads the first bytes of a file: cut inside a UTF-16 unit or a quoted field
    spanning lines, the head must still read (its last, partial row left out)."""
    from saliency_repro.data.sources import read_file

    rows = "".join(f'{i},"text {i}\nsecond line é",{i % 2}\n' for i in range(40))
    path = _write(tmp_path / "f.csv", "id,text,label\n" + rows, encoding)
    whole = read_file(path, {"encoding": encoding})
    for head in (181, 257, 600):
        part = read_file(path, {"encoding": encoding}, head_bytes=head)
        assert 0 < len(part.frame) < len(whole.frame)
        assert part.frame.values.tolist() == whole.frame.values[:len(part.frame)].tolist()


def test_utf8_read_as_latin1_is_warned_about(tmp_path, caplog):
    path = _write(tmp_path / "mr.csv", "text,label\nclichés abound,0\nfine,1\n")
    source = {"type": "local", "files": {"train": str(path), "test": str(path)}, "encoding": "latin-1"}
    splits, _ = load_source("d", _dataset(source), seed=0)
    assert splits["test"]["text"].iloc[0] == "clichÃ©s abound"  # what latin-1 makes of it
    assert ("mr.csv:2: 'clichÃ©s' looks like UTF-8 read as latin-1 (mojibake; read as 'latin-1'): "
            "the file is UTF-8, set the source's 'encoding: utf-8'") in caplog.text


def test_jsonl_that_is_not_one_object_per_line_names_the_line(tmp_path):
    path = _write(tmp_path / "a.jsonl", '{"text": "a", "label": 0}\n[{"text": "b", "label": 1}]\n')
    with pytest.raises(DataError, match=r"a.jsonl:2: expected one JSON object per line, got a list"):
        load_source("d", _dataset({"type": "local", "files": {"train": str(path), "test": str(path)}}), seed=0)


def test_texts_shared_by_train_and_test_are_counted_or_refused(tmp_path):
    train = _write(tmp_path / "train.csv", "id,text,label\na,good film,1\nb,bad film,0\nc,so so,0\n")
    test = _write(tmp_path / "test.csv", "id,text,label\nt,good film,1\nu,new one,0\n")
    source = {"type": "local", "files": {"train": str(train), "test": str(test)}}
    with pytest.raises(DataError, match=r"test.csv: 1 texts and 0 ids also occur in train "
                                        r"\(first: id 't'\).*split_overlap: warn"):
        load_source("d", _dataset(source, split_overlap="error"), seed=0)  # the default
    _, meta = load_source("d", _dataset(source), seed=0)
    assert meta["provenance"]["split_overlap"]["test"] == 1
    assert meta["provenance"]["split_shared_ids"]["test"] == 0
    # the training file given again as the test file: every id and text is shared
    same = {"type": "local", "files": {"train": str(train), "test": str(train)}}
    with pytest.raises(DataError, match=r"train.csv: 3 texts and 3 ids also occur in train \(first: id 'a'\)"):
        load_source("d", _dataset(same, split_overlap="error"), seed=0)
    # ids shared with different texts: a test set numbered like the training set
    renumbered = _write(tmp_path / "renumbered.csv", "id,text,label\na,a new film,1\nz,another,0\n")
    other = {"type": "local", "files": {"train": str(train), "test": str(renumbered)}}
    with pytest.raises(DataError, match=r"0 texts and 1 ids also occur in train \(first: id 'a'\)"):
        load_source("d", _dataset(other, split_overlap="error"), seed=0)
    # drop: the shared test row ('t', "good film") is removed from the evaluation split, counted
    splits, meta = load_source("d", _dataset(source, split_overlap="drop"), seed=0)
    assert splits["test"]["id"].tolist() == ["u"]
    assert meta["provenance"]["split_overlap_dropped"]["test"] == 1
    assert meta["provenance"]["split_overlap"]["test"] == 1 and meta["rows"]["test"] == 1
    with pytest.raises(DataError, match=r"every row of the test split also occurs in train; "
                                        r"split_overlap: drop would leave it empty"):
        load_source("d", _dataset(same, split_overlap="drop"), seed=0)
    # the classifier table's caption says it (the log alone hid it)
    from saliency_repro.data.prepare import split_overlap_note

    assert split_overlap_note(meta) == ("1 test row(s) whose text or id also occurs in the training "
                                        "file were removed from the test split (split_overlap: drop).")
    _, meta = load_source("d", _dataset(source), seed=0)
    assert split_overlap_note(meta) == ("1 test text(s) and 0 test id(s) also occur in the training "
                                        "file and are kept (split_overlap: warn); the test metrics "
                                        "count them.")
    _, meta = load_source("d", _dataset(other, split_overlap="drop"), seed=0)  # the shared id 'a'
    assert meta["provenance"]["split_overlap_dropped"]["test"] == 1


def test_multiline_quoted_field_reports_the_right_line(tmp_path):
    content = 'id,text,label\na,"first\nsecond line",0\nb,y,9\n'
    path = _write(tmp_path / "multi.csv", content)
    with pytest.raises(DataError, match=r"multi.csv:4: label '9'"):
        load_source("d", _dataset({"type": "local", "files": {"train": str(path), "test": str(path)}}), seed=0)


def test_undecodable_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"text,label\nok,0\ncaf\xe9,1\n")
    with pytest.raises(DataError, match=r"latin.csv:3: undecodable bytes"):
        load_source("d", _dataset({"type": "local", "files": {"train": str(path), "test": str(path)}}), seed=0)
    source = {"type": "local", "files": {"train": str(path), "test": str(path)}, "encoding": "latin-1"}
    splits, _ = load_source("d", _dataset(source), seed=0)
    assert "café" in splits["test"]["text"].tolist()


def test_drop_invalid_counts_what_it_drops(tmp_path):
    path = _write(tmp_path / "d.csv", "text,label\na,0\n,1\nb,5\nc,1\n")
    source = {"type": "local", "files": {"train": str(path), "test": str(path)}, "drop_invalid": True}
    splits, meta = load_source("d", _dataset(source), seed=0)
    assert splits["test"]["text"].tolist() == ["a", "c"]
    assert meta["dropped"]["test"] == {"empty_text": 1, "unknown_label": 1}
    assert meta["rows_read"]["test"] == 4


def test_summarization_local_columns(tmp_path):
    path = _write(tmp_path / "cnn.csv", "id,article,highlights\nx1,Some  article text .,A summary .\n")
    source = {"type": "local", "files": {"train": str(path), "test": str(path)}, "columns": {"summary": "highlights"}}
    splits, _ = load_source("d", _dataset(source, task="summarization"), seed=0)
    row = splits["test"].iloc[0]
    assert (row["id"], row["article"], row["summary"]) == ("x1", "Some article text .", "A summary .")
    assert list(row["source_positions"]) == []


def test_summary_line_breaks_are_kept_article_whitespace_normalized(tmp_path):
    frame = pd.DataFrame({"id": ["s1"], "article": ["first  line\nsecond -lrb- x -rrb-"],
                          "highlights": ["one  highlight\n\n  two highlight \n"]})
    frame.to_parquet(tmp_path / "see.parquet")
    source = {"type": "local", "files": {"train": str(tmp_path / "see.parquet"),
                                          "test": str(tmp_path / "see.parquet")},
              "columns": {"summary": "highlights"}}
    splits, _ = load_source("d", _dataset(source, task="summarization"), seed=0)
    row = splits["test"].iloc[0]
    assert row["article"] == "first line second -lrb- x -rrb-"
    assert row["summary"] == "one highlight\ntwo highlight"  # one highlight per line, empty dropped


def test_clean_text():
    assert clean_text("a  b\n\n c \n", [], keep_lines=True) == "a b\nc"
    assert clean_text("a<br /><br />b  c", ["html_breaks"]) == "a b c"
    assert clean_text("it#39;s &amp; fine", ["html_entities"]) == "it's & fine"
    assert clean_text("keep<br />", []) == "keep<br />"


# ---------------------------------------------------------------- downloads


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_fetch_uses_mirror_only_on_checksum_match(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    payload = b"text,label\nhello,1\n"
    (mirror / "data.csv").write_bytes(payload)
    got = fetch("https://example.invalid/files/data.csv", _sha(payload), tmp_path / "out" / "data.csv", mirror)
    assert got.path.read_bytes() == payload and got.origin.startswith("mirror:")
    # wrong pin: the mirror copy is ignored and the (unreachable) network fails loudly
    with pytest.raises(RuntimeError, match="could not download"):
        fetch("https://example.invalid/files/data.csv", "0" * 64, tmp_path / "out2" / "data.csv", mirror, timeout=2)
    assert not (tmp_path / "out2" / "data.csv").exists()


def test_fetch_from_file_url_checks_sha(tmp_path):
    src = tmp_path / "remote.csv"
    src.write_bytes(b"abc")
    got = fetch(src.as_uri(), _sha(b"abc"), tmp_path / "dl" / "remote.csv")
    assert got.sha256 == _sha(b"abc")
    with pytest.raises(ChecksumError):
        fetch(src.as_uri(), _sha(b"abd"), tmp_path / "dl2" / "remote.csv")
    assert not (tmp_path / "dl2" / "remote.csv").exists()
    unpinned = fetch(src.as_uri(), "", tmp_path / "dl3" / "remote.csv")
    assert unpinned.sha256 == _sha(b"abc")


def test_url_source_reads_through_the_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    # the test file has no header (AG News layout): split_options say so, as for local sources
    train, test = b"text,label\na b,0\nc d,1\ne,0\n", b"2,z\n"
    (mirror / "train.csv").write_bytes(train)
    (mirror / "test.csv").write_bytes(test)
    source = {"type": "url", "files": {
        "train": {"url": "https://example.invalid/train.csv", "sha256": _sha(train)},
        "test": {"url": "https://example.invalid/test.csv", "sha256": _sha(test)}},
        "split_options": {"test": {"header": False, "columns": {"text": 1, "label": 0}, "label_values": [1, 2]}}}
    out = tmp_path / "prepared"
    meta = prepare_dataset("d", _dataset(source), 0, out, tmp_path / "downloads", str(mirror))
    prepared = pd.read_parquet(out / "test.parquet")
    assert prepared["text"].tolist() == ["z"] and prepared["label"].tolist() == [1]
    assert meta["provenance"]["files"]["train"]["sha256"] == _sha(train)
    assert json.loads((out / "meta.json").read_text())["rows"]["test"] == 1


def test_url_source_with_one_download_per_class(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    neg, pos = b"dull\nslow\nflat\n", b"fine\ngreat\nwarm\n"
    (mirror / "rt-polarity.neg").write_bytes(neg)
    (mirror / "rt-polarity.pos").write_bytes(pos)
    source = {"type": "url", "format": "lines", "files": {"train": {
        "neg": {"url": "https://example.invalid/rt-polarity.neg", "sha256": _sha(neg)},
        "pos": {"url": "https://example.invalid/rt-polarity.pos", "sha256": _sha(pos)}}}}
    splits, meta = load_source("d", _dataset(source), 0, tmp_path / "downloads", str(mirror))
    assert meta["provenance"]["files"]["train"]["pos"]["sha256"] == _sha(pos)
    assert meta["provenance"]["test_from_train"] == 1
    rows = pd.concat(splits.values())
    # a carved row is named by the split it ends in, keeping its class and source line
    assert sorted(i.split("-", 1)[1] for i in rows["id"]) == sorted(
        f"{c}-00000{i}" for c in ("neg", "pos") for i in (1, 2, 3))
    for split, frame in splits.items():
        assert all(i.startswith(f"{split}-") for i in frame["id"]), (split, frame["id"].tolist())


def test_url_files_with_the_same_base_name_do_not_overwrite_each_other(tmp_path):
    train, test = tmp_path / "web" / "train" / "data.csv", tmp_path / "web" / "test" / "data.csv"
    train.parent.mkdir(parents=True)
    test.parent.mkdir(parents=True)
    train.write_bytes(b"text,label\ngood,1\nbad,0\nfine,1\n")
    test.write_bytes(b"text,label\nnew,0\nother,1\n")
    source = {"type": "url", "files": {"train": {"url": train.as_uri(), "sha256": _sha(train.read_bytes())},
                                        "test": {"url": test.as_uri(), "sha256": _sha(test.read_bytes())}}}
    splits, meta = load_source("d", _dataset(source, split_overlap="error"), 0, tmp_path / "downloads")
    assert splits["test"]["text"].tolist() == ["new", "other"]  # not the training file again
    assert sorted(pd.concat([splits["train"], splits["validation"]])["text"]) == ["bad", "fine", "good"]
    assert meta["provenance"]["files"]["test"]["sha256"] == _sha(test.read_bytes())


def test_huggingface_source_records_revision(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(path, name=None, split=None, revision=None):
        calls.append((path, name, split, revision))
        return datasets.Dataset.from_dict({"text": [f"{split} one", f"{split} two"], "label": [0, 1]})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setattr("saliency_repro.data.sources._hub_revision", lambda path, rev: "abc123")
    source = {"type": "huggingface", "path": "org/imdb", "revision": "", "splits": {"train": "train", "test": "test"}}
    splits, meta = load_source("d", _dataset(source), seed=0)
    assert ("org/imdb", None, "test", None) in calls
    assert splits["test"]["text"].tolist() == ["test one", "test two"]
    assert meta["provenance"]["hub"]["resolved_revision"] == "abc123"


# ---------------------------------------------------------------- layouts: carving, per-class files, stratified draws


def _skewed_csv(path, n: int, rare_every: int, labels=("common", "rare")):
    """n rows, every rare_every-th one of the rare class; ids r0000, r0001, ..."""
    rows = [f"r{i:04d},text number {i},{labels[1] if i % rare_every == 0 else labels[0]}" for i in range(n)]
    return _write(path, "id,text,label\n" + "\n".join(rows) + "\n")


def test_missing_test_split_is_carved_from_train_stratified_and_seeded(tmp_path):
    train = _skewed_csv(tmp_path / "train.csv", 200, 20)  # 10 rare rows, 5 %
    source = {"type": "local", "files": {"train": str(train)}}
    dataset = _dataset(source, labels=("common", "rare"))
    splits, meta = load_source("d", dataset, seed=3)
    assert meta["provenance"]["test_from_train"] == meta["rows"]["test"] == 40  # default test_fraction 0.2
    assert meta["provenance"]["validation_from_train"] == meta["rows"]["validation"] == 16  # 160 // 10
    assert (splits["test"]["label"] == 1).sum() == 2 and (splits["validation"]["label"] == 1).sum() == 1
    ids = pd.concat([splits[s]["id"] for s in ("train", "validation", "test")])
    assert ids.is_unique and len(ids) == 200
    again, _ = load_source("d", dataset, seed=3)
    other, _ = load_source("d", dataset, seed=4)
    assert again["test"]["id"].tolist() == splits["test"]["id"].tolist()
    assert other["test"]["id"].tolist() != splits["test"]["id"].tolist()
    _, meta = load_source("d", _dataset({**source, "test_fraction": 0.1}, labels=("common", "rare")), seed=3)
    assert meta["rows"]["test"] == 20
    # a test file is used as given: test_fraction does not apply
    test = _skewed_csv(tmp_path / "test.csv", 7, 2)
    _, meta = load_source("d", _dataset({**source, "files": {"train": str(train), "test": str(test)}},
                                        labels=("common", "rare")), seed=3)
    assert meta["rows"]["test"] == 7 and "test_from_train" not in meta["provenance"]


def test_one_file_per_class_in_lines_format(tmp_path):
    # Pang & Lee's MR polarity layout: one latin-1 text per line, the file says the class;
    # \x85 (latin-1 NEL) and \x0c are no line breaks, so the line numbers stay right
    neg = tmp_path / "rt-polarity.neg"
    neg.write_bytes(b"simplistic , silly and tedious . \n\nso laddish \x85 and juvenile \x0c .\nflat\n")
    pos = tmp_path / "rt-polarity.pos"
    pos.write_bytes(b"the rock is destined to be a caf\xe9 classic\nwarm\n")
    source = {"type": "local", "format": "lines", "encoding": "latin-1",
              "files": {"train": {"negative": str(neg), "positive": str(pos)}, "test": {"negative": str(neg),
                                                                                     "positive": str(pos)}}}
    splits, _ = load_source("mr", _dataset(source, labels=("negative", "positive")), seed=0)
    test = splits["test"]
    assert test["id"].tolist() == ["test-negative-000001", "test-negative-000003", "test-negative-000004",
                                   "test-positive-000001", "test-positive-000002"]
    assert test["label"].tolist() == [0, 0, 0, 1, 1]
    assert test["text"].iloc[3] == "the rock is destined to be a café classic"
    pos.write_bytes(b"fine\n...\n")
    with pytest.raises(DataError, match=r"rt-polarity.pos:2: text '...' has no letter or digit"):
        load_source("mr", _dataset(source, labels=("negative", "positive")), seed=0)


def test_one_csv_per_class_takes_the_label_from_the_key(tmp_path):
    # label names that look like indices are names here: the key "1" is the label "1" (index 0)
    ones = _write(tmp_path / "ones.csv", "id,review\na,good\nb,fine\n")
    twos = _write(tmp_path / "twos.csv", "id,review\nc,bad\na,poor\n")
    source = {"type": "local", "columns": {"text": "review", "label": "unused"},
              "files": {"train": {"1": str(ones), "2": str(twos)}, "test": str(ones)}}
    with pytest.raises(DataError, match=r"twos.csv:3: duplicate id 'a' \(first at .*ones.csv:2\)"):
        load_source("d", _dataset(source, labels=("1", "2")), seed=0)
    twos.write_text("review\nbad\npoor\n")  # no id column: ids from split, key and line
    source["split_options"] = {"test": {"columns": {"text": "review", "label": "id"}, "label_values": ["b", "a"]}}
    splits, _ = load_source("d", _dataset(source, labels=("1", "2")), seed=0)
    rows = pd.concat([splits["train"], splits["validation"]]).sort_values("id")
    assert rows["id"].tolist() == ["a", "b", "train-2-000002", "train-2-000003"]
    assert rows["label"].tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize(("files", "fmt", "task", "named"), [
    ({"train": {"negative": "n.txt", "neutral": "x.txt"}}, "lines", "classification",
     "config key 'datasets.d.source.files.train.neutral': 'neutral' is not one of datasets.d.label_names"),
    ({"train": "all.txt"}, "lines", "classification",
     "config key 'datasets.d.source.files.train': format lines gives texts without labels"),
    ({"train": {"negative": "n.csv"}}, "auto", "summarization",
     "config key 'datasets.d.source.files.train': one file per class needs a classification dataset"),
])
def test_layouts_that_cannot_work_name_the_key(files, fmt, task, named):
    source = {"type": "local", "format": fmt, "files": files}
    with pytest.raises(ConfigError) as info:
        load_source("d", _dataset(source, task=task, labels=("negative", "positive")), seed=0)
    assert named in str(info.value)


def test_allocation_keeps_proportions_and_every_class():
    assert allocate(np.array([990, 5, 5]), 10).tolist() == [8, 1, 1]
    assert allocate(np.array([950, 50]), 100).tolist() == [95, 5]
    assert allocate(np.array([1, 1, 1]), 2).sum() == 2  # fewer rows than classes
    assert allocate(np.array([3, 3, 4]), 5).tolist() == [2, 1, 2]  # quotas 1.5, 1.5, 2: a tie goes to the first


def _hub(monkeypatch, frames: dict[str, pd.DataFrame]):
    import datasets

    monkeypatch.setattr(datasets, "load_dataset", lambda path, name=None, split=None, revision=None:
                        datasets.Dataset.from_pandas(frames[split]))
    monkeypatch.setattr("saliency_repro.data.sources._hub_revision", lambda path, rev: "abc123")


@pytest.mark.parametrize("kind", ["local", "huggingface"])
def test_max_rows_keeps_class_proportions_unless_stratify_is_false(tmp_path, monkeypatch, kind):
    train = _skewed_csv(tmp_path / "train.csv", 1000, 20)  # 50 rare rows, 5 %
    small = _skewed_csv(tmp_path / "small.csv", 6, 2)
    if kind == "local":
        source = {"type": "local", "files": {"train": str(train), "validation": str(small), "test": str(small)}}
    else:
        frames = {"train": pd.read_csv(train), "validation": pd.read_csv(small), "test": pd.read_csv(small)}
        _hub(monkeypatch, frames)
        source = {"type": "huggingface", "path": "org/skewed", "revision": "abc123",
                  "splits": {"train": "train", "validation": "validation", "test": "test"}}
    source["max_rows"] = 120
    splits, _ = load_source("d", _dataset(source, labels=("common", "rare")), seed=7)
    assert len(splits["train"]) == 120 and abs((splits["train"]["label"] == 1).sum() - 0.05 * 120) <= 1
    assert splits["train"]["id"].is_monotonic_increasing  # file order kept
    source["stratify"] = False
    splits, _ = load_source("d", _dataset(source, labels=("common", "rare")), seed=7)
    expected = np.sort(np.random.default_rng(7).choice(1000, size=120, replace=False))
    assert splits["train"]["id"].tolist() == [f"r{i:04d}" for i in expected]


def test_stratified_max_rows_keeps_a_row_of_every_class(tmp_path):
    rows = [f"{i},text {i},{'a' if i < 990 else 'b' if i < 995 else 'c'}" for i in range(1000)]
    train = _write(tmp_path / "train.csv", "id,text,label\n" + "\n".join(rows) + "\n")
    source = {"type": "local", "files": {"train": str(train), "validation": str(train), "test": str(train)},
              "max_rows": 10}
    splits, _ = load_source("d", _dataset(source, labels=("a", "b", "c")), seed=0)
    assert Counter(splits["test"]["label"]) == {0: 8, 1: 1, 2: 1}


# ---------------------------------------------------------------- selection


def test_balanced_selection_is_deterministic_and_balanced():
    rng = np.random.default_rng(0)
    preds = pd.DataFrame({"id": [f"i{i:03d}" for i in range(200)], "label": rng.integers(0, 4, 200)})
    preds["pred"] = np.where(rng.random(200) < 0.8, preds["label"], (preds["label"] + 1) % 4)
    correct = select_eval_samples(preds, 40, seed=1)
    assert len(correct) == 40 and (correct["label"] == correct["pred"]).all()
    assert sorted(Counter(correct["label"]).values()) == [10, 10, 10, 10]
    shuffled = preds.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(correct, select_eval_samples(shuffled, 40, seed=1))
    wrong = select_eval_samples(preds, 10, seed=1, correct=False)
    assert (wrong["label"] != wrong["pred"]).all()


def test_selection_fills_a_short_class_from_the_others():
    df = pd.DataFrame({"id": [f"{i}" for i in range(13)], "label": [0] * 2 + [1] * 11})
    out = balanced_sample(df, 8, seed=0)
    assert Counter(out["label"]) == {0: 2, 1: 6}
    assert len(balanced_sample(df, 50, seed=0)) == 13


# ---------------------------------------------------------------- real data (skipped without ../shared)


def test_real_ag_news_and_cnn_files_load(shared_data):
    # train_5000.csv has a header (text, label 0..3); test.csv has none (class 1..4, title, description)
    ag = {"type": "local", "files": {"train": str(shared_data / "ag_news/train_5000.csv"),
                                      "test": str(shared_data / "ag_news/test.csv")},
          "text_cleanup": ["html_entities"], "max_rows": 200,
          "split_options": {"test": {"header": False, "columns": {"text": [1, 2], "label": 0},
                                     "label_values": [1, 2, 3, 4]}}}
    splits, _ = load_source("ag", _dataset(ag, labels=("world", "sports", "business", "science")), seed=0)
    assert set(splits["test"]["label"]) == {0, 1, 2, 3} and set(splits["train"]["label"]) == {0, 1, 2, 3}
    assert not splits["test"]["text"].str.contains("#39;").any()
    cnn = {"type": "local", "files": {"train": str(shared_data / "cnn_dailymail/train.csv"),
                                       "test": str(shared_data / "cnn_dailymail/test.csv")},
           "columns": {"summary": "highlights"}, "max_rows": 50}
    with pytest.raises(DataError, match=r"train.csv:\d+: empty id"):
        load_source("cnn", _dataset(cnn, task="summarization"), seed=0)
    cnn["split_options"] = {"train": {"ids": "row"}}
    splits, meta = load_source("cnn", _dataset(cnn, task="summarization"), seed=0)
    assert meta["rows"]["test"] == 50 and splits["test"]["article"].str.len().min() > 100


def test_real_see_format_cnn_dailymail_loads_and_keeps_see_tokens(shared_data):
    """See et al.'s preprocessed CNN/DM through the local parquet source: validation carved from
    train, highlights one per line, and the whitespace tokenizer keeps their tokens as given."""
    from saliency_repro.summarize.text import PreprocessConfig, tokenize

    root = shared_data / "cnn_dailymail_see"
    if not (root / "train.parquet").is_file():
        pytest.skip(f"{root} not present")
    see = {"type": "local", "files": {"train": str(root / "train.parquet"), "test": str(root / "test.parquet")},
           "columns": {"summary": "highlights"}}
    splits, meta = load_source("see", _dataset(see, task="summarization"), seed=13)
    raw_train = pd.read_parquet(root / "train.parquet", columns=["id"])
    assert meta["rows"]["validation"] == 1000  # min(1000, n // 10)
    assert meta["rows"]["train"] + meta["rows"]["validation"] == len(raw_train)
    assert meta["provenance"]["validation_from_train"] == 1000
    assert not set(splits["train"]["id"]) & set(splits["validation"]["id"])
    assert splits["test"]["summary"].str.contains("\n").mean() > 0.9
    pcfg = PreprocessConfig(tokenizer="whitespace")
    text = " ".join(splits["train"]["article"].head(200))
    tokens = set(tokenize(text, pcfg))
    # See's tokens as given: clitics and brackets are already separate tokens
    assert {"'s", "(", ")", "n't"} <= tokens
    assert tokenize(splits["train"]["article"].iloc[0], pcfg) == splits["train"]["article"].iloc[0].split()
