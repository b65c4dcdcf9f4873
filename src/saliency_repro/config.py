"""Configuration loading and validation.

The workflow validates its config with Snakemake's ``validate()`` against
``schemas/config.schema.yaml`` (which also fills defaults). This module wraps that call so the
error names the offending key as a dotted path (``crowd.workers_per_task``) instead of a schema
dump, and so tests and library users get exactly the validation the workflow uses.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from saliency_repro.errors import InputError

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "schemas" / "config.schema.yaml"


class ConfigError(InputError):
    """A config value is wrong; the message names the key."""


def _key_path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _describe(error) -> str:
    hint = " (unknown key; check spelling)" if error.validator == "additionalProperties" else ""
    path = _key_path(error)
    if error.validator == "pattern" and path.startswith("datasets.") and path.endswith(".name"):
        hint = (" (letters and digits only: artifact names join the dataset and the source "
                "with '_', so a '_' here would be split into the wrong dataset and source)")
    if error.validator == "maximum" and path == "seed":
        hint = " (numpy seeds are 32-bit: at most 2**32 - 1)"
    return f"config key {path!r}: {error.message}{hint}"


def explain_config_errors(config: dict[str, Any], schema: str | os.PathLike = SCHEMA_PATH) -> None:
    """Raise :class:`ConfigError` naming the first wrong key, if the config breaks the schema.

    Snakemake's ``validate()`` reports a schema dump; this picks jsonschema's most specific
    error and names its key as a dotted path. It runs before ``validate()``, which then only
    fills the defaults.
    """
    import jsonschema

    schema_doc = yaml.safe_load(Path(schema).read_text(encoding="utf-8"))
    coerce_numeric_strings(config, schema_doc, schema_doc)
    errors = list(jsonschema.Draft202012Validator(schema_doc).iter_errors(config))
    if errors:
        raise ConfigError(_describe(jsonschema.exceptions.best_match(errors)))
    check_ignored_keys(config)


def _resolve(node: dict, root: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"].removeprefix("#/").split("/")
        node = root
        for part in ref:
            node = node[part]
    return node


def _numeric(text: str, types: set[str]):
    try:
        if "integer" in types and text.strip().lstrip("+-").isdigit():
            return int(text)
        if "number" in types:
            return float(text)
    except ValueError:
        pass
    return text


def _branches(node: dict, value: Any, root: dict) -> list[dict]:
    """The sub-schemas that also describe ``value``: every ``oneOf``/``anyOf``/``allOf``
    alternative, and the ``then`` of an ``if`` that ``value`` satisfies (the per-type source
    schemas are reached this way)."""
    import jsonschema

    out = []
    for alt in node.get("oneOf", []) + node.get("anyOf", []) + node.get("allOf", []):
        alt = _resolve(alt, root)
        if not isinstance(alt, dict):
            continue
        if "if" in alt:
            cond = {**alt["if"], "$defs": root.get("$defs", {})}
            if "then" in alt and jsonschema.Draft202012Validator(cond).is_valid(value):
                out.append(_resolve(alt["then"], root))
        else:
            out.append(alt)
    return out


def _types(node: dict, root: dict) -> set[str]:
    types = node.get("type", [])
    types = {types} if isinstance(types, str) else set(types)
    for alt in node.get("oneOf", []) + node.get("anyOf", []):
        t = _resolve(alt, root).get("type", [])
        types |= {t} if isinstance(t, str) else set(t)
    if "enum" in node and None in node["enum"]:
        types.add("null")
    return types


_BOOLEANS = {"true": True, "false": False}


def coerce_numeric_strings(value: Any, node: dict, root: dict) -> Any:
    """Turn numeric, boolean and null strings into numbers, booleans and None where the schema
    wants them and no string, in place.

    ``--config "saliency={k: [5, 10]}"`` reaches the Snakefile with list items as strings
    (``'10'``), and ``--config "datasets={topic: {source: {n_train: 50}}}"`` with ``'50'``
    inside a per-source schema (reached through ``allOf``/``if``/``then``); coercing them here
    makes the command-line form work as written.
    """
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return value
    if isinstance(value, dict):
        for sub_node in [node, *_branches(node, value, root)]:
            props = sub_node.get("properties", {})
            extra = sub_node.get("additionalProperties")
            for key in list(value):
                sub = props.get(key, extra if isinstance(extra, dict) else None)
                if sub is not None:
                    value[key] = coerce_numeric_strings(value[key], sub, root)
        return value
    if isinstance(value, list):
        for sub_node in [node, *_branches(node, value, root)]:
            if isinstance(sub_node.get("items"), dict):
                for i, item in enumerate(value):
                    value[i] = coerce_numeric_strings(item, sub_node["items"], root)
        return value
    if isinstance(value, str):
        types = _types(node, root)
        if "string" in types:
            return value
        if types & {"integer", "number"}:
            value = _numeric(value, types)
        if isinstance(value, str) and "boolean" in types and value.strip().lower() in _BOOLEANS:
            return _BOOLEANS[value.strip().lower()]
        if isinstance(value, str) and "null" in types and value.strip() in ("null", "~", ""):
            return None
    return value


def validate_config(config: dict[str, Any], schema: str | os.PathLike = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place (filling defaults) exactly as the workflow does; return it."""
    from snakemake.utils import validate

    explain_config_errors(config, schema)
    validate(config, str(Path(schema).resolve()))
    check_cross_references(config)
    return config


