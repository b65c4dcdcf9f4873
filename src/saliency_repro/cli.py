"""The package's command line: ``saliency-repro <command>``.

``readme``: rewrite the README's generated results blocks from the claims tables, so that the
prose can never drift from the numbers (``tests/test_claims.py`` checks they agree).
``lineage PATH [--verify]``: print the jobs and files that made an artifact, down to the raw
files, and with ``--verify`` recompute every sha256 on the chain.
``check-config FILE...``: every check the workflow makes at start, on config files.
``run [snakemake arguments]``: the workflow, through one entry point whose input errors are one
line naming the key, or the file and line: Snakemake's own parsers of ``--config`` and
``--configfile`` print Python tracebacks before the workflow loads (a dotted key, an unclosed
bracket, a symlink loop, a target placed after ``--configfile``), so ``run`` reads them first,
runs every start-up check of the workflow, and only then starts Snakemake with the same
arguments.
``compare PUBLISHED REGENERATED``: does a regeneration agree with the published artifacts
(``saliency_repro.regeneration``); exits non-zero when a verdict, rank or significance decision
differs or an artifact is missing.
``study serve|export``: host the crowd study and export its answers (:mod:`saliency_repro.study`).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from saliency_repro.claims import README_BEGIN, README_END, readme_block, replace_readme_block
from saliency_repro.config import REPO_ROOT, ConfigError
from saliency_repro.regeneration import Tolerances

#: README block name -> the generated table it is rendered from (relative to the repository):
#: a claims table (``.csv``, rendered by ``readme_block``) or any table's Markdown (``.md``,
#: embedded as written)
README_BLOCKS = {
    "lu2024-released": "paper_figures/paper/claims_lu2024_released.csv",
    "cnndm-cpu-baselines": "paper_figures/cnndm_cpu/tuckey2019/baselines_rouge_cnndm_see.md",
    "cnndm-cpu-tuckey": "paper_figures/cnndm_cpu/claims_tuckey2019.csv",
    "local-imdb-overlap": "paper_figures/local/lu2024/method_overlap_imdb.md",
    "local-imdb-pairs": "paper_figures/local/lu2024/method_pairs_imdb.md",
    "local-agnews-overlap": "paper_figures/local/lu2024/method_overlap_agnews.md",
    "local-imdb-classifier": "paper_figures/local/lu2024/classifier_metrics_imdb.md",
    "local-agnews-classifier": "paper_figures/local/lu2024/classifier_metrics_agnews.md",
    "local-claims": "paper_figures/local/claims_lu2024_simulated.csv",
    "local-simulator-imdb": "paper_figures/local/lu2024/simulator_validation_imdb.md",
    "local-simulator-agnews": "paper_figures/local/lu2024/simulator_validation_agnews.md",
    "bench-attribution": "benchmarks/tables/attribution_cpu.md",
    "bench-batching": "benchmarks/tables/batching_cpu.md",
    "bench-deeplift-pooler": "benchmarks/tables/deeplift_pooler_cpu.md",
    "bench-study-load": "benchmarks/tables/study_load_cpu.md",
    "compare-isa": "benchmarks/tables/compare_isa_cpu.md",
    "bench-demo-profile": "benchmarks/tables/demo_profile_cpu.md",
    "bench-sizing": "benchmarks/tables/sizing_cpu.md",
    "isa-training-step": "benchmarks/tables/isa_training_step_cpu.md",
}


def render_block(name: str, table: str, root: Path) -> str:
    """The README block ``name`` from its generated table."""
    path = root / table
    if not path.is_file():
        raise SystemExit(f"{path}: missing; run the target that writes it first (see README)")
    if path.suffix == ".md":
        return "\n".join([README_BEGIN.format(name=name, path=table), "",
                          path.read_text(encoding="utf-8").strip(), "", README_END.format(name=name)])
    return readme_block(pd.read_csv(path), name, table)


def _readme(args: argparse.Namespace) -> int:
    root = Path(args.root)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name, table in README_BLOCKS.items():
        text = replace_readme_block(text, render_block(name, table, root), name)
    readme.write_text(text, encoding="utf-8")
    print(f"{readme}: {len(README_BLOCKS)} generated block(s) rewritten")
    return 0


def _lineage(args: argparse.Namespace) -> int:
    import json

    from saliency_repro.provenance import find_provenance_dir, lineage, render_tree, verify

    prov = Path(args.provenance_dir) if args.provenance_dir else find_provenance_dir(args.path)
    if prov is None:
        raise SystemExit(f"{args.path}: no provenance record found under */*/provenance "
                         f"(run from the workflow's working directory, or give --provenance-dir)")
    tree = lineage(prov, args.path)
    print(json.dumps(tree, indent=1) if args.json else render_tree(tree))
    if args.verify:
        problems = verify(tree)
        print("\nverify: " + ("every file on the chain is unchanged" if not problems
                               else f"{len(problems)} file(s) changed since they were recorded"))
        for p in problems:
            print(f"  {p}")
        return 1 if problems else 0
    return 0


def _check_config(args: argparse.Namespace) -> int:
    """What the workflow checks at start, for config files Snakemake itself reads first: a YAML
    syntax error in a ``--configfile`` reaches the user as Snakemake's "Config file is not valid
    JSON or YAML", without file or line."""
    from saliency_repro.config import ignored_key_warnings, read_config_file, validate_config
    from saliency_repro.preflight import preflight

    try:
        for path in args.paths:
            config = read_config_file(path)
            warnings = ignored_key_warnings(config)
            warnings += preflight(validate_config(config), local_exec=not args.no_device)
            for warning in warnings:
                print(f"warning: {warning}", file=sys.stderr)
            print(f"{path}: ok")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


