"""The package's command line: ``saliency-repro <command>``.

``readme``: rewrite the README's generated results blocks from the claims tables, so that the
prose can never drift from the numbers (``tests/test_claims.py`` checks they agree).
``lineage PATH [--verify]``: print the jobs and files that made an artifact, down to the raw
files, and with ``--verify`` recompute every sha256 on the chain.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from saliency_repro.claims import readme_block, replace_readme_block

#: README block name -> the claims table it is rendered from (relative to the repository)
README_BLOCKS = {"lu2024-released": "paper_figures/paper/claims_lu2024_released.csv"}


def _readme(args: argparse.Namespace) -> int:
    root = Path(args.root)
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name, table in README_BLOCKS.items():
        path = root / table
        if not path.is_file():
            raise SystemExit(f"{path}: missing; run `make released` first")
        text = replace_readme_block(text, readme_block(pd.read_csv(path), name, table), name)
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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