def check_command_line_overrides(overrides: Mapping[str, Any], prefix: str = "") -> None:
    """``--config`` values are merged into the config files key by key, so an empty mapping
    there (``--config "datasets={}"``) changes nothing; say so instead of running everything."""
    for key, value in overrides.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            if not value:
                raise ConfigError(
                    f"config key '{dotted}': an empty mapping given with --config changes nothing "
                    f"(Snakemake merges --config into the config file key by key); to drop entries, "
                    f"write a config file and pass it with --configfile")
            check_command_line_overrides(value, f"{dotted}.")


#: model sizes of the scratch classifier: a pretrained checkpoint brings its own
SCRATCH_SIZES = ("hidden_size", "num_layers", "num_heads", "intermediate_size", "vocab_size")
#: artifacts that read ``datasets.<name>.paper_refs`` (rules/common.smk's ``paper_ref`` refuses
#: any other, so a new one must be added here)
PAPER_REF_ARTIFACTS = ("crowd_scores", "misclassified_counts", "method_overlap")
#: the saliency keys that only ``lime_variant: token_embedding`` uses
TOKEN_LIME_KEYS = ("lime_samples", "lime_kernel_width", "lime_perturbations_per_eval")


def check_ignored_keys(config: dict[str, Any]) -> None:
    """Keys the user wrote that nothing would read: refused naming the key, before the schema
    fills its defaults (after that, a default and a written value look alike)."""
    model = (config.get("classifier") or {}).get("model") or {}
    if model.get("type") == "pretrained":
        for key in SCRATCH_SIZES:
            if key in model:
                raise ConfigError(f"config key 'classifier.model.{key}': ignored for a pretrained "
                                  f"model (its sizes come from the checkpoint); remove it")
    elif "name_or_path" in model or model.get("revision"):
        key = "name_or_path" if "name_or_path" in model else "revision"
        raise ConfigError(f"config key 'classifier.model.{key}': ignored for type "
                          f"{model.get('type', 'scratch')!r}; set classifier.model.type: pretrained")
    for name, ds in (config.get("datasets") or {}).items():
        key = f"datasets.{name}"
        src = ds.get("source") or {}
        if "test_fraction" in src and "test" in (src.get("files") or {}):
            raise ConfigError(f"config key '{key}.source.test_fraction': ignored, "
                              f"{key}.source.files has a test file (only a missing test split is "
                              f"carved from train); remove one of them")
        for ref in ds.get("paper_refs") or {}:
            if ref not in PAPER_REF_ARTIFACTS:
                raise ConfigError(f"config key '{key}.paper_refs.{ref}': unknown artifact "
                                  f"(known: {', '.join(PAPER_REF_ARTIFACTS)})")
        for i, crowd in enumerate(ds.get("crowd_sources") or []):
            unused = {"simulated": ("url", "sha256", "path", "format", "db"),
                      "released": ("format", "db"), "platform": ("url", "sha256", "db"),
                      "study": ("url", "sha256", "path", "format")}.get(crowd.get("type"), ())
            for extra in unused:
                if extra in crowd:
                    raise ConfigError(f"config key '{key}.crowd_sources[{i}].{extra}': ignored for "
                                      f"a {crowd['type']} source; remove it")
    validation = (config.get("crowd") or {}).get("validation") or {}
    if validation.get("grid"):
        import dataclasses

        from saliency_repro.crowd.simulate import WorkerModel

        known = [f.name for f in dataclasses.fields(WorkerModel)]
        for param in validation["grid"]:
            if param not in known:
                raise ConfigError(f"config key 'crowd.validation.grid.{param}': not a parameter of "
                                  f"the bag_of_words worker model ({', '.join(known)})")
    for name in validation.get("datasets") or {}:
        if name not in (config.get("datasets") or {}):
            raise ConfigError(f"config key 'crowd.validation.datasets.{name}': no dataset "
                              f"{name!r} is configured")