#: Snakemake's rule for a ``--config`` key (snakemake.cli.parse_config)
_CONFIG_KEY = re.compile(r"[a-zA-Z_][\w-]*\w$")
#: options whose values follow as separate words (Snakemake reads them with nargs="+" or "*")
_CONFIGFILE_OPTS = ("--configfile", "--configfiles")
_CONFIG_OPTS = ("--config", "-C")


def split_config_arguments(argv: list[str]) -> tuple[list[str], list[str], bool]:
    """(config files, ``--config`` entries, whether a cluster executor or profile is named) of
    a Snakemake command line, as Snakemake's parser takes them: the words after
    ``--configfile`` or ``--config`` belong to it until the next option (so a target written
    after them is read as a config file or entry), ``--option=value`` holds one value."""
    files: list[str] = []
    entries: list[str] = []
    remote = False
    current: list[str] | None = None
    previous = ""
    for word in argv:
        if word.startswith("-") and len(word) > 1:
            option, eq, value = word.partition("=")
            current = files if option in _CONFIGFILE_OPTS else entries if option in _CONFIG_OPTS else None
            if eq:
                if current is not None:
                    current.append(value)
                current = None
                remote = remote or _remote(option, value)
                previous = ""
            else:
                previous = option
            continue
        remote = remote or _remote(previous, word)
        previous = ""
        if current is not None:
            current.append(word)
    return files, entries, remote


def _remote(option: str, value: str) -> bool:
    """Whether ``option value`` sends jobs elsewhere (the GPU is then checked on the node)."""
    if option in ("--executor", "-e"):
        return value not in ("local", "dryrun", "touch")
    return option in ("--profile", "--workflow-profile") and "slurm" in value


