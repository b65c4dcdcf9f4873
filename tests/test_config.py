"""Config validation: defaults are filled, and every wrong key stops the run naming the key."""

from __future__ import annotations

import copy
import re

import pytest
import yaml

from saliency_repro.config import ConfigError, deep_merge, load_config, validate_config


def test_demo_and_paper_configs_validate_and_fill_defaults(repo):
    demo = load_config(repo / "config.yaml")
    assert demo["run"] == "demo"
    assert demo["crowd"]["workers_per_task"] == 5  # default from the schema
    assert demo["results_dir"] == "results"
    assert demo["datasets"]["sentiment"]["source"]["n_test"] == 300
    assert demo["datasets"]["sentiment"]["split_overlap"] == "error"  # refused unless allowed
    paper = load_config(repo / "configs" / "paper.yaml")
    assert paper["datasets"]["cnn_dailymail"]["source"]["name"] == "3.0.0"
    assert paper["saliency"]["k"] == [5, 10, 20, 30, 40]


def _set(config: dict, dotted: str, value) -> dict:
    node = config
    keys = dotted.split(".")
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value
    return config


#: a local source for the topic dataset of the demo config (the files are not read here)
LOCAL = {"type": "local", "files": {"train": "train.csv", "test": "test.csv"}}

BAD_CONFIGS = [
    # (dotted key to set, value, text that must appear in the error)
    ("seeed", 3, "seeed"),                                             # typo'd top-level key
    ("seed", "thirteen", "seed"),                                      # wrong type
    ("device", "gpu", "device"),                                       # bad pattern
    ("run", "my run", "run"),                                          # space in run name
    ("datasets.topic.task", "regression", "datasets.topic.task"),      # bad enum
    ("datasets.topic.source.generator", "poetry", "datasets.topic.source.generator"),
    ("datasets.topic.source.n_train", 2, "datasets.topic.source.n_train"),  # below minimum
    ("datasets.topic.source.extra", 1, "extra"),                       # unknown key in a source
    ("saliency.methods", ["integrated_gradients", "shap"], "saliency.methods"),
    ("saliency.k", [5, 0], "saliency.k"),
    ("saliency.k", [2, 10**20], "saliency.k"),                         # OverflowError later
    ("saliency.k", [5, "ten"], "saliency.k"),
    ("classifier.learning_rate", -1.0, "classifier.learning_rate"),
    ("crowd.workers_per_task", 0, "crowd.workers_per_task"),
    ("datasets.topic.paper_refs.crowd_scores", "table3", "datasets.topic.paper_refs.crowd_scores"),
    # values that must agree with each other (crashed later with numpy "low >= high", or ran)
    ("datasets.topic.source.min_words", 95, "datasets.topic.source.min_words"),
    ("datasets.topic.source.cues_per_doc", [6, 2], "datasets.topic.source.cues_per_doc"),
    ("datasets.topic.source.cues_per_doc", [2, 30], "datasets.topic.source.cues_per_doc"),
    ("summarizer.decoding.min_length", 50, "summarizer.decoding.min_length"),
    ("datasets.summaries.label_names", ["a", "b"], "datasets.summaries.label_names"),
    ("datasets.topic.label_names", ["a", "b"], "datasets.topic.label_names"),  # 4 classes (IndexError later)
    ("datasets", {}, "'datasets'"),
    ("datasets.topic.saliency.k", [10, 5], "datasets.topic.saliency.k"),   # per-dataset grid
    ("datasets.topic.saliency.k", [0, 5], "datasets.topic.saliency.k"),
    ("datasets.topic.saliency.overlap_k", 0, "datasets.topic.saliency.overlap_k"),
    ("datasets.topic.saliency.ks", [5], "ks"),
    ("datasets.summaries.saliency.k", [5], "datasets.summaries.saliency"),
    ("datasets.topic.crowd_sources", [{"name": "sim", "type": "simulated"},
                                      {"name": "sim", "type": "simulated"}],
     "datasets.topic.crowd_sources"),
    # schema holes that crashed later (numpy at training time; KeyError in the dry run; a
    # TypeError or LookupError without the key in data preparation)
    ("seed", 2**32, "config key 'seed': 4294967296 is greater than the maximum"),
    ("datasets.topic.crowd_sources", [{"name": "my_crowd", "type": "simulated"}],
     "config key 'datasets.topic.crowd_sources.0.name'"),
    ("datasets.topic.source", {**LOCAL, "delimiter": "\\t"},
     "config key 'datasets.topic.source.delimiter': '\\\\t' is 2 characters"),
    ("datasets.topic.source", {**LOCAL, "split_options": {"test": {"delimiter": ";;"}}},
     "config key 'datasets.topic.source.split_options.test.delimiter'"),
    ("datasets.topic.source", {**LOCAL, "encoding": "latin-9x"},
     "config key 'datasets.topic.source.encoding': unknown encoding 'latin-9x'"),
    # accepted silently before: ignored keys, labels outside the classes
    ("datasets.topic.paper_refs.crowd_score", "lu2024/table3",
     "config key 'datasets.topic.paper_refs.crowd_score': unknown artifact"),
    ("classifier.model", {"type": "pretrained", "name_or_path": "minilm", "num_layers": 2},
     "config key 'classifier.model.num_layers': ignored for a pretrained model"),
    ("classifier.model", {"type": "scratch", "name_or_path": "minilm"},
     "config key 'classifier.model.name_or_path': ignored for type 'scratch'"),
    ("datasets.topic.source", {**LOCAL, "test_fraction": 0.3},
     "config key 'datasets.topic.source.test_fraction': ignored"),
    ("datasets.topic.crowd_sources", [{"name": "sim", "type": "simulated", "path": "x.csv"}],
     "config key 'datasets.topic.crowd_sources[0].path': ignored for a simulated source"),
    ("datasets.topic.source", {**LOCAL, "label_values": [1, 2, 3, 4, 5]},
     "config key 'datasets.topic.source.label_values': 5 values for 4 label_names"),
    ("crowd.validation", {"grid": {"skill_medain": [1.0, 2.0]}},
     "config key 'crowd.validation.grid.skill_medain': not a parameter"),
    ("crowd.validation", {"datasets": {"imdb": {"path": "x.tsv"}}},
     "config key 'crowd.validation.datasets.imdb': no dataset 'imdb'"),
    # caught at the end of a long run before: the significance step tests against RANDOM
    ("saliency.methods", ["lime", "deeplift"], "config key 'saliency.methods': 'random' is missing"),
    # format regex (TREC's LABEL:fine text): the pattern is checked before any work
    ("datasets.topic.source", {**LOCAL, "format": "regex"},
     "config key 'datasets.topic.source.line_pattern': format regex needs"),
    ("datasets.topic.source", {**LOCAL, "format": "regex", "line_pattern": "(?P<label>[A-Z]+:(?P<text>.+)"},
     "config key 'datasets.topic.source.line_pattern': not a valid regular expression"),
    ("datasets.topic.source", {**LOCAL, "format": "regex", "line_pattern": "(?P<label>[A-Z]+):(?P<txt>.+)"},
     "no named group 'text' for the text"),
    ("datasets.topic.source", {**LOCAL, "line_pattern": "(?P<label>.+)"},
     "config key 'datasets.topic.source.line_pattern': ignored unless format is regex"),
]