def ignored_key_warnings(config: dict[str, Any]) -> list[str]:
    """Keys the user wrote that one setting switches off but another would use (a config shared
    between variants): warned about naming the key, before the schema fills its defaults."""
    out = []
    sal = config.get("saliency") or {}
    if sal.get("lime_variant", "authors") == "authors":
        out += [f"config key 'saliency.{key}' is ignored with lime_variant authors (the authors' "
                f"fixed constants); it applies to lime_variant token_embedding only"
                for key in TOKEN_LIME_KEYS if key in sal]
    if sal.get("ig_max_steps") is not None and sal.get("ig_tolerance") is None:
        out.append("config key 'saliency.ig_max_steps' is ignored without saliency.ig_tolerance "
                   "(the fixed ig_steps are used)")
    return out


def check_cross_references(config: dict[str, Any]) -> None:
    """Checks a JSON schema cannot express: values that must agree with each other."""
    if not config.get("datasets"):
        raise ConfigError("config key 'datasets': no dataset configured (an empty mapping, e.g. "
                          "from --config \"datasets={}\", would run nothing)")
    for name, ds in config.get("datasets", {}).items():
        _check_dataset(f"datasets.{name}", ds)
    _check_methods(config)
    _check_random_for_crowd(config)
    grids = [("saliency.k", config.get("saliency", {}).get("k", []))]
    grids += [(f"datasets.{name}.saliency.k", ds["saliency"]["k"])
              for name, ds in config["datasets"].items() if "k" in ds.get("saliency", {})]
    for key, ks in grids:
        if ks and sorted(set(ks)) != list(ks):
            raise ConfigError(f"config key '{key}': must be strictly increasing, got {list(ks)}")
    decoding = config.get("summarizer", {}).get("decoding", {})
    if decoding.get("min_length", 0) > decoding.get("max_length", float("inf")):
        raise ConfigError(
            f"config key 'summarizer.decoding.min_length': {decoding['min_length']} is larger than "
            f"summarizer.decoding.max_length ({decoding['max_length']}); summaries would be cut "
            f"before they may stop")


