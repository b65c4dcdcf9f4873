"""Which package code a job ran, so that an edit to it reruns the job (and nothing else).

Snakemake's ``code`` rerun trigger sees a rule's script, not the package modules the script
imports: an edit to ``crowd/figures.py`` left every figure stale. ``code_digest`` follows a
script's imports of ``saliency_repro`` transitively (including imports inside functions),
and hashes the *contents* of those modules; the Snakefile puts the digest in every scripted
rule's params, so content decides (touching or checking out a file again reruns nothing).
"""

from __future__ import annotations

import ast
import hashlib
import os
from functools import cache
from pathlib import Path

PACKAGE = "saliency_repro"
PACKAGE_DIR = Path(__file__).resolve().parent


def _module_file(dotted: str) -> Path | None:
    """The source file of ``saliency_repro.a.b`` (module or package), if it exists."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _imported_modules(path: Path) -> frozenset[str]:
    """Dotted names of the package modules a file imports (``from x import y``: x and x.y).
    Cached: every scripted rule follows the same modules, and parsing them again for each
    rule was most of the Snakefile's start-up time (paid by every cluster job, twice)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == PACKAGE:
                out.add(node.module)
                out |= {f"{node.module}.{a.name}" for a in node.names}
    return frozenset(out)


@cache
def package_modules_of(script: str | os.PathLike) -> tuple[Path, ...]:
    """Every package module ``script`` depends on, transitively, sorted."""
    seen: dict[Path, None] = {}
    todo = [Path(script)]
    while todo:
        for dotted in _imported_modules(todo.pop()):
            parts = dotted.split(".")
            # a module's parent packages run too (their __init__.py)
            for n in range(1, len(parts) + 1):
                f = _module_file(".".join(parts[:n]))
                if f is not None and f not in seen:
                    seen[f] = None
                    todo.append(f)
    return tuple(sorted(seen))


