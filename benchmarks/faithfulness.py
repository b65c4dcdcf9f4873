"""Cost of the faithfulness metrics (Lu et al. Table 5, ``saliency_repro.faithfulness``) per
sample: forward passes per sample and per second, seconds per sample, and that time split over
the methods by the distinct perturbed inputs each one adds; batched versus one input per
forward pass. Numbers are printed, never asserted.

The model is the demo's 2-layer BERT (trained from scratch, so untrained here: the cost does not
depend on the weights) on synthetic sentiment texts of 25-90 words; ``--bert-base`` uses
bert-base-uncased's shape (12 layers, 768 wide, random weights, no download) on texts of up
to 256 tokens, the paper's setting (use ``--device cuda`` where there is a GPU).

    .venv/bin/python benchmarks/faithfulness.py [--quick] [--threads N] [--device cpu|cuda] [--bert-base]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

os.environ.setdefault("TQDM_DISABLE", "1")

METHODS = ["random", "all_attention", "last_attention", "vanilla_gradient", "input_x_grad",
           "integrated_gradients", "deeplift", "lime"]


def build(bert_base: bool, device: str):
    from saliency_repro.classify.model import build_classifier
    from saliency_repro.data.synthetic import classification_split

    data = classification_split("sentiment", 200, seed=1, split="train", min_words=25,
                                max_words=200 if bert_base else 90)
    cfg = ({"type": "scratch", "hidden_size": 768, "num_layers": 12, "num_heads": 12,
            "intermediate_size": 3072, "vocab_size": 3000} if bert_base else
           {"type": "scratch", "hidden_size": 64, "num_layers": 2, "num_heads": 2,
            "intermediate_size": 128, "vocab_size": 3000})
    max_length = 256 if bert_base else 128
    model, tokenizer = build_classifier(cfg, ["negative", "positive"], max_length, data["text"])
    model.to(device).eval()
    return model, tokenizer, data, max_length


def inputs_for(data, tokenizer, n: int, max_length: int):
    """SampleInputs with one random score vector per method (distinct rankings, like real methods)."""
    from saliency_repro.faithfulness.metrics import SampleInput
    from saliency_repro.saliency.attribute import encode_samples

    rng = np.random.default_rng(0)
    out = []
    for i, enc in enumerate(encode_samples(tokenizer, data["text"].head(n).tolist(), max_length)):
        words = enc["words"]
        scores = {m: rng.normal(size=len(words)) for m in METHODS}
        out.append(SampleInput(f"s{i}", enc["input_ids"], [w.tokens for w in words], 1, scores,
                               mask_id=tokenizer.mask_token_id))
    return out


def run(model, tokenizer, samples, batch_size: int, device: str):
    from saliency_repro.faithfulness.metrics import Counter, FaithfulnessSettings, evaluate
    from saliency_repro.faithfulness.model import BatchedClassifier

    predict = BatchedClassifier(model, tokenizer.pad_token_id, device, batch_size)
    counter = Counter()
    t0 = time.perf_counter()
    evaluate(samples, predict, FaithfulnessSettings(), counter=counter)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t0, predict, counter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--bert-base", action="store_true", help="bert-base-uncased's size, 256 tokens")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, tokenizer, data, max_length = build(args.bert_base, args.device)
    n = (2 if args.quick else 6) if args.bert_base else (4 if args.quick else 16)
    if args.bert_base:  # the longest texts: about the paper's 256 tokens
        data = data.assign(_n=data["text"].str.split().str.len()).sort_values("_n", ascending=False)
    samples = inputs_for(data, tokenizer, n, max_length)
    words = np.mean([len(s.word_tokens) for s in samples])
    tokens = np.mean([len(s.input_ids) for s in samples])
    run(model, tokenizer, samples[:1], args.batch_size, args.device)  # warm-up
    seconds, predict, counter = run(model, tokenizer, samples, args.batch_size, args.device)
    size = "bert-base size (12 x 768)" if args.bert_base else "demo size (2 x 64)"
    print(f"Faithfulness metrics, {n} samples ({words:.0f} words / {tokens:.0f} tokens on average), "
          f"{len(METHODS)} methods, BERT {size}, {args.device}, CPU threads {torch.get_num_threads()}")
    print(f"  forward inputs per sample:   {predict.inputs / n:8.1f}  (all methods, k, bins, curves, leave-one-out; de-duplicated)")
    print(f"  forward inputs per second:   {predict.inputs / predict.seconds:8.1f}  (batches of {args.batch_size})")
    print(f"  seconds per sample:          {seconds / n:8.3f}  (of which forward passes {predict.seconds / n:.3f})")
    per_input = predict.seconds / predict.inputs
    parts = ", ".join(f"{m} {counter.per_method_inputs.get(m, 0) / n * per_input:.3f}"
                      for m in [*METHODS, "(leave-one-out)"])
    print(f"  seconds per sample per method (its distinct inputs x time per input): {parts}")
    one = samples[: max(1, n // 4)]
    s1, p1, _ = run(model, tokenizer, one, 1, args.device)
    sb, pb, _ = run(model, tokenizer, one, args.batch_size, args.device)
    print(f"  one input per forward pass:  {p1.inputs / p1.seconds:8.1f} inputs/s, {s1 / len(one):.3f} s/sample "
          f"vs batched {sb / len(one):.3f} s/sample   ratio {s1 / sb:5.1f}x slower")


if __name__ == "__main__":
    main()
