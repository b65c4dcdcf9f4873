"""Emulate a second CPU type: run the same workflow under other vector instruction sets.

The README admits that the same code on two CPU types trained slightly different topic
classifiers. This script reruns the demo (by default the reduced demo config of
``tests/test_workflow.py``) once per setting, each in its own working directory
(``results/`` and ``paper_figures/`` of its own), with environment variables that change
which kernels PyTorch, MKL and oneDNN pick:

- ``native``: nothing set (this CPU's best: AVX2 here);
- ``aten-default``: ``ATEN_CPU_CAPABILITY=default``, ATen's non-vectorized kernels (another
  rounding of reductions, softmax, elementwise ops); MKL's GEMM and oneDNN are unchanged;
- ``*-cbwr``: the same plus MKL's conditional numerical reproducibility
  (``MKL_CBWR=COMPATIBLE``, SSE2 code paths in MKL) and oneDNN limited to SSE4.1
  (``ONEDNN_MAX_CPU_ISA=SSE41``): what a user would set to make results independent of the CPU.

It prints and writes (``--table``) the wall-clock time and the summed CPU time of the jobs of
each run (Snakemake's ``benchmark:`` files); comparing the trees is left to
``saliency-repro compare`` (see ``docs/compare_readme.md``). Nothing is asserted: timings on a
shared machine are noisy.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]

CBWR = {"MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}
SETTINGS: dict[str, dict[str, str]] = {
    "native": {},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "native-cbwr": dict(CBWR),
    "aten-default-cbwr": {"ATEN_CPU_CAPABILITY": "default", **CBWR},
}


def reduced_config() -> dict:
    """The reduced demo config exactly as the end-to-end test builds it (one source of truth)."""
    from saliency_repro.config import deep_merge

    spec = importlib.util.spec_from_file_location("_test_workflow", REPO / "tests" / "test_workflow.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return deep_merge(yaml.safe_load((REPO / "config.yaml").read_text()), module.REDUCED)


def job_cpu_seconds(workdir: Path) -> float:
    """Summed ``cpu_time`` of every job's Snakemake benchmark file (0 when none was written)."""
    total = 0.0
    for tsv in workdir.glob("results/*/benchmarks/**/*.tsv"):
        frame = pd.read_csv(tsv, sep="\t")
        if "cpu_time" in frame:
            total += float(pd.to_numeric(frame["cpu_time"], errors="coerce").fillna(0).sum())
    return total


def model_hashes(workdir: Path) -> str:
    """sha256 (first 12 hex digits) of each trained classifier's weights, by dataset."""
    import hashlib

    out = []
    for weights in sorted(workdir.glob("results/*/models/*/classifier/model.safetensors")):
        out.append(f"{weights.parent.parent.name} {hashlib.sha256(weights.read_bytes()).hexdigest()[:12]}")
    return ", ".join(out)