def code_digest(script: str | os.PathLike) -> str:
    """sha256 over the script's content and the relative paths and contents of the modules it
    depends on. Snakemake's own ``code`` trigger judges a script by its modification time, so
    the default profile leaves it out and this content hash decides instead."""
    h = hashlib.sha256(Path(script).read_bytes())
    h.update(b"\0")
    for f in package_modules_of(Path(script).resolve()):
        h.update(str(f.relative_to(PACKAGE_DIR)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


# ---------------------------------------------------------------------------- job records
#: Params the Snakefile adds to every scripted rule (not config values of the job)
INJECTED_PARAMS = ("package_code", "provenance")
KEY_PACKAGES = ("torch", "transformers", "captum", "snakemake", "numpy", "pandas", "scipy",
                "statsmodels", "scikit-learn", "crowd-kit", "rouge_score", "tokenizers", "datasets")


def sha256_file(path: str | os.PathLike) -> str:
    """The download layer's file hash (one implementation for pins and provenance)."""
    from saliency_repro.download import sha256_of

    return sha256_of(path)


def file_entries(paths) -> list[dict]:
    """Path and sha256 of every file (a directory: each file in it, sorted)."""
    out = []
    for p in map(Path, paths):
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        out += [{"path": str(f), "sha256": sha256_file(f)} for f in files if f.is_file()]
    return out


def record_path(provenance_dir: str | os.PathLike, output: str | os.PathLike) -> Path:
    """Where the record of the job that wrote ``output`` lives."""
    return Path(provenance_dir) / f"{Path(output).as_posix().lstrip('/')}.json"


def _git_state(root: Path) -> dict:
    import subprocess

    def git(*args):
        r = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def _versions() -> dict:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def _jsonable(value):
    import json

    try:
        json.dumps(value)
        return value
    except TypeError:
        if isinstance(value, dict):
            return {str(k): _jsonable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [_jsonable(v) for v in value]
        return str(value)


def job_record(job, started: str) -> dict:
    """What a reviewer needs to audit one job: code, inputs, outputs, config values, software."""
    from datetime import UTC, datetime

    params = dict(job.params.items())
    meta = params.pop("provenance", {}) or {}
    code = params.pop("package_code", None)
    workflow_dir = Path(job.scriptdir).parent if job.scriptdir else Path(".")
    script = meta.get("script")
    script_file = workflow_dir / script if script else None
    modules = package_modules_of(script_file.resolve()) if script_file and script_file.is_file() else ()
    return {
        "rule": job.rule, "rule_file": meta.get("rule_file"), "script": script,
        "package_modules": [str(m.relative_to(PACKAGE_DIR)) for m in modules],
        "package_code_sha256": code,
        "wildcards": dict(job.wildcards.items()),
        "inputs": file_entries(job.input), "outputs": file_entries(job.output),
        "params": _jsonable(params),
        "seed": _jsonable(params.get("seed")), "device": _jsonable(params.get("device")),
        "threads": job.threads,
        "git": _git_state(workflow_dir),
        "versions": _versions(),
        "started": started, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def register_job_record(job) -> None:
    """Write the job's record for each of its outputs when the script ends without an error."""
    import atexit
    import json
    import sys
    from datetime import UTC, datetime

    from saliency_repro.io import write_text

    meta = dict(job.params.items()).get("provenance")
    if not meta:
        return
    started = datetime.now(UTC).isoformat(timespec="seconds")
    failed = []
    previous_hook = sys.excepthook

    def note_failure(*exc_info):
        failed.append(True)
        previous_hook(*exc_info)

    sys.excepthook = note_failure

    def write() -> None:
        if failed or not all(Path(o).exists() for o in job.output):
            return
        text = json.dumps(job_record(job, started), indent=1, sort_keys=True)
        for out in job.output:
            write_text(record_path(meta["dir"], out), text)

    atexit.register(write)


# ---------------------------------------------------------------------------- lineage
def load_record(provenance_dir: str | os.PathLike, path: str | os.PathLike) -> dict | None:
    import json

    rec = record_path(provenance_dir, path)
    return json.loads(rec.read_text(encoding="utf-8")) if rec.is_file() else None


def lineage(provenance_dir: str | os.PathLike, path: str | os.PathLike,
            _seen: set | None = None) -> dict:
    """The tree of jobs and files that made ``path``, down to files no job of the run wrote.

    Each node: ``path``, ``sha256`` (as recorded by the job that wrote it, or by the job that
    read it for a source file), ``record`` (the writing job's record, without its file lists)
    and ``inputs`` (child nodes). A node seen before is listed again with ``repeated: True``.
    """
    seen = set() if _seen is None else _seen
    path = str(path)
    rec = load_record(provenance_dir, path)
    node: dict = {"path": path, "sha256": None, "record": None, "inputs": []}
    if rec is None:
        return node
    node["sha256"] = next((o["sha256"] for o in rec["outputs"] if o["path"] == path), None)
    node["record"] = {k: v for k, v in rec.items() if k not in ("inputs", "outputs")}
    if path in seen:
        node["repeated"] = True
        return node
    seen.add(path)
    for entry in rec["inputs"]:
        child = lineage(provenance_dir, entry["path"], seen)
        if child["record"] is None:
            child["sha256"] = entry["sha256"]
        node["inputs"].append(child)
    return node


def verify(tree: dict) -> list[str]:
    """Files on the chain whose content changed since their job recorded them."""
    problems = []

    def walk(node):
        p = Path(node["path"])
        if node["sha256"] is not None:
            if not p.is_file():
                problems.append(f"{p}: missing (recorded sha256 {node['sha256'][:12]})")
            elif (now := sha256_file(p)) != node["sha256"]:
                problems.append(f"{p}: changed (recorded {node['sha256'][:12]}, now {now[:12]})")
        if not node.get("repeated"):
            for child in node["inputs"]:
                walk(child)

    walk(tree)
    return sorted(set(problems))


def _source_note(record: dict) -> str:
    """Where a job's data came from, for jobs that fetch or prepare raw data."""
    src = record.get("params", {}).get("source")
    if not isinstance(src, dict):
        return ""
    bits = [f"{k}={src[k]}" for k in ("type", "path", "url", "name", "revision", "sha256") if src.get(k)]
    files = src.get("files")
    if isinstance(files, dict):
        bits += [f"{split}={v.get('url', v) if isinstance(v, dict) else v}" for split, v in files.items()]
    return "source: " + ", ".join(bits) if bits else ""


def render_tree(tree: dict) -> str:
    """A text tree of ``lineage``'s result, one file per line."""
    lines: list[str] = []

    def walk(node, prefix: str, last: bool, top: bool):
        sha = (node["sha256"] or "")[:12]
        rec = node["record"]
        what = (f"[rule {rec['rule']}: {rec['script']}, {rec['rule_file']}; commit "
                f"{(rec['git'] or {}).get('commit') or '?'}{' (dirty)' if (rec['git'] or {}).get('dirty') else ''}]"
                if rec else "[source file]")
        branch = "" if top else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{branch}{node['path']}  sha256 {sha or '?'}  {what}"
                     + ("  (see above)" if node.get("repeated") else ""))
        child_prefix = prefix + ("" if top else ("   " if last else "│  "))
        if rec and (note := _source_note(rec)):
            lines.append(f"{child_prefix}   {note}")
        if not node.get("repeated"):
            for i, child in enumerate(node["inputs"]):
                walk(child, child_prefix, i == len(node["inputs"]) - 1, False)

    walk(tree, "", True, True)
    return "\n".join(lines)


def find_provenance_dir(path: str | os.PathLike, root: str | os.PathLike = ".") -> Path | None:
    """The ``{results_dir}/{run}/provenance`` folder that holds ``path``'s record, if any."""
    for candidate in sorted(Path(root).glob("*/*/provenance")):
        if record_path(candidate, path).is_file():
            return candidate
    return None
