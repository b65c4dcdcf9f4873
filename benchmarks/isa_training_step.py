"""Which settings make the demo classifier's training byte-identical across instruction sets,
and what do they cost?

A whole demo per setting takes far longer than this question needs: what diverges between CPU
types is the float32 training of the classifiers (everything downstream is a function of the
trained weights and seeded draws). So this trains the demo's from-scratch BERT classifier
(``config.yaml``'s ``classifier.model``: 2 layers, 64 wide, batch 16, 128 tokens, AdamW at
1e-3) for a fixed number of steps on seeded synthetic token ids, once per setting, each in a
fresh process (the environment variables are read when torch loads), and compares the loss
after every step and the sha256 of the final weights. In each round the settings run side by side so
that they share the machine's load; CPU time (``time.process_time``, all threads) is steadier than
wall-clock on a shared machine. Nothing is asserted.

Settings (the first two emulate two CPU types; the others are what a user can pin):

- ``native``: this CPU's kernels (ATen's AVX2 here, MKL's and oneDNN's own dispatch);
- ``aten-default``: ``ATEN_CPU_CAPABILITY=default``, ATen's non-vectorized kernels;
- ``native-cbwr`` / ``aten-default-cbwr``: plus ``MKL_CBWR=COMPATIBLE`` (MKL's conditional
  numerical reproducibility) and ``ONEDNN_MAX_CPU_ISA=SSE41``;
- ``aten-default-cbwr-mkl-sse42``: the pinned setting on an emulated CPU whose MKL has only
  SSE4.2 (``MKL_ENABLE_INSTRUCTIONS=SSE4_2``): does pinning hide that CPU difference?
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

CBWR = {"MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"}
SETTINGS: dict[str, dict[str, str]] = {
    "native": {},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "native-cbwr": dict(CBWR),
    "aten-default-cbwr": {"ATEN_CPU_CAPABILITY": "default", **CBWR},
    "aten-default-cbwr-mkl-sse42": {"ATEN_CPU_CAPABILITY": "default", **CBWR, "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}


def worker(steps: int, threads: int, save: str | None = None) -> dict:
    """Train the demo classifier's architecture for ``steps`` steps; losses, weights hash, CPU s."""
    import hashlib
    import time

    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=3000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=128, num_labels=4)
    model = BertForSequenceClassification(config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randint(5, 3000, (16, 128), generator=gen), torch.randint(0, 4, (16,), generator=gen))
               for _ in range(steps)]
    losses = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model.train()
    for ids, labels in batches:
        out = model(input_ids=ids, labels=labels)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    if save:
        import numpy as np

        np.savez(save, **{k: v.detach().numpy() for k, v in model.state_dict().items()})
    return {"capability": torch.backends.cpu.get_cpu_capability(), "losses": losses,
            "sha256": digest.hexdigest(), "cpu_s": cpu, "wall_s": wall}


def first_difference(a: list[float], b: list[float]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y:
            return f"step {i + 1} ({abs(x - y):.1e})"
    return "none"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (the demo's max_threads is 2)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--table", help="write the result as Markdown here")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.steps, args.threads, args.save)))
        return 0

    import tempfile

    import numpy as np

    tmp = tempfile.TemporaryDirectory(prefix="isa-step-")
    runs: dict[str, list[dict]] = {name: [] for name in args.settings}
    for round_ in range(args.rounds):
        # one round's settings run side by side: they share whatever else loads the machine
        procs = {name: subprocess.Popen([sys.executable, __file__, "--worker", "--steps", str(args.steps),
                                         "--threads", str(args.threads), "--save", f"{tmp.name}/{name}-{round_}.npz"],
                                        env={**os.environ, **SETTINGS[name]},
                                        stdout=subprocess.PIPE, text=True)
                 for name in args.settings}
        for name, proc in procs.items():
            out, _ = proc.communicate()
            if proc.returncode != 0:
                raise SystemExit(f"{name}: worker failed (exit {proc.returncode})")
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
            print(name, runs[name][-1]["sha256"][:12], f"{runs[name][-1]['cpu_s']:.2f} cpu s", flush=True)
    ref = runs[args.settings[0]][0]
    ref_weights = np.load(f"{tmp.name}/{args.settings[0]}-0.npz")

    def weight_difference(name: str) -> str:
        """Largest |difference| from the reference's weights, and the share of weights that differ."""
        w = np.load(f"{tmp.name}/{name}-0.npz")
        diff = max(float(np.abs(w[k] - ref_weights[k]).max()) for k in ref_weights.files)
        share = sum(int((w[k] != ref_weights[k]).sum()) for k in ref_weights.files) / sum(
            ref_weights[k].size for k in ref_weights.files)
        return f"{diff:.1e} ({share:.0%} of weights)"

    native_cpu = statistics.median(r["cpu_s"] for r in runs[args.settings[0]])
    lines = ["| setting | environment | ATen kernels | repeatable (all rounds same weights) | weights sha256 "
             f"| same weights as {args.settings[0]} | max weight difference | first loss differing from {args.settings[0]} "
             f"| loss after step {args.steps} | CPU s (median of {args.rounds}) | CPU vs {args.settings[0]} |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in args.settings:
        rs = runs[name]
        cpu = statistics.median(r["cpu_s"] for r in rs)
        env = " ".join(f"`{k}={v}`" for k, v in SETTINGS[name].items()) or "(none)"
        lines.append(f"| {name} | {env} | {rs[0]['capability']} | {'(1 round)' if len(rs) == 1 else 'yes' if len({r['sha256'] for r in rs}) == 1 else 'no'} "
                     f"| {rs[0]['sha256'][:12]} | {'yes' if rs[0]['sha256'] == ref['sha256'] else 'no'} "
                     f"| {weight_difference(name)} "
                     f"| {first_difference(ref['losses'], rs[0]['losses'])} | {rs[0]['losses'][-1]!r} "
                     f"| {cpu:.2f} | {cpu / native_cpu:.2f}x |")
    import torch

    caption = (f"Demo classifier training under other instruction sets (`benchmarks/isa_training_step.py`): "
               f"{args.steps} AdamW steps of the demo's scratch BERT (2 layers, 64 wide, batch 16, 128 tokens), "
               f"torch {torch.__version__}, {args.threads} threads, {platform.machine()}, {os.cpu_count()} CPUs "
               f"(shared), {args.rounds} interleaved rounds, {date.today()}")
    text = caption + "\n\n" + "\n".join(lines) + "\n"
    print(text)
    if args.table:
        Path(args.table).parent.mkdir(parents=True, exist_ok=True)
        Path(args.table).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