def _check_methods(config: dict[str, Any]) -> None:
    """Method names are whatever the registry holds (adding a method needs no schema edit)."""
    from saliency_repro.attribution.registry import CLASSIFICATION, SUMMARIZATION, methods_for

    for section, task in (("saliency", CLASSIFICATION), ("counterfactual", SUMMARIZATION)):
        known = [m.id for m in methods_for(task)]
        chosen = list(config.get(section, {}).get("methods", []))
        if section == "counterfactual" and "example_method" in config.get(section, {}):
            chosen.append(config[section]["example_method"])
            key_of = {len(chosen) - 1: f"{section}.example_method"}
        else:
            key_of = {}
        for i, name in enumerate(chosen):
            if name not in known:
                key = key_of.get(i, f"{section}.methods[{i}]")
                raise ConfigError(f"config key '{key}': unknown saliency method {name!r}; "
                                  f"known for {task}: {', '.join(known)}")


def _check_random_for_crowd(config: dict[str, Any]) -> None:
    """The crowd's significance tests compare each method with RANDOM: without it in
    ``saliency.methods`` a simulated or platform crowd would fail in its last step, after
    training, attribution and the crowd."""
    methods = config.get("saliency", {}).get("methods", [])
    if "random" in methods:
        return
    for name, ds in config["datasets"].items():
        for i, crowd in enumerate(ds.get("crowd_sources", [])):
            if crowd.get("type") in ("simulated", "platform", "study"):
                raise ConfigError(
                    f"config key 'saliency.methods': 'random' is missing, but "
                    f"datasets.{name}.crowd_sources[{i}] ({crowd['name']}) is tested against "
                    f"RANDOM (the significance step); add random to saliency.methods")


def check_reading_options(key: str, options: dict[str, Any], per_class: bool = False) -> None:
    """One split's reading options: a delimiter of one character, an encoding Python knows, a
    compilable ``line_pattern`` with a text (and label) group exactly when ``format: regex``."""
    import codecs
    import re

    delimiter = options.get("delimiter")
    if delimiter is not None and len(delimiter) != 1:
        hint = (" (YAML reads '\\t' in single quotes as a backslash and a t: write \"\\t\" in "
                "double quotes for a tab)" if delimiter == "\\t" else "")
        raise ConfigError(f"config key '{key}.delimiter': {delimiter!r} is {len(delimiter)} "
                          f"characters, a delimiter is one{hint}")
    encoding = options.get("encoding")
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"config key '{key}.encoding': unknown encoding {encoding!r} (e.g. "
                              f"utf-8, latin-1, cp1252, utf-16)") from None
    pattern, fmt = options.get("line_pattern"), options.get("format", "auto")
    if fmt == "regex":
        if not pattern:
            raise ConfigError(f"config key '{key}.line_pattern': format regex needs a regular "
                              f"expression with named groups, e.g. '(?P<label>[A-Z]+):\\S+ "
                              f"(?P<text>.+)'")
        try:
            groups = set(re.compile(pattern).groupindex)
        except re.error as exc:
            raise ConfigError(f"config key '{key}.line_pattern': not a valid regular expression "
                              f"({exc})") from None
        columns = options.get("columns") or {}
        wanted = {field: columns.get(field, field) for field in ("text", "label")}
        if per_class:
            wanted.pop("label")
        for field, ref in wanted.items():
            if ref not in groups:
                raise ConfigError(f"config key '{key}.line_pattern': no named group {ref!r} for "
                                  f"the {field} (groups: {', '.join(sorted(groups)) or 'none'}); "
                                  f"write (?P<{ref}>...)")
    elif pattern:
        raise ConfigError(f"config key '{key}.line_pattern': ignored unless format is regex "
                          f"(format is {fmt!r})")


