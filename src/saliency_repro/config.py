"""Configuration loading and validation.

The workflow validates its config with Snakemake's ``validate()`` against
``schemas/config.schema.yaml`` (which also fills defaults). This module wraps that call so the
error names the offending key as a dotted path (``crowd.workers_per_task``) instead of a schema
dump, and so tests and library users get exactly the validation the workflow uses.
"""

from __future__ import annotations

import copy
import os
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
    errors = list(jsonschema.Draft202012Validator(schema_doc).iter_errors(config))
    if errors:
        raise ConfigError(_describe(jsonschema.exceptions.best_match(errors)))


def validate_config(config: dict[str, Any], schema: str | os.PathLike = SCHEMA_PATH) -> dict:
    """Validate ``config`` in place (filling defaults) exactly as the workflow does; return it."""
    from snakemake.utils import validate

    explain_config_errors(config, schema)
    validate(config, str(Path(schema).resolve()))
    check_cross_references(config)
    return config


def check_cross_references(config: dict[str, Any]) -> None:
    """Checks a JSON schema cannot express: values that must agree with each other."""
    for name, ds in config.get("datasets", {}).items():
        if ds["task"] == "classification" and not ds.get("label_names"):
            raise ConfigError(f"config key 'datasets.{name}.label_names': required for classification")
        src = ds["source"]
        if src["type"] == "synthetic":
            expected = {"classification": {"sentiment", "topic"}, "summarization": {"summarization"}}
            if src["generator"] not in expected[ds["task"]]:
                raise ConfigError(
                    f"config key 'datasets.{name}.source.generator': {src['generator']!r} does not "
                    f"produce a {ds['task']} corpus (use one of {sorted(expected[ds['task']])})"
                )
    ks = config.get("saliency", {}).get("k", [])
    if ks and sorted(set(ks)) != list(ks):
        raise ConfigError("config key 'saliency.k': must be strictly increasing")


def load_config(path: str | os.PathLike, overrides: dict[str, Any] | None = None) -> dict:
    """Read a YAML config, apply ``overrides`` (deep-merged) and validate it."""
    config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
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
