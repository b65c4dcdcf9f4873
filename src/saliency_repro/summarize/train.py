"""Training with See et al.'s settings as defaults, resumable after a kill.

Adagrad (lr 0.15, initial accumulator 0.1), batch 16, gradient-norm clipping 2.0; cross-entropy
over the target words with padding masked out; validation loss after every epoch. A checkpoint
(model, optimizer, position in the epoch, RNG state, history) is written atomically every
``checkpoint_every_steps`` steps and at each epoch end; a restarted job continues from it with the
same batch order (each epoch's shuffle is seeded by ``seed + epoch``), so a killed run and an
uninterrupted one see the same batches.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from saliency_repro.summarize.decode import pad_batch
from saliency_repro.summarize.model import ModelConfig, Summarizer, save_model
from saliency_repro.summarize.text import Example

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """The ``summarizer.training`` config section."""

    optimizer: str = "adagrad"
    learning_rate: float = 0.15
    adagrad_initial_accumulator: float = 0.1
    batch_size: int = 16
    max_grad_norm: float = 2.0
    epochs: int = 10
    max_steps: int | None = None
    checkpoint_every_steps: int = 500
    select_best: bool = True
    max_train_articles: int | None = None
    eval_batch_size: int = 64

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> TrainConfig:
        return cls(**section)


def make_optimizer(model: Summarizer, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adagrad":
        return torch.optim.Adagrad(model.parameters(), lr=cfg.learning_rate,
                                   initial_accumulator_value=cfg.adagrad_initial_accumulator)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.learning_rate)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def batch_loss(model: Summarizer, batch: Sequence[Example], device: str) -> tuple[torch.Tensor, int]:
    """Summed token cross-entropy of a batch (padding masked) and the number of target tokens."""
    src = pad_batch([e.src_ids for e in batch], device)
    dec = pad_batch([e.dec_inputs for e in batch], device)
    tgt = pad_batch([e.targets for e in batch], device)
    lengths = torch.tensor([len(e.src_ids) for e in batch], device=device)
    logits, _ = model(src, dec, lengths=lengths)
    mask = torch.zeros_like(tgt, dtype=torch.bool)
    for i, e in enumerate(batch):
        mask[i, : len(e.targets)] = True
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
    loss = (loss * mask.reshape(-1)).sum()
    return loss, int(mask.sum())


@torch.no_grad()
def evaluate_loss(model: Summarizer, examples: Sequence[Example], batch_size: int, device: str) -> float:
    """Mean per-token cross-entropy over ``examples`` (nan when there are none)."""
    if not examples:
        return float("nan")
    model.eval()
    total, n = 0.0, 0
    for start in range(0, len(examples), batch_size):
        loss, k = batch_loss(model, examples[start: start + batch_size], device)
        total += float(loss)
        n += k
    return total / max(1, n)


def _fingerprint(model_cfg: ModelConfig, cfg: TrainConfig, seed: int, n_train: int) -> dict:
    """What a checkpoint must share with the current run to be resumed. The number of epochs
    and steps may grow (training is extended), anything else means a different run."""
    from dataclasses import asdict

    keep = {k: v for k, v in asdict(cfg).items()
            if k not in ("epochs", "max_steps", "checkpoint_every_steps", "select_best",
                         "eval_batch_size")}
    return {"model": asdict(model_cfg), "training": keep, "seed": seed, "n_train": n_train}


def _epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng(seed + epoch).permutation(n)


def train(
    train_examples: Sequence[Example],
    val_examples: Sequence[Example],
    model_cfg: ModelConfig,
    cfg: TrainConfig,
    out_model: str | os.PathLike,
    checkpoint_dir: str | os.PathLike,
    seed: int = 13,
    device: str = "cpu",
) -> dict[str, Any]:
    """Train (or resume) and write the final model to ``out_model``; return the history.

    The final model is the epoch with the lowest validation loss when ``select_best`` (and a
    validation split exists), else the last one.
    """
    ckpt_dir = Path(checkpoint_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    last, best = ckpt_dir / "last.pt", ckpt_dir / "best.pt"
    torch.manual_seed(seed)
    model = Summarizer(model_cfg).to(device)
    opt = make_optimizer(model, cfg)
    state: dict[str, Any] = {"epoch": 0, "batch": 0, "step": 0, "history": [], "best_val": math.inf}
    fingerprint = _fingerprint(model_cfg, cfg, seed, len(train_examples))
    if last.exists():
        ck = torch.load(last, map_location=device, weights_only=False)
        ahead = ck["state"]["epoch"] > cfg.epochs or (
            cfg.max_steps is not None and ck["state"]["step"] > cfg.max_steps)
        if ck.get("fingerprint") != fingerprint or ahead:
            LOG.warning("checkpoints in %s were made with other settings (%s); starting afresh",
                        ckpt_dir, ck.get("fingerprint"))
            for stale in (last, best):
                stale.unlink(missing_ok=True)
    if last.exists():
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["optimizer"])
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
        LOG.info("resumed from %s: epoch %d, batch %d, step %d", last, state["epoch"],
                 state["batch"], state["step"])

    def checkpoint() -> None:
        save_model(model, str(last), {"optimizer": opt.state_dict(), "state": state,
                                      "torch_rng": torch.get_rng_state(),
                                      "fingerprint": fingerprint})

    n = len(train_examples)
    n_batches = math.ceil(n / cfg.batch_size)
    t0 = time.time()
    while state["epoch"] < cfg.epochs:
        if cfg.max_steps is not None and state["step"] >= cfg.max_steps:
            break
        order = _epoch_order(n, seed, state["epoch"])
        model.train()
        run_loss, run_tok = 0.0, 0
        bar = tqdm(range(state["batch"], n_batches), desc=f"epoch {state['epoch'] + 1}/{cfg.epochs}",
                   mininterval=5.0)
        for b in bar:
            batch = [train_examples[i] for i in order[b * cfg.batch_size: (b + 1) * cfg.batch_size]]
            loss, k = batch_loss(model, batch, device)
            opt.zero_grad(set_to_none=True)
            (loss / k).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            run_loss += loss.item()
            run_tok += k
            state["batch"] = b + 1
            state["step"] += 1
            bar.set_postfix(loss=f"{run_loss / max(1, run_tok):.3f}", refresh=False)
            if state["step"] % cfg.checkpoint_every_steps == 0:
                checkpoint()
            if cfg.max_steps is not None and state["step"] >= cfg.max_steps:
                break
        val = evaluate_loss(model, val_examples, cfg.eval_batch_size, device)
        entry = {"epoch": state["epoch"] + 1, "step": state["step"],
                 "train_loss": run_loss / max(1, run_tok), "val_loss": val,
                 "elapsed_s": time.time() - t0}
        state["history"].append(entry)
        LOG.info("epoch %d: train loss %.4f, validation loss %.4f", entry["epoch"],
                 entry["train_loss"], val)
        if not math.isnan(val) and val < state["best_val"]:
            state["best_val"] = val
            save_model(model, str(best), {"epoch": entry["epoch"], "val_loss": val})
        if state["batch"] >= n_batches:
            state["epoch"] += 1
            state["batch"] = 0
        checkpoint()
    final_src = best if (cfg.select_best and best.exists()) else last
    obj = torch.load(final_src, map_location="cpu", weights_only=False)
    final = Summarizer(ModelConfig(**obj["config"]))
    final.load_state_dict(obj["state_dict"])
    save_model(final, str(out_model), {"history": state["history"], "selected": final_src.name})
    return {"history": state["history"], "selected": final_src.name, "steps": state["step"]}
