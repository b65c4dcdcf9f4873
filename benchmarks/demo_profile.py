"""Where the demo's time goes: run ``make reproduce``'s workflow from scratch and tabulate it.

Runs the whole workflow on a config (default: the offline demo, ``config.yaml``) in a fresh
temporary working directory (so ``results/`` and ``paper_figures/`` of the checkout are never
touched and nothing is reused), then writes two generated tables:

* ``--out`` (``benchmarks/tables/demo_profile_cpu.md``): per rule with a ``benchmark:`` file,
  its jobs, wall seconds, CPU seconds and share of all job time, plus the jobs of the other rules
  (their start and end times from the provenance records every job writes, whole seconds); the
  run's total wall time and the largest peak RSS of one job. With ``--before`` (a JSON written
  by ``--save`` of an earlier run, e.g. ``benchmarks/tables/demo_profile_before.json``) the
  earlier run's seconds stand beside these, per rule.
* ``--sizing`` (``benchmarks/tables/sizing_cpu.md``): what a new dataset costs on this machine,
  per unit: seconds per training row (classifier training, the simulated crowd's reader), per
  attributed sample and method (from the ``attribute`` jobs' own per-method timers), per
  simulated crowd (one sample set) and per task, per faithfulness sample; measured on this
  run's backbone (the demo's is a tiny model trained from scratch; MiniLM costs more: rerun
  with ``--configfile configs/local.yaml``).

``--from-results DIR`` builds both tables from an earlier run's working directory instead of
running again. Wall times on a shared machine are noisy; CPU seconds beside them are less so.
Numbers are printed and written, never asserted.

    .venv/bin/python benchmarks/demo_profile.py [--cores 2] [--configfile FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
TABLES = REPO / "benchmarks" / "tables"


# ------------------------------------------------------------------------------ the run
def run_workflow(workdir: Path, cores: int, configfile: Path | None, repo: Path = REPO) -> dict:
    """Snakemake on ``configfile`` in ``workdir``; wall time and the children's peak RSS.

    ``repo``: the checkout whose Snakefile and package run (another revision's worktree for
    ``--before-revision``)."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(repo / "Snakefile"), "--directory",
           str(workdir), "--cores", str(cores)]
    if configfile:
        cmd += ["--configfile", str(configfile)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1",
           "PYTHONPATH": os.pathsep.join([str(repo / "src"), os.environ.get("PYTHONPATH", "")])}
    print("running:", " ".join(cmd), flush=True)
    t0 = time.perf_counter()
    result = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    (workdir / "snakemake.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        sys.exit(f"the workflow failed (log: {workdir / 'snakemake.log'}):\n{result.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0  # KiB -> MiB
    return {"wall_s": wall, "peak_child_rss_mb": peak, "cores": cores,
            "date": datetime.date.today().isoformat(), "cpus": os.cpu_count(),
            "config": config_name(configfile)}


def config_name(configfile: Path | None) -> str:
    """The config as the table names it: relative to the checkout, else its file name."""
    if configfile is None:
        return "config.yaml"
    path = configfile.resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name


def run_dir(workdir: Path, config: dict) -> Path:
    return workdir / config.get("results_dir", "results") / config["run"]


def figures_dir(workdir: Path, config: dict) -> Path:
    return workdir / config.get("figures_dir", "paper_figures") / config["run"]


def tree_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (the run's tables and figures), by relative path;
    the provenance records are left out (they hold times and paths by design)."""
    import hashlib

    return {str(f.relative_to(root)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(root.rglob("*"))
            if f.is_file() and "provenance" not in f.relative_to(root).parts}


def compare_trees(before: dict[str, str], after: dict[str, str]) -> dict:
    """Files identical, differing, only before, only after (two runs' ``tree_digests``)."""
    common = before.keys() & after.keys()
    return {"identical": sum(before[f] == after[f] for f in common),
            "differing": sorted(f for f in common if before[f] != after[f]),
            "only_before": sorted(before.keys() - after.keys()),
            "only_after": sorted(after.keys() - before.keys())}


def run_revision(revision: str, cores: int, configfile: Path | None, scratch: Path) -> tuple[dict, Path]:
    """Run ``revision``'s workflow (its Snakefile, package and default config) from scratch in
    ``scratch``: the "before" of a speed change, measured in the same invocation on the same
    machine as the "after". Returns the run's info and its working directory."""
    source = scratch / "source"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(source),
                    revision], check=True)
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
        workdir = scratch / "run"
        workdir.mkdir()
        info = run_workflow(workdir, cores, configfile, repo=source)
        info["revision"] = f"{revision} ({commit})"
        info["config_text"] = (configfile or source / "config.yaml").read_text()
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(source)],
                       check=False)
    return info, workdir


