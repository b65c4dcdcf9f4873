"""``predict_proba`` for a Hugging Face sequence classifier: token-id lists in, class
probabilities out, in batches of similar length, in inference mode, on the job's device."""

from __future__ import annotations

import time

import numpy as np


class BatchedClassifier:
    """Callable ``(list of token-id lists) -> np.ndarray [n, classes]`` (softmax probabilities).

    Inputs are sorted by length and cut into batches of ``batch_size`` (less padding), padded
    with ``pad_id`` under an attention mask, and run under ``torch.inference_mode()``; the
    probabilities come back in input order. ``inputs`` / ``batches`` / ``seconds`` count the work.
    """

    def __init__(self, model, pad_id: int, device: str = "cpu", batch_size: int = 64):
        self.model = model
        self.pad_id = int(pad_id)
        self.device = device
        self.batch_size = max(1, int(batch_size))
        self.inputs = 0
        self.batches = 0
        self.seconds = 0.0

    def __call__(self, id_lists: list[list[int]]) -> np.ndarray:
        import torch

        from saliency_repro.classify.train import collate

        t0 = time.perf_counter()
        order = sorted(range(len(id_lists)), key=lambda i: -len(id_lists[i]))
        n_classes = int(self.model.config.num_labels)
        out = np.empty((len(id_lists), n_classes), dtype=np.float64)
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size):
                chunk = order[s:s + self.batch_size]
                ids, mask = collate([id_lists[i] for i in chunk], self.pad_id, self.device)
                logits = self.model(input_ids=ids, attention_mask=mask).logits
                out[chunk] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
                self.batches += 1
        self.inputs += len(id_lists)
        self.seconds += time.perf_counter() - t0
        return out


def mask_token_id(tokenizer) -> int | None:
    """The id that replaces a masked word piece: ``[MASK]``, else ``[UNK]``."""
    for tid in (tokenizer.mask_token_id, tokenizer.unk_token_id):
        if tid is not None:
            return int(tid)
    return None