def parse_config_entry(entry: str) -> dict[str, Any]:
    """One ``--config KEY=VALUE`` as Snakemake reads it (its YAML base loader: every value a
    string, which the config check then coerces), with a one-line error naming the entry."""
    key, eq, value = entry.partition("=")
    if not eq or not key:
        raise ConfigError(f"--config {entry!r}: not KEY=VALUE" + (
            "; a target written after --config is read as a config entry: put targets before "
            "--config" if not eq else ""))
    if "." in key:
        top, _, rest = key.partition(".")
        nested = "{" + ": {".join(rest.split(".")) + f": {value}" + "}" * (rest.count(".") + 1)
        raise ConfigError(f"--config {entry!r}: a dotted key is not understood; nest the value: "
                          f"--config \"{top}={nested}\"")
    if not _CONFIG_KEY.match(key):
        raise ConfigError(f"--config {entry!r}: {key!r} is not a config key (letters, digits, _)")
    if value.lstrip()[:1] in ("{", "["):
        try:
            parsed = yaml.load(value, Loader=yaml.BaseLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at character {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise ConfigError(f"--config {entry!r}: not valid YAML{where}: {problem} (an "
                              f"unclosed bracket or brace?)") from None
        return {key: parsed}
    from snakemake.cli import parse_config

    try:
        return parse_config([entry])
    except ValueError as exc:
        raise ConfigError(f"--config {entry!r}: {exc}") from None


def check_command_line(argv: list[str], root: Path = REPO_ROOT) -> list[str]:
    """Everything the workflow checks at start, for a Snakemake command line; raise
    :class:`ConfigError` (one line) or return the warnings."""
    from saliency_repro.config import (
        check_command_line_overrides,
        deep_merge,
        ignored_key_warnings,
        read_config_file,
        validate_config,
    )
    from saliency_repro.preflight import preflight

    files, entries, remote = split_config_arguments(argv)
    config: dict[str, Any] = {}
    for name in files or [str(root / "config.yaml")]:
        path = Path(name)
        try:
            path.stat()
        except FileNotFoundError:
            raise ConfigError(f"--configfile {name}: does not exist" + (
                "" if path.suffix in (".yaml", ".yml", ".json") else
                "; a target written after --configfile is read as a config file: put targets "
                "before --configfile")) from None
        except OSError as exc:  # a symlink loop, a path too long
            raise ConfigError(f"--configfile {name}: {exc.strerror or exc}") from None
        if path.is_dir():
            raise ConfigError(f"--configfile {name}: is a directory")
        config = deep_merge(config, read_config_file(path))
    overrides: dict[str, Any] = {}
    for entry in entries:
        overrides = deep_merge(overrides, parse_config_entry(entry))
    check_command_line_overrides(overrides)
    config = deep_merge(config, overrides)
    warnings = ignored_key_warnings(config)
    return warnings + preflight(validate_config(config), local_exec=not remote)


def _snakemake(argv: list[str]) -> int:
    """Snakemake itself, with the arguments as given."""
    return subprocess.call([sys.executable, "-m", "snakemake", *argv])


def _run(args: argparse.Namespace) -> int:
    argv = list(args.snakemake_args)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    try:
        warnings = check_command_line(argv)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return _snakemake(argv)


def _compare(args: argparse.Namespace) -> int:
    from saliency_repro.regeneration import (
        CompareError,
        compare_trees,
        open_tree,
        summary_text,
        write_report,
    )

    tol = Tolerances(percent_atol=args.percent_atol, score_atol=args.score_atol,
                     p_log10_tol=args.p_log10_tol, alpha=args.alpha)
    try:
        with open_tree(args.regenerated) as (regenerated, reg_name), \
                open_tree(args.published, other=args.regenerated) as (published, pub_name):
            comp = compare_trees(published, regenerated, tol, pub_name, reg_name)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary_text(comp, args.worst))
    stem = Path(args.out) if args.out else Path("results") / "compare" / Path(args.regenerated).name
    written = write_report(comp, stem, args.worst)
    print("written: " + ", ".join(str(p) for p in written))
    return 1 if comp.failing() else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="saliency-repro", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("readme", help="rewrite the README's results blocks from the claims tables")
    p.add_argument("--root", default=".", help="repository root (default: .)")
    p.set_defaults(func=_readme)
    p = sub.add_parser("lineage", help="the jobs and files that made an artifact")
    p.add_argument("path", help="an output file, as the workflow names it (relative to its working directory)")
    p.add_argument("--verify", action="store_true", help="recompute every sha256 on the chain")
    p.add_argument("--json", action="store_true", help="print the tree as JSON")
    p.add_argument("--provenance-dir", help="default: the */*/provenance folder holding the record")
    p.set_defaults(func=_lineage)
    p = sub.add_parser("check-config", help="check config files as the workflow does, naming file and line")
    p.add_argument("paths", nargs="+", help="YAML config files (each checked on its own)")
    p.add_argument("--no-device", action="store_true", help="do not check that the configured GPU exists here")
    p.set_defaults(func=_check_config)
    p = sub.add_parser("run", help="check the command line's config as the workflow does (one-line "
                                   "errors), then run Snakemake with the same arguments",
                       prefix_chars="+")
    p.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="Snakemake's arguments, as given to snakemake")
    p.set_defaults(func=_run)
    p = sub.add_parser("compare", help="does a regeneration agree with the published tables and figures?")
    p.add_argument("published", help="a paper_figures/{run} tree, or a git revision: REV (the same path as "
                   "REGENERATED) or REV:PATH")
    p.add_argument("regenerated", help="the regenerated paper_figures/{run} tree")
    tol = Tolerances()
    p.add_argument("--percent-atol", type=float, default=tol.percent_atol,
                   help="percentages, absolute, in points (default %(default)s)")
    p.add_argument("--score-atol", type=float, default=tol.score_atol,
                   help="other numbers, absolute (default %(default)s)")
    p.add_argument("--p-log10-tol", type=float, default=tol.p_log10_tol,
                   help="p-values, absolute on the log10 scale (default %(default)s)")
    p.add_argument("--alpha", type=float, default=tol.alpha, help="a p-value on the other side of it is a "
                   "changed significance decision (default %(default)s)")
    p.add_argument("--worst", type=int, default=10, help="how many of the worst cells to print (default %(default)s)")
    p.add_argument("--out", help="stem of the written tables: STEM.csv, STEM_cells.csv, STEM.md "
                   "(default results/compare/<run>)")
    p.set_defaults(func=_compare)
    from saliency_repro.study.cli import register as register_study

    register_study(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