def checkout_revision() -> str:
    """This checkout's commit, marked when tracked files differ from it."""
    def git(*a):
        return subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" with uncommitted changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def run_summary(table: pd.DataFrame, run_info: dict, label: str) -> dict:
    """The per-rule numbers of a run as ``--save`` writes them (and ``--before`` reads them)."""
    per = table[table["rule"] != "all jobs"].set_index("rule")
    return {
        "label": label, "wall_s": run_info.get("wall_s"),
        "job_seconds": float(per["seconds"].sum()), "jobs": int(per["jobs"].sum()),
        "rules": {r: {"jobs": int(v["jobs"]), "seconds": round(float(v["seconds"]), 2),
                      "cpu_seconds": None if pd.isna(v["cpu_seconds"]) else round(float(v["cpu_seconds"]), 2)}
                  for r, v in per.iterrows()}}


# ------------------------------------------------------------------------------ reading a run
def benchmark_rows(results: Path) -> pd.DataFrame:
    """One row per job with a ``benchmark:`` file: rule, job, s, cpu_time, max_rss (MB)."""
    rows = []
    for tsv in sorted((results / "benchmarks").glob("*/*.tsv")):
        b = pd.read_csv(tsv, sep="\t")
        rows.append({"rule": tsv.parent.name, "job": tsv.stem, "s": float(b["s"].iloc[-1]),
                     "cpu_s": float(b["cpu_time"].iloc[-1]), "max_rss_mb": float(b["max_rss"].iloc[-1]),
                     "mean_load": float(b["mean_load"].iloc[-1])})
    return pd.DataFrame(rows, columns=["rule", "job", "s", "cpu_s", "max_rss_mb", "mean_load"])