@pytest.mark.parametrize(("key", "value", "named"), BAD_CONFIGS, ids=[b[0] for b in BAD_CONFIGS])
def test_bad_config_names_the_key(demo_config, key, value, named):
    bad = _set(copy.deepcopy(demo_config), key, value)
    with pytest.raises(ConfigError) as info:
        validate_config(bad)
    assert named in str(info.value)


def test_keys_another_variant_would_use_are_warned_about(demo_config):
    from saliency_repro.config import ignored_key_warnings

    assert ignored_key_warnings(demo_config) == []
    cfg = _set(_set(copy.deepcopy(demo_config), "saliency.lime_samples", 200), "saliency.ig_max_steps", 400)
    assert ignored_key_warnings(cfg) == [
        "config key 'saliency.lime_samples' is ignored with lime_variant authors (the authors' fixed "
        "constants); it applies to lime_variant token_embedding only",
        "config key 'saliency.ig_max_steps' is ignored without saliency.ig_tolerance (the fixed "
        "ig_steps are used)"]
    validate_config(cfg)  # a warning, not an error
    cfg = _set(copy.deepcopy(demo_config), "saliency.lime_samples", 200)
    assert ignored_key_warnings(_set(cfg, "saliency.lime_variant", "token_embedding")) == []


def test_missing_required_keys_are_named(demo_config):
    del demo_config["datasets"]["topic"]["source"]["type"]
    with pytest.raises(ConfigError, match="type"):
        validate_config(demo_config)
    with pytest.raises(ConfigError, match="datasets"):
        validate_config({"run": "x"})


def test_cross_reference_errors(demo_config):
    bad = copy.deepcopy(demo_config)
    bad["datasets"]["topic"]["source"]["generator"] = "summarization"
    with pytest.raises(ConfigError, match="datasets.topic.source.generator"):
        validate_config(bad)
    bad = copy.deepcopy(demo_config)
    bad["saliency"]["k"] = [10, 5]
    with pytest.raises(ConfigError, match="saliency.k"):
        validate_config(bad)
    bad = copy.deepcopy(demo_config)
    del bad["datasets"]["topic"]["label_names"]
    with pytest.raises(ConfigError, match="datasets.topic.label_names"):
        validate_config(bad)


