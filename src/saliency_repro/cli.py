"""The package's command line: ``saliency-repro <command>``.

``readme``: rewrite the README's generated results blocks from the claims tables, so that the
prose can never drift from the numbers (``tests/test_claims.py`` checks they agree).
``lineage PATH [--verify]``: print the jobs and files that made an artifact, down to the raw
files, and with ``--verify`` recompute every sha256 on the chain.
``study serve|export``: host the crowd study and export its answers (:mod:`saliency_repro.study`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from saliency_repro.claims import README_BEGIN, README_END, readme_block, replace_readme_block

#: README block name -> the generated table it is rendered from (relative to the repository):
#: a claims table (``.csv``, rendered by ``readme_block``) or any table's Markdown (``.md``,
#: embedded as written)
README_BLOCKS = {
    "lu2024-released": "paper_figures/paper/claims_lu2024_released.csv",
    "cnndm-cpu-baselines": "paper_figures/cnndm_cpu/tuckey2019/baselines_rouge_cnndm_see.md",
    "cnndm-cpu-tuckey": "paper_figures/cnndm_cpu/claims_tuckey2019.csv",
    "local-agnews-classifier": "paper_figures/local/lu2024/classifier_metrics_agnews.md",
    "local-agnews-crowd": "paper_figures/local/lu2024/significance_agnews_simulated.md",
    "local-simulator-imdb": "paper_figures/local/lu2024/simulator_validation_imdb.md",
    "local-simulator-agnews": "paper_figures/local/lu2024/simulator_validation_agnews.md",
    "bench-attribution": "benchmarks/tables/attribution_cpu.md",
    "bench-batching": "benchmarks/tables/batching_cpu.md",
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
    from saliency_repro.config import ConfigError, load_config
    from saliency_repro.preflight import preflight

    try:
        for path in args.paths:
            preflight(load_config(path), local_exec=not args.no_device)
            print(f"{path}: ok")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


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
    from saliency_repro.study.cli import register as register_study

    register_study(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
