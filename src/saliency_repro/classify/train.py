"""Fine-tuning with checkpoints that let a killed training resume.

The paper used the transformers defaults ("All hyperparameters were set by default"): AdamW,
a linear learning-rate decay to zero without warm-up, no weight decay. The learning rate,
epochs, batch size and seed come from the config. A small loop is used instead of ``Trainer``
(whose ``accelerate`` dependency is not part of this environment); it does the same thing.

Checkpoints live in a folder *beside* the rule's output (Snakemake deletes the declared output
of a failed job, which would throw the checkpoints away). Each one records a fingerprint of the
training setup; a checkpoint from a different config or data is ignored, never resumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from saliency_repro.io import write_json

LOG = logging.getLogger(__name__)


def fingerprint(cfg: dict[str, Any], label_names: list[str], train_ids: list[str], seed: int) -> str:
    """Hash of everything that determines the training run, to refuse foreign checkpoints."""
    blob = json.dumps(
        {"cfg": cfg, "labels": label_names, "ids": train_ids, "seed": seed},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def encode(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Token ids per text, truncated to ``max_length`` (special tokens included)."""
    return tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]


def collate(batch_ids: list[list[int]], pad_id: int, device: str):
    """Pad a list of id lists into ``input_ids`` and ``attention_mask`` tensors."""
    import torch

    width = max(len(x) for x in batch_ids)
    ids = torch.full((len(batch_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
    for i, x in enumerate(batch_ids):
        ids[i, : len(x)] = torch.tensor(x, dtype=torch.long)
        mask[i, : len(x)] = 1
    return ids.to(device), mask.to(device)


def train_classifier(
    train_df: pd.DataFrame,
    validation_df: pd.DataFrame | None,
    label_names: list[str],
    cfg: dict[str, Any],
    out_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    device: str = "cpu",
    seed: int = 13,
) -> dict[str, Any]:
    """Fine-tune a classifier on ``train_df`` (``text``, ``label``) and save it to ``out_dir``.

    ``cfg`` is the ``classifier`` config section. Returns the training state (also written to
    ``out_dir/trainer_state.json``): per-epoch loss and validation accuracy.
    """
    import torch
    from tqdm import tqdm
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    from saliency_repro.classify.model import build_classifier
    from saliency_repro.runtime import seed_everything

    seed_everything(seed)
    if cfg.get("max_train_samples"):
        train_df = train_df.sample(
            n=min(cfg["max_train_samples"], len(train_df)), random_state=seed
        ).sort_index()
    texts = train_df["text"].astype(str).tolist()
    labels = train_df["label"].astype(int).to_numpy()
    max_length = int(cfg.get("max_length", 256))
    fp = fingerprint(cfg, label_names, train_df["id"].astype(str).tolist(), seed)
    ckpt = Path(checkpoint_dir)
    state_file = ckpt / "state.pt"
    resumed = False
    if state_file.exists() and (ckpt / "fingerprint.txt").read_text().strip() == fp:
        model = AutoModelForSequenceClassification.from_pretrained(str(ckpt / "model"))
        tokenizer = AutoTokenizer.from_pretrained(str(ckpt / "model"))
        resumed = True
    else:
        if ckpt.exists():
            LOG.info("discarding checkpoints of a different setup in %s", ckpt)
            shutil.rmtree(ckpt)
        model, tokenizer = build_classifier(cfg["model"], label_names, max_length, train_texts=texts)
    model.to(device)
    ids = encode(tokenizer, texts, max_length)
    bs = int(cfg.get("batch_size", 8))
    steps_per_epoch = math.ceil(len(ids) / bs)
    epochs = float(cfg.get("epochs", 3))
    total_steps = max(1, math.ceil(epochs * steps_per_epoch))
    n_epochs = math.ceil(epochs)
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": float(cfg.get("weight_decay", 0.0))},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=float(cfg.get("learning_rate", 5e-5)))
    sched = get_linear_schedule_with_warmup(optim, 0, total_steps)
    history: list[dict[str, Any]] = []
    start_epoch, step = 0, 0
    if resumed:
        st = torch.load(state_file, map_location=device, weights_only=False)
        optim.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        start_epoch, step, history = st["epoch"], st["step"], st["history"]
        # dropout draws from torch's global generator: restoring it makes a resumed run
        # continue exactly as the uninterrupted one would have
        if "torch_rng" in st:
            torch.set_rng_state(st["torch_rng"].cpu())
        if st.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in st["cuda_rng"]])
        LOG.info("resuming from checkpoint after epoch %d (step %d)", start_epoch, step)

    val_ids = val_labels = None
    if validation_df is not None and len(validation_df):
        val_ids = encode(tokenizer, validation_df["text"].astype(str).tolist(), max_length)
        val_labels = validation_df["label"].astype(int).to_numpy()

    for epoch in range(start_epoch, n_epochs):
        model.train()
        order = np.random.default_rng([seed, epoch]).permutation(len(ids))
        losses = []
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{n_epochs}", mininterval=5)
        for b in bar:
            if step >= total_steps:
                break
            idx = order[b * bs:(b + 1) * bs]
            input_ids, mask = collate([ids[i] for i in idx], tokenizer.pad_token_id, device)
            y = torch.as_tensor(labels[idx], device=device)
            out = model(input_ids=input_ids, attention_mask=mask, labels=y)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            losses.append(out.loss.item())
            step += 1
        record: dict[str, Any] = {"epoch": epoch + 1, "step": step, "train_loss": float(np.mean(losses))}
        if val_ids is not None:
            probs = predict_proba(model, tokenizer, val_ids, device=device, batch_size=64, encoded=True)
            record["validation_accuracy"] = float((probs.argmax(1) == val_labels).mean())
        history.append(record)
        LOG.info("epoch %s", record)
        _save_checkpoint(model, tokenizer, optim, sched, epoch + 1, step, history, fp, ckpt)

    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    state = {
        "history": history, "fingerprint": fp, "total_steps": total_steps, "resumed": resumed,
        "config": cfg, "label_names": label_names, "seed": seed, "device": device,
        "n_train": len(ids),
    }
    write_json(Path(out_dir) / "trainer_state.json", state)
    return state


def _save_checkpoint(model, tokenizer, optim, sched, epoch, step, history, fp, ckpt: Path) -> None:
    """Write model, optimizer and scheduler state; the state file is moved in last."""
    import torch

    tmp = ckpt.with_name(ckpt.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    model.save_pretrained(str(tmp / "model"))
    tokenizer.save_pretrained(str(tmp / "model"))
    torch.save({"optimizer": optim.state_dict(), "scheduler": sched.state_dict(),
                "epoch": epoch, "step": step, "history": history,
                "torch_rng": torch.get_rng_state(),
                "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
               tmp / "state.pt")
    (tmp / "fingerprint.txt").write_text(fp + "\n")
    if ckpt.exists():
        shutil.rmtree(ckpt)
    os.replace(tmp, ckpt)


def predict_proba(
    model, tokenizer, texts_or_ids, device: str = "cpu", batch_size: int = 64,
    max_length: int = 256, encoded: bool = False, progress: bool = False,
) -> np.ndarray:
    """Class probabilities ``[n, C]`` for texts (or already-encoded id lists), batched."""
    import torch
    from tqdm import tqdm

    ids = texts_or_ids if encoded else encode(tokenizer, list(texts_or_ids), max_length)
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        starts = range(0, len(ids), batch_size)
        for s in tqdm(starts, desc="predict", disable=not progress, mininterval=5):
            input_ids, mask = collate(ids[s:s + batch_size], tokenizer.pad_token_id, device)
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            out.append(torch.softmax(logits.float(), -1).cpu().numpy())
    if was_training:
        model.train()
    n_classes = model.config.num_labels
    return np.concatenate(out) if out else np.zeros((0, n_classes))
