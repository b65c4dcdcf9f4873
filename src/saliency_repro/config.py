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

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A config value is wrong; the message names the key."""


def _key_path(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def _describe(error) -> str:
    hint = " (unknown key; check spelling)" if error.validator == "additionalProperties" else ""
    return f"config key {_key_path(error)!r}: {error.message}{hint}"


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


def coerce_numeric_strings(value: Any, node: dict, root: dict) -> Any:
    """Turn numeric strings into numbers where the schema wants a number, in place.

    ``--config "saliency={k: [5, 10]}"`` reaches the Snakefile with list items as strings
    (``'10'``); coercing them here makes the command-line form work as written.
    """
    node = _resolve(node, root)
    if not isinstance(node, dict):
        return value
    if isinstance(value, dict):
        props = node.get("properties", {})
        extra = node.get("additionalProperties")
        for key in list(value):
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = coerce_numeric_strings(value[key], sub, root)
        return value
    if isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            value[i] = coerce_numeric_strings(item, node["items"], root)
        return value
    if isinstance(value, str):
        types = node.get("type", [])
        types = {types} if isinstance(types, str) else set(types)
        for alt in node.get("oneOf", []) + node.get("anyOf", []):
            t = _resolve(alt, root).get("type", [])
            types |= {t} if isinstance(t, str) else set(t)
        if types & {"integer", "number"} and "string" not in types:
            return _numeric(value, types)
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


def check_cross_references(config: dict[str, Any]) -> None:
    """Checks a JSON schema cannot express: values that must agree with each other."""
    if not config.get("datasets"):
        raise ConfigError("config key 'datasets': no dataset configured (an empty mapping, e.g. "
                          "from --config \"datasets={}\", would run nothing)")
    for name, ds in config.get("datasets", {}).items():
        _check_dataset(f"datasets.{name}", ds)
    _check_methods(config)
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


def _check_dataset(key: str, ds: dict[str, Any]) -> None:
    if ds["task"] == "classification" and not ds.get("label_names"):
        raise ConfigError(f"config key '{key}.label_names': required for classification")
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
    text = path.read_text(encoding="utf-8")
    try:
        loader = _StrictLoader(text)
        loader.name = str(path)
        try:
            return loader.get_single_data() or {}
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {exc.problem or exc}") from None


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