def _check_dataset(key: str, ds: dict[str, Any]) -> None:
    if ds["task"] == "classification" and not ds.get("label_names"):
        raise ConfigError(f"config key '{key}.label_names': required for classification")
    src = ds["source"]
    if src["type"] in ("local", "url", "huggingface"):
        overrides = src.get("split_options") or {}
        for split in ["", *overrides]:
            where = f"{key}.source" + (f".split_options.{split}" if split else "")
            options = {**src, **(overrides.get(split) or {})} if split else src
            spec = (src.get("files") or {}).get(split or "train")
            per_class = isinstance(spec, dict) and (src["type"] == "local" or all(
                isinstance(v, dict) for v in spec.values()))
            check_reading_options(where, options, per_class)
            values = options.get("label_values")
            if values is not None and ds.get("label_names") and len(values) != len(ds["label_names"]):
                raise ConfigError(
                    f"config key '{where}.label_values': {len(values)} values for "
                    f"{len(ds['label_names'])} label_names {ds['label_names']} (the value at "
                    f"position i becomes label i: one value per label name)")
    if ds["task"] == "summarization":
        for extra in ("label_names", "crowd_sources", "saliency"):
            if ds.get(extra):
                raise ConfigError(f"config key '{key}.{extra}': a summarization dataset has no "
                                  f"labels, crowd or crowd displays; remove the key (its deletion "
                                  f"sizes are counterfactual.k)")
    names = [src.get("name") for src in ds.get("crowd_sources", [])]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"config key '{key}.crowd_sources': the name {dupes[0]!r} is used twice; "
                          f"every source of a dataset needs its own name")
    src = ds["source"]
    if src["type"] != "synthetic":
        return
    expected = {"classification": {"sentiment", "topic"}, "summarization": {"summarization"}}
    if src["generator"] not in expected[ds["task"]]:
        raise ConfigError(
            f"config key '{key}.source.generator': {src['generator']!r} does not "
            f"produce a {ds['task']} corpus (use one of {sorted(expected[ds['task']])})"
        )
    if ds["task"] == "classification":
        from saliency_repro.data.synthetic import label_names

        classes = label_names(src["generator"])
        if len(ds["label_names"]) != len(classes):
            raise ConfigError(
                f"config key '{key}.label_names': {len(ds['label_names'])} names, but the "
                f"{src['generator']!r} corpus has {len(classes)} classes ({', '.join(classes)})")
    if src.get("min_words", 0) > src.get("max_words", float("inf")):
        raise ConfigError(f"config key '{key}.source.min_words': {src['min_words']} is larger than "
                          f"max_words ({src['max_words']})")
    for pair in ("cues_per_doc", "distractors_per_doc", "summary_words"):
        lo_hi = src.get(pair)
        if lo_hi and lo_hi[0] > lo_hi[1]:
            raise ConfigError(f"config key '{key}.source.{pair}': [min, max] expected, got {lo_hi}")
    most = sum(src.get(p, [0, 0])[1] for p in ("cues_per_doc", "distractors_per_doc"))
    if ds["task"] == "classification" and most > src.get("min_words", most):
        raise ConfigError(
            f"config key '{key}.source.cues_per_doc': up to {most} planted words (cues + "
            f"distractors) do not fit in a text of min_words = {src['min_words']} words")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML's 'last one wins')."""


def _construct_strict_mapping(loader: _StrictLoader, node, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(
                f"{loader.name}:{key_node.start_mark.line + 1}: key {key!r} given twice in one "
                f"mapping (first on line {seen[key]}); YAML would silently keep the last one")
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_strict_mapping)


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read one YAML config file; a syntax error or a duplicated key names the file and line."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:  # missing, a directory, a symlink loop
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} "
                          f"at offset {exc.start}); is this a config file?") from None
    try:
        loader = _StrictLoader(text)
        loader.name = str(path)
        try:
            data = loader.get_single_data() or {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: a config file holds a mapping of keys (run:, datasets:, ...), "
                          f"not a {type(data).__name__}")
    return data


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> dict:
    """Read a YAML config, apply ``overrides`` (deep-merged) and validate it."""
    config = read_config_file(path)
    if overrides:
        config = deep_merge(config, overrides)
    return validate_config(config)


def deep_merge(base: dict, update: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
