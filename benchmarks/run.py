"""Speed benchmarks of the two batching claims, printed as numbers and ratios in one run.

1. LRP (issue 5): the maps of all output words of a summary in one batched pass, versus one
   output word at a time (same fast code, ``steps=[t]``), versus the loop-based float64
   reference of tests/lrp_reference.py (one word, small size only: it loops over units).
2. Attribution (issue 3): integrated gradients over a batch of samples with the model loaded
   once, versus one sample per call.

Timings are wall-clock on whatever machine runs this; they are printed, never asserted.
    .venv/bin/python benchmarks/run.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import torch

os.environ.setdefault("TQDM_DISABLE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the LRP reference lives with the tests


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_lrp(quick: bool) -> None:
    from lrp_reference import reference_lrp

    from saliency_repro.summarize.lrp import lrp_summary
    from saliency_repro.summarize.model import ModelConfig, Summarizer

    torch.manual_seed(0)
    S, T = (60, 12) if quick else (200, 30)
    cfg = ModelConfig(vocab_size=500, embedding_dim=32, hidden_dim=64, decoder_hidden_dim=64,
                      attention_dim=64)
    model = Summarizer(cfg).double().eval()
    src = torch.randint(4, 500, (S,)).tolist()
    out = torch.randint(4, 500, (T,)).tolist()
    dec_inputs = [2, *out[:-1]]
    batched = best_of(lambda: lrp_summary(model, src, dec_inputs, out), 3)
    one_by_one = best_of(lambda: [lrp_summary(model, src, dec_inputs, out, steps=[t]) for t in range(T)], 1)
    print(f"LRP, article {S} words, summary {T} words, float64, CPU threads {torch.get_num_threads()}")
    print(f"  batched, all {T} output words:   {batched:8.3f} s")
    print(f"  one output word per call:       {one_by_one:8.3f} s   ratio {one_by_one / batched:6.1f}x slower")
    # the loop-based reference, on a small problem (it loops over every unit)
    rs, rt, units = (20, 4, 16) if quick else (40, 8, 32)
    small = Summarizer(ModelConfig(vocab_size=100, embedding_dim=units, hidden_dim=units,
                                   decoder_hidden_dim=units, attention_dim=units)).double().eval()
    params = {k: v.double().numpy() for k, v in small.state_dict().items()}
    s_src = torch.randint(4, 100, (rs,)).tolist()
    s_out = torch.randint(4, 100, (rt,)).tolist()
    s_dec = [2, *s_out[:-1]]
    ref = best_of(lambda: [reference_lrp(params, s_src, s_dec, t, s_out[t], 1e-3) for t in range(rt)], 1)
    fast = best_of(lambda: lrp_summary(small, s_src, s_dec, s_out), 3)
    print(f"  loop-based reference ({rs} words, {rt} outputs, {units} units): {ref:8.3f} s vs batched "
          f"{fast:.4f} s   ratio {ref / fast:6.0f}x slower")


def bench_attribution(quick: bool) -> None:
    from saliency_repro.classify.model import build_classifier
    from saliency_repro.data.synthetic import classification_split
    from saliency_repro.saliency.attribute import attribute_samples

    data = classification_split("sentiment", 200, seed=1, split="train")
    model, tokenizer = build_classifier({"type": "scratch", "hidden_size": 64, "num_layers": 2,
                                         "num_heads": 2, "intermediate_size": 128, "vocab_size": 2000},
                                        ["negative", "positive"], 128, data["text"])
    model.eval()
    n = 8 if quick else 24
    samples = data.head(n)[["id", "text", "label"]]
    steps = 16 if quick else 50
    cfg = {"methods": ["integrated_gradients"], "ig_steps": steps, "ig_internal_batch_size": steps,
           "hidden_reduction": "sum", "word_aggregation": "sum"}
    batched = best_of(lambda: attribute_samples(model, tokenizer, samples, {**cfg, "batch_size": 8}, 128), 2)
    single = best_of(lambda: attribute_samples(model, tokenizer, samples, {**cfg, "batch_size": 1}, 128), 1)
    print(f"Integrated gradients, {n} samples, {steps} steps, 2-layer BERT (64 wide)")
    print(f"  batches of 8 samples:  {batched:8.3f} s  ({batched / n * 1000:6.1f} ms/sample)")
    print(f"  one sample per call:   {single:8.3f} s  ({single / n * 1000:6.1f} ms/sample)   "
          f"ratio {single / batched:5.1f}x slower")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    bench_lrp(args.quick)
    bench_attribution(args.quick)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