def test_local_source_schema(demo_config):
    demo_config["datasets"]["mine"] = {
        "task": "classification", "label_names": ["a", "b"],
        "source": {"type": "local", "files": {"train": "tr.csv", "test": "te.csv"},
                   "columns": {"text": [1, 2], "label": 0}, "header": False},
    }
    validate_config(demo_config)
    assert demo_config["datasets"]["mine"]["source"]["format"] == "auto"
    demo_config["datasets"]["mine"]["source"]["delimitr"] = ","
    with pytest.raises(ConfigError, match="delimitr"):
        validate_config(demo_config)


def test_url_source_needs_a_valid_checksum(demo_config):
    demo_config["datasets"]["mine"] = {
        "task": "summarization",
        "source": {"type": "url", "files": {"train": {"url": "http://x/a.csv", "sha256": "abc"},
                                             "test": {"url": "http://x/b.csv", "sha256": ""}}},
    }
    with pytest.raises(ConfigError, match="sha256"):
        validate_config(demo_config)


def test_command_line_override_merges(repo):
    config = yaml.safe_load((repo / "config.yaml").read_text())
    merged = deep_merge(config, {"download_mirror": "/tmp/mirror", "saliency": {"n_samples": 3}})
    validate_config(merged)
    assert merged["download_mirror"] == "/tmp/mirror"
    assert merged["saliency"]["n_samples"] == 3
    assert merged["saliency"]["ig_steps"] == config["saliency"]["ig_steps"]