def run_setting(name: str, env_extra: dict[str, str], root: Path, config: Path | None,
                cores: int, targets: list[str]) -> dict:
    workdir = root / name
    workdir.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
            str(workdir), "--cores", str(cores), *targets]
    if config is not None:
        args += ["--configfile", str(config)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1", **env_extra}
    start = time.perf_counter()
    with open(workdir / "snakemake.log", "w") as log:
        result = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{name}: snakemake failed (exit {result.returncode}); see {workdir / 'snakemake.log'}")
    return timing(name, env_extra, workdir, wall)


def timing(name: str, env_extra: dict[str, str], workdir: Path, wall: float | None) -> dict:
    """One row of the table; written beside the run as ``timing.json`` so that settings run in
    parallel (separate invocations) can be collected into one table afterwards."""
    import json

    row = {"setting": name,
           "environment": " ".join(f"{k}={v}" for k, v in env_extra.items()) or "(none)",
           "wall_s": round(wall, 1) if wall is not None else "", "job_cpu_s": round(job_cpu_seconds(workdir), 1),
           "classifier_weights_sha256": model_hashes(workdir)}
    (workdir / "timing.json").write_text(json.dumps(row))
    return row


def write_subset_index(trees: list[Path]) -> list[str]:
    """Write into each tree the demo's ``index.csv`` restricted to the artifacts every tree holds,
    for runs stopped after some artifacts (``--targets``): ``compare`` then judges those alone
    instead of calling the rest missing."""
    from saliency_repro.index import files_of
    from saliency_repro.regeneration import tree_relative

    index = pd.read_csv(REPO / "paper_figures" / "demo" / "index.csv", keep_default_na=False)
    keep = [r for r in index.to_dict("records") if r["path"] and all(
        (t / tree_relative(f, t)).is_file() for t in trees for f in files_of(r))]
    for tree in trees:
        pd.DataFrame(keep, columns=index.columns).to_csv(tree / "index.csv", index=False)
    return [r["path"] for r in keep]


def training_table(workdirs: list[Path], dataset: str) -> str:
    """One row per setting's working directory: the workflow's ``train_classifier`` job for
    ``dataset`` (its last logged epoch) and the sha256 of the weights it wrote. No time: these
    runs were stopped and resumed from checkpoints under very different loads; the cost of a
    setting is measured by ``benchmarks/isa_training_step.py``."""
    import ast
    import hashlib

    lines = ["| setting | environment | last epoch: train loss, validation accuracy "
             "| weights sha256 |", "| --- | --- | --- | --- |"]
    for workdir in workdirs:
        run = next(workdir.glob("results/*"))
        epochs = [ast.literal_eval(line.split("epoch ", 1)[1]) for line in
                  (run / "logs" / "train_classifier" / f"{dataset}.log").read_text().splitlines() if "epoch {" in line]
        last = epochs[-1] if epochs else {}
        weights = run / "models" / dataset / "classifier" / "model.safetensors"
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12] if weights.is_file() else "(not trained)"
        env = " ".join(f"`{k}={v}`" for k, v in SETTINGS.get(workdir.name, {}).items()) or "(none)"
        lines.append(f"| {workdir.name} | {env} | epoch {last.get('epoch')}: {last.get('train_loss')!r}, "
                     f"{last.get('validation_accuracy')} | {digest} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(REPO / "results" / "isa"), help="one working directory per setting under it")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--full", action="store_true", help="the full demo (config.yaml) instead of the reduced one")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--targets", nargs="*", default=[], help="Snakemake targets (default: the whole DAG), "
                        "e.g. the classifiers alone: results/demo/models/topic/classifier")
    parser.add_argument("--table", default=None, help="also write the timings of every setting run under "
                        "--root (this invocation's and earlier ones') as Markdown here")
    parser.add_argument("--collect", action="store_true", help="run nothing; write --table from earlier runs")
    parser.add_argument("--subset-index", nargs="+", metavar="TREE", help="run nothing; write into each "
                        "paper_figures/demo TREE the demo's index restricted to the artifacts all of them hold")
    parser.add_argument("--training-table", nargs="+", metavar="WORKDIR", help="run nothing; print (and write "
                        "to --table) the sentiment classifier's training in each setting's working directory")
    args = parser.parse_args(argv)
    if args.training_table:
        text = ("The demo's sentiment classifier trained by the workflow (reduced demo config) under each "
                "setting (`benchmarks/isa_regeneration.py --training-table`)\n\n"
                + training_table([Path(w) for w in args.training_table], "sentiment") + "\n")
        print(text)
        if args.table:
            Path(args.table).write_text(text)
        return 0
    if args.subset_index:
        print("\n".join(write_subset_index([Path(t) for t in args.subset_index])))
        return 0

    root = Path(args.root)
    root.mkdir(parents=True, exist_ok=True)
    config = None
    if not args.full:
        config = root / "reduced.yaml"
        config.write_text(yaml.safe_dump(reduced_config()))
    for name in [] if args.collect else args.settings:
        print(run_setting(name, SETTINGS[name], root, config, args.cores, args.targets), flush=True)
    import json

    rows = [json.loads((root / name / "timing.json").read_text()) for name in SETTINGS
            if (root / name / "timing.json").is_file()]
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False))
    if args.table:
        import torch

        what = f"targets {' '.join(args.targets)}" if args.targets else "all artifacts"
        caption = (f"Demo ({'full' if args.full else 'reduced'}, {what}) under other instruction sets, "
                   f"`benchmarks/isa_regeneration.py`; {platform.processor() or platform.machine()}, "
                   f"{os.cpu_count()} CPUs, --cores {args.cores}, torch {torch.__version__} "
                   f"(native capability {torch.backends.cpu.get_cpu_capability()}), {date.today()}; "
                   "one run each, wall-clock on a shared machine")
        Path(args.table).parent.mkdir(parents=True, exist_ok=True)
        Path(args.table).write_text(caption + "\n\n" + frame.to_markdown(index=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