def provenance_jobs(results: Path) -> pd.DataFrame:
    """One row per scripted job from its provenance records: rule, wildcards, seconds."""
    seen = {}
    for rec in (results / "provenance").rglob("*.json"):
        try:
            r = json.loads(rec.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(r, dict) or "rule" not in r or "started" not in r:
            continue
        key = (r["rule"], json.dumps(r.get("wildcards", {}), sort_keys=True))
        s = (datetime.datetime.fromisoformat(r["finished"])
             - datetime.datetime.fromisoformat(r["started"])).total_seconds()
        seen[key] = s
    return pd.DataFrame([{"rule": k[0], "wildcards": k[1], "s": v} for k, v in seen.items()],
                        columns=["rule", "wildcards", "s"])


def profile_table(bench: pd.DataFrame, prov: pd.DataFrame, before: dict | None) -> pd.DataFrame:
    """Per rule: jobs, wall and CPU seconds, share of all job time (and the earlier run's)."""
    per = bench.groupby("rule").agg(jobs=("job", "size"), seconds=("s", "sum"),
                                    cpu_seconds=("cpu_s", "sum"), peak_rss_mb=("max_rss_mb", "max"))
    others = prov[~prov["rule"].isin(per.index)]
    if len(others):
        per.loc["other rules (provenance times)"] = [len(others), float(others["s"].sum()),
                                                     float("nan"), float("nan")]
    total = per["seconds"].sum()
    per["share"] = per["seconds"] / total if total else 0.0
    per = per.sort_values("seconds", ascending=False)
    out = per.reset_index().rename(columns={"index": "rule"})
    if before:
        b = before.get("rules", {})
        out.insert(1, "seconds before", [b.get(r, {}).get("seconds") for r in out["rule"]])
        out.insert(2, "jobs before", [b.get(r, {}).get("jobs") for r in out["rule"]])
        out.insert(3, "cpu_seconds before", [b.get(r, {}).get("cpu_seconds") for r in out["rule"]])
    total_row = {"rule": "all jobs", "jobs": int(out["jobs"].sum()), "seconds": total,
                 "cpu_seconds": float(per["cpu_seconds"].sum(skipna=True)), "share": 1.0,
                 "peak_rss_mb": float(per["peak_rss_mb"].max(skipna=True))}
    if before:
        total_row["seconds before"] = before.get("job_seconds")
        total_row["jobs before"] = before.get("jobs")
        total_row["cpu_seconds before"] = sum(v.get("cpu_seconds") or 0.0 for v in b.values())
    return pd.concat([out, pd.DataFrame([total_row])], ignore_index=True)


def fmt(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    for c in t.columns:
        if c in ("seconds", "seconds before", "cpu_seconds", "cpu_seconds before", "peak_rss_mb"):
            t[c] = t[c].map(lambda v: "" if v is None or pd.isna(v) else f"{v:.0f}")
        elif c == "share":
            t[c] = t[c].map(lambda v: f"{100 * v:.0f}%")
        elif c in ("jobs", "jobs before"):
            t[c] = t[c].map(lambda v: "" if v is None or pd.isna(v) else f"{int(v)}")
    return t


# ------------------------------------------------------------------------------ sizing
def sizing_table(results: Path, config: dict, bench: pd.DataFrame) -> pd.DataFrame:
    """Seconds per unit of work, from the benchmark files and the attribute diagnostics."""
    rows = []

    def add(stage, unit, seconds, units, note="", cpu=None):
        if units:
            rows.append({"stage": stage, "unit": unit, "seconds per unit": seconds / units,
                         "CPU seconds per unit": None if cpu is None else cpu / units,
                         "measured over": f"{units:g} {unit}s", "note": note})

    def train_rows(ds):
        f = results / "data" / ds / "train.parquet"
        return len(pd.read_parquet(f, columns=["label"])) if f.is_file() else 0

    epochs = config.get("classifier", {}).get("epochs")
    model = config.get("classifier", {}).get("model", {})
    backbone = model.get("name_or_path") or model.get("type", "?")
    for rule, unit, note in [
        ("train_classifier", "training row", f"{epochs} epochs, backbone {backbone}"),
        ("crowd_reader", "training row", "the simulated crowd's reader (fitted once per dataset)"),
    ]:
        b = bench[bench["rule"] == rule]
        n = sum(train_rows(job) for job in b["job"])  # both rules' jobs are named by dataset
        add(rule, unit, float(b["s"].sum()), n, note, float(b["cpu_s"].sum()))
    # attribute: per method and sample from the job's own timers; the rest is the job's fixed cost
    a = bench[bench["rule"] == "attribute"]
    per_method, samples, fixed = {}, 0, 0.0
    for job in a.itertuples():
        ds, sample_set = job.job.rsplit("_", 1)
        diag_file = results / "saliency" / ds / sample_set / "diagnostics.json"
        if not diag_file.is_file():
            continue
        diag = json.loads(diag_file.read_text())
        n = int(diag.get("n_samples", 0))
        samples += n
        for m, s in diag.get("seconds", {}).items():
            per_method[m] = per_method.get(m, 0.0) + s
        fixed += job.s - sum(diag.get("seconds", {}).values())
    for m, s in sorted(per_method.items(), key=lambda kv: -kv[1]):
        add(f"attribute: {m}", "attributed sample", s, samples,
            f"IG {config.get('saliency', {}).get('ig_steps')} steps" if m == "integrated_gradients" else "")
    if len(a):
        add("attribute: start-up", "job", fixed, len(a), "imports, model load, tokenization")
    crowd = bench[bench["rule"] == "crowd_answers"]
    n_tasks = 0
    for job in crowd.itertuples():
        ds, sample_set, _source = re.fullmatch(r"(.+)_(correct|misclassified)_(.+)", job.job).groups()
        t = results / "crowd" / ds / sample_set / "design" / "tasks.parquet"
        n_tasks += len(pd.read_parquet(t, columns=["task_id"])) if t.is_file() else 0
    add("crowd_answers", "simulated crowd", float(crowd["s"].sum()), len(crowd),
        "one sample set, R workers per task (the reader is loaded, not fitted)",
        float(crowd["cpu_s"].sum()))
    add("crowd_answers", "task", float(crowd["s"].sum()), n_tasks, "", float(crowd["cpu_s"].sum()))
    for rule, unit in [("crowd_expert_check", "job"), ("crowd_significance", "job"),
                       ("faithfulness_metrics", "job"), ("train_summarizer", "job")]:
        b = bench[bench["rule"] == rule]
        add(rule, unit, float(b["s"].sum()), len(b), "", float(b["cpu_s"].sum()))
    return pd.DataFrame(rows, columns=["stage", "unit", "seconds per unit", "CPU seconds per unit",
                                       "measured over", "note"])


# ------------------------------------------------------------------------------ driver
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--configfile", type=Path, help="default: the demo (config.yaml)")
    parser.add_argument("--keep", type=Path, help="run in this directory and keep it")
    parser.add_argument("--from-results", type=Path, help="tabulate this earlier run's working directory")
    parser.add_argument("--before", type=Path, default=TABLES / "demo_profile_before.json",
                        help="an earlier run's --save JSON, shown beside this run (if present)")
    parser.add_argument("--before-revision", metavar="REV",
                        help="first run git revision REV's workflow from scratch (same machine, same "
                             "invocation) and show it beside this run, with a byte comparison of "
                             "the two runs' tables and figures")
    parser.add_argument("--save", type=Path, help="write this run's per-rule numbers as JSON")
    parser.add_argument("--out", type=Path, default=TABLES / "demo_profile_cpu.md")
    parser.add_argument("--sizing", type=Path, default=TABLES / "sizing_cpu.md")
    args = parser.parse_args()

    config_path = args.configfile or REPO / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    run_info: dict = {}
    before, outputs_note = None, ""
    if args.before_revision:
        if args.from_results:
            sys.exit("--before-revision runs the workflow: not with --from-results")
        scratch = Path(tempfile.mkdtemp(prefix="demo_profile_before_"))
        try:
            info, before_dir = run_revision(args.before_revision, args.cores, args.configfile, scratch)
            before_config = yaml.safe_load(info.pop("config_text"))
            b_results = run_dir(before_dir, before_config)
            before = run_summary(profile_table(benchmark_rows(b_results), provenance_jobs(b_results),
                                               None), info, f"revision {info['revision']}")
            before_tree = tree_digests(figures_dir(before_dir, before_config))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.from_results:
        workdir = args.from_results.resolve()
        info_file = workdir / "demo_profile_run.json"
        run_info = json.loads(info_file.read_text()) if info_file.is_file() else {}
    else:
        workdir = (args.keep or Path(tempfile.mkdtemp(prefix="demo_profile_"))).resolve()
        if args.keep and workdir.exists() and any(workdir.iterdir()):
            sys.exit(f"{workdir}: not empty (the profile runs from scratch)")
        workdir.mkdir(parents=True, exist_ok=True)
        run_info = run_workflow(workdir, args.cores, args.configfile)
        run_info["revision"] = checkout_revision()
        (workdir / "demo_profile_run.json").write_text(json.dumps(run_info, indent=1))
    results = run_dir(workdir, config)
    bench = benchmark_rows(results)
    prov = provenance_jobs(results)
    if before is None and args.before and args.before.is_file():
        before = json.loads(args.before.read_text())
    if args.before_revision:
        cmp = compare_trees(before_tree, tree_digests(figures_dir(workdir, config)))
        changed = cmp["differing"] + cmp["only_before"] + cmp["only_after"]
        outputs_note = (f"; outputs: {cmp['identical']} of {cmp['identical'] + len(changed)} "
                        f"tables and figures byte-identical to the before run"
                        + (f", changed: {', '.join(changed)}" if changed else ""))
        print(json.dumps(cmp, indent=1))
    table = profile_table(bench, prov, before)
    peak = bench.loc[bench["max_rss_mb"].idxmax()] if len(bench) else None
    head = (f"Demo profile (`benchmarks/demo_profile.py`, {run_info.get('config', config_path.name)} "
            f"from scratch, --cores {run_info.get('cores', '?')}"
            + (f", revision {run_info['revision']}" if run_info.get("revision") else "") + "): wall time "
            f"{run_info.get('wall_s', float('nan')) / 60:.1f} min; peak RSS of one job "
            f"{(peak['max_rss_mb'] / 1024) if peak is not None else float('nan'):.2f} GiB "
            f"({peak['rule'] if peak is not None else '?'}); mean load of the jobs "
            f"{bench['mean_load'].mean() if len(bench) else float('nan'):.0f}% of a core; "
            f"{run_info.get('cpus', os.cpu_count())} CPUs, {run_info.get('date', datetime.date.today())}. "
            "seconds: wall seconds of the rule's jobs (Snakemake benchmark: files), cpu_seconds: "
            "their CPU time")
    if before:
        b_wall = before.get("wall_s") or float("nan")
        head += (f"; before: {before.get('label', 'an earlier run')} (wall {b_wall / 60:.1f} min; "
                 f"this run takes {run_info.get('wall_s', float('nan')) / b_wall:.2f}x its wall time)")
    head += outputs_note
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(head + "\n\n" + fmt(table).to_markdown(index=False) + "\n", encoding="utf-8")
    print(args.out.read_text())
    sizing = sizing_table(results, config, bench)
    for col in ("seconds per unit", "CPU seconds per unit"):
        sizing[col] = sizing[col].map(lambda v: "" if v is None or pd.isna(v) else f"{v:.3g}")
    args.sizing.write_text(
        f"Sizing (`benchmarks/demo_profile.py`, from the benchmark files of the run above: "
        f"{run_info.get('config', config_path.name)}, --cores {run_info.get('cores', '?')}, "
        f"{run_info.get('date', datetime.date.today())}): wall seconds per unit of work on this "
        f"machine; a new dataset costs about these times its rows, samples x methods and crowds, "
        f"plus the start-up of each job (attribute: per-method timers inside the job, wall). "
        f"Mean load of the jobs {bench['mean_load'].mean() if len(bench) else float('nan'):.0f}% "
        f"of a core: below 100% the machine was shared and wall seconds overstate the cost.\n\n"
        + sizing.to_markdown(index=False) + "\n", encoding="utf-8")
    print(args.sizing.read_text())
    if args.save:
        summary = run_summary(table, run_info, f"{run_info.get('date', '')} run")
        args.save.write_text(json.dumps(summary, indent=1) + "\n")
    if not args.keep and not args.from_results:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