def test_duplicate_yaml_key_names_file_and_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("run: demo\nseed: 1\ncrowd:\n  alpha: 0.05\n  alpha: 0.01\n")
    with pytest.raises(ConfigError, match=r"dup.yaml:5: key 'alpha' given twice .*line 4"):
        load_config(path)


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("run: demo\nseed: 1\ndatasets: [a,\n  b: c\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(path)


def test_numeric_strings_from_the_command_line_are_coerced(demo_config):
    # --config "saliency={k: [5, 10]}" gives the Snakefile ["5", " 10"]-like strings
    cfg = _set(copy.deepcopy(demo_config), "saliency.k", [5, "10", " 20"])
    cfg = _set(cfg, "crowd.alpha", "0.01")
    validate_config(cfg)
    assert cfg["saliency"]["k"] == [5, 10, 20] and cfg["crowd"]["alpha"] == 0.01
    assert isinstance(cfg["saliency"]["k"][1], int)
    # --config "datasets={topic: {source: {n_train: 50}}}": Snakemake's YAML BaseLoader gives
    # strings everywhere, also inside the per-source schemas (allOf / if / then) and booleans
    cfg = copy.deepcopy(demo_config)
    cfg["datasets"]["topic"]["source"].update(n_train="50", cues_per_doc=["1", "3"])
    cfg = _set(cfg, "crowd.compare_with_paper", "false")
    cfg = _set(cfg, "saliency.ig_tolerance", "null")
    validate_config(cfg)
    assert cfg["datasets"]["topic"]["source"]["n_train"] == 50
    assert cfg["datasets"]["topic"]["source"]["cues_per_doc"] == [1, 3]
    assert cfg["crowd"]["compare_with_paper"] is False and cfg["saliency"]["ig_tolerance"] is None
    local = _set(copy.deepcopy(demo_config), "datasets.topic.source",
                 {**LOCAL, "max_rows": "20", "header": "false", "columns": {"text": "2", "label": "0"}})
    validate_config(local)
    src = local["datasets"]["topic"]["source"]
    assert (src["max_rows"], src["header"]) == (20, False)
    assert src["columns"] == {"text": "2", "label": "0"}  # a column may be named "2": kept a string


def test_a_dataset_may_have_its_own_display_sizes(demo_config):
    from saliency_repro.saliency.settings import dataset_display_size

    demo_config["datasets"]["topic"]["saliency"] = {"k": [1, 2, 4], "overlap_k": 3}
    validate_config(demo_config)
    assert dataset_display_size(demo_config, "topic", "k") == ([1, 2, 4], "datasets.topic.saliency.k")
    assert dataset_display_size(demo_config, "topic", "overlap_k") == (3, "datasets.topic.saliency.overlap_k")
    assert dataset_display_size(demo_config, "sentiment", "k") == (demo_config["saliency"]["k"], "saliency.k")


def test_check_config_names_the_line_snakemake_does_not(tmp_path, capsys, repo):
    from saliency_repro.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("run: demo\nseed: 1\ndatasets: [a,\n  b: c\n")
    assert main(["check-config", str(bad)]) == 2
    assert re.search(rf"{re.escape(str(bad))}:\d+: not valid YAML", capsys.readouterr().err)
    assert main(["check-config", "--no-device", str(repo / "config.yaml")]) == 0
    # warnings are printed, naming the key, and do not fail the check
    data = tmp_path / "mr.csv"
    data.write_text("text,label\nclichés abound,0\n", encoding="utf-8")
    mr = tmp_path / "mr.yaml"
    mr.write_text(yaml.safe_dump({"run": "t", "saliency": {"lime_samples": 50}, "datasets": {"mr": {
        "task": "classification", "label_names": ["neg", "pos"],
        "source": {"type": "local", "files": {"train": str(data)}, "encoding": "latin-1"}}}}))
    capsys.readouterr()
    assert main(["check-config", "--no-device", str(mr)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("warning: config key 'saliency.lime_samples' is ignored with lime_variant authors")
    assert err[1].startswith("warning: config key 'datasets.mr.source.encoding' is 'latin-1', but ")
    assert len(err) == 2


def test_an_empty_mapping_on_the_command_line_is_refused():
    from saliency_repro.config import check_command_line_overrides

    check_command_line_overrides({"saliency": {"k": ["5", "10"]}, "seed": 3})
    with pytest.raises(ConfigError, match="'datasets': an empty mapping"):
        check_command_line_overrides({"datasets": {}})
    with pytest.raises(ConfigError, match="'crowd.platform': an empty mapping"):
        check_command_line_overrides({"crowd": {"alpha": 0.1, "platform": {}}})


@pytest.mark.parametrize(("argv", "named"), [
    # Snakemake's own parsers print Python tracebacks for these before the workflow loads
    (["-n", "--config", "saliency.n_samples=5"],
     "--config 'saliency.n_samples=5': a dotted key is not understood; nest the value: "
     "--config \"saliency={n_samples: 5}\""),
    (["-n", "--config", "saliency={k: [5, 10}"], "--config 'saliency={k: [5, 10}': not valid YAML"),
    (["-n", "--configfile", "{loop}"], "Too many levels of symbolic links"),
    (["-n", "--configfile", "{repo}/configs/local.yaml", "all"],
     "--configfile all: does not exist; a target written after --configfile is read as a config file"),
    (["-n", "--configfile", "{bad}"], "bad.yaml:5: not valid YAML"),
    (["-n", "--config", "seed=3", "all"],
     "--config 'all': not KEY=VALUE; a target written after --config is read as a config entry"),
    # and everything the workflow checks at start, in one line
    (["-n", "--config", "seed=4294967296"], "config key 'seed': 4294967296 is greater than the maximum"),
    (["-n", "--config", "datasets={topic: {source: {n_train: 2}}}"],
     "config key 'datasets.topic.source.n_train': 2 is less than the minimum of 8"),
])
def test_run_wrapper_errors_are_one_line(tmp_path, capsys, monkeypatch, repo, argv, named):
    from saliency_repro import cli

    (tmp_path / "loop").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop")
    bad = tmp_path / "bad.yaml"
    bad.write_text("run: demo\nseed: 1\ndatasets: [a,\n  b: c\n")
    started = []
    monkeypatch.setattr(cli, "_snakemake", lambda args: started.append(args) or 0)
    places = {"{loop}": str(tmp_path / "loop"), "{repo}": str(repo), "{bad}": str(bad)}
    for mark, place in places.items():
        argv = [a.replace(mark, place) for a in argv]
    assert cli.main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert named in err and err.count("\n") == 1 and "Traceback" not in err
    assert not started  # Snakemake is not started


def test_run_wrapper_passes_good_arguments_to_snakemake(capsys, monkeypatch, repo):
    from saliency_repro import cli

    started = []
    monkeypatch.setattr(cli, "_snakemake", lambda args: started.append(args) or 0)
    argv = ["all", "-n", "--config", "datasets={topic: {source: {n_train: 50}}}", "--cores", "1"]
    assert cli.main(["run", *argv]) == 0
    assert started == [argv]


@pytest.mark.parametrize(("raise_", "one_line"), [
    ("from saliency_repro.data.sources import DataError; raise DataError('f.csv:3: bad label')", True),
    ("from saliency_repro.config import ConfigError; raise ConfigError('config key x: bad')", True),
    ("raise KeyError('a bug')", False),
])
def test_a_job_ends_with_one_line_for_the_package_errors_only(tmp_path, raise_, one_line):
    """A workflow script (setup_logging, as every script runs it): the package's own errors end
    the job with 'Error: <message>' in its log, unexpected ones keep their traceback."""
    import subprocess
    import sys

    log = tmp_path / "job.log"
    code = f"from saliency_repro.runtime import setup_logging; setup_logging({str(log)!r}); {raise_}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    text = log.read_text()
    if one_line:
        assert text.startswith("Error: ") and text.count("\n") == 1 and "Traceback" not in text
    else:
        assert "Traceback (most recent call last)" in text and "KeyError: 'a bug'" in text
