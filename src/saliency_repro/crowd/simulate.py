"""The simulated crowd: workers who read a display and answer from the shown words alone.

Two worker models, chosen by ``crowd.simulated.model``:

- ``human_fitted`` (:mod:`saliency_repro.crowd.human_model`): a MiniLM + bag-of-words reader
  trained on the dataset's training split, and a human-noise model (worker population, "I
  don't know", lapses) **fitted on the released human judgments of Lu et al.** by the
  log-loss of the majority outcome; validated against the humans' own test-retest agreement
  (rule ``simulator_validation``);
- ``bag_of_words`` (this module, the earlier simulator, kept for comparison): no part is
  fitted on humans unless the validation's grid search does so. Described below.

:func:`build_crowd` returns either as an object with ``simulate_answers`` (the design's
(task, worker) pairs, persistent workers) and ``independent`` (fresh workers per display).

Bag-of-words worker model (all parameters under ``crowd.simulated`` in the config):

- a *reader* knows word-label associations: a scikit-learn bag-of-words logistic regression
  trained on the dataset's training split (never on the evaluated samples). For a display it
  gives class probabilities p from the shown words only (hidden words, ``.``, carry nothing);
- worker m has a *skill* s_m drawn from a log-normal population distribution
  (median ``skill_median``, log-sd ``skill_sigma``); the worker's belief is q ∝ p^{s_m}, so a
  skilled worker trusts weak cues more (s > 1 sharpens, s < 1 flattens);
- the worker answers "I don't know" when max q < 1/C + ``idk_margin`` (1 - 1/C), i.e. the best
  guess is not clearly better than chance;
- with probability ``lapse_rate`` the worker lapses and clicks a uniformly random class;
- otherwise the answer is drawn from q (people probability-match rather than always taking the
  most likely class).

Only the (task, worker) pairs of the design are answered, so the sparsity of L_ijkm is the
paper's. Experts (section 4.1) are the same model with ``expert_skill_factor`` times the skill
and ``expert_lapse_rate``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import pandas as pd

from saliency_repro.crowd import IDK

LOG = logging.getLogger(__name__)

TOKEN = r"[^\W_]+"
MODELS = ("bag_of_words", "human_fitted")


@dataclass(frozen=True)
class WorkerModel:
    """Parameters of the simulated worker population (defaults = demo settings)."""

    skill_median: float = 2.0
    skill_sigma: float = 0.5
    idk_margin: float = 0.15
    lapse_rate: float = 0.05
    reader_C: float = 1.0
    reader_max_train: int = 20000
    expert_skill_factor: float = 3.0
    expert_lapse_rate: float = 0.0
    experts_per_task: int = 1
    # which worker model; the keys below are used by ``human_fitted`` only
    model: str = "bag_of_words"
    human_noise: str = "pooled"
    encoder: str = "minilm"
    fragments_per_text: int = 2
    reader_C_embedding: float = 1.0

    @classmethod
    def from_config(cls, cfg: dict | None) -> WorkerModel:
        """Build from ``crowd.simulated``; unknown keys are an error naming the key."""
        cfg = dict(cfg or {})
        known = {f.name for f in fields(cls)}
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"config key 'crowd.simulated.{sorted(unknown)[0]}' is unknown; "
                             f"known keys: {sorted(known)}")
        if cfg.get("model", "bag_of_words") not in MODELS:
            raise ValueError(f"config key 'crowd.simulated.model': {cfg['model']!r} is not one "
                             f"of {list(MODELS)}")
        return cls(**cfg)

    def as_dict(self) -> dict:
        return asdict(self)


def display_words(display: str) -> str:
    """The words a worker sees in a display, space-joined (``.`` = hidden word, dropped)."""
    return " ".join(re.findall(TOKEN, display))


def merge_wordpieces(text: str) -> str:
    """Undo BERT word pieces (``homo ##gen ##ization`` -> ``homogenization``)."""
    return re.sub(r"\s+##", "", text)


class Reader:
    """Bag-of-words knowledge of word-label associations (see module docstring)."""

    def __init__(self, n_classes: int, C: float = 1.0) -> None:
        self.n_classes = n_classes
        self.C = C
        self.vectorizer = None
        self.model = None

    def fit(self, texts, labels, max_rows: int | None = None, seed: int = 0) -> Reader:
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = pd.Series(list(texts)).map(merge_wordpieces)
        labels = np.asarray(list(labels), dtype=int)
        if max_rows and len(texts) > max_rows:
            keep = np.random.default_rng(seed).choice(len(texts), max_rows, replace=False)
            texts, labels = texts.iloc[keep], labels[keep]
        self.vectorizer = CountVectorizer(token_pattern=TOKEN, lowercase=True, binary=True)
        X = self.vectorizer.fit_transform(texts)
        self.model = LogisticRegression(C=self.C, max_iter=2000)
        self.model.fit(X, labels)
        LOG.info("reader: %d texts, vocabulary %d, train accuracy %.3f", X.shape[0],
                 X.shape[1], self.model.score(X, labels))
        return self

    def proba(self, displays) -> np.ndarray:
        """Class probabilities (rows: displays, columns: all C classes) from shown words."""
        X = self.vectorizer.transform([display_words(d) for d in displays])
        p = np.full((X.shape[0], self.n_classes), 0.0)
        p[:, self.model.classes_] = self.model.predict_proba(X)
        p = np.clip(p, 1e-9, None)
        return p / p.sum(axis=1, keepdims=True)


def draw_skills(worker_ids, model: WorkerModel, seed: int) -> pd.Series:
    """Per-worker skill from the population distribution, in sorted worker-id order."""
    ids = sorted(set(worker_ids))
    rng = np.random.default_rng(seed)
    s = np.exp(np.log(model.skill_median) + model.skill_sigma * rng.standard_normal(len(ids)))
    return pd.Series(s, index=ids, name="skill")


def answer(p: np.ndarray, skill: np.ndarray, model: WorkerModel, rng: np.random.Generator,
           lapse_rate: float | None = None) -> np.ndarray:
    """One answer per row: ``p`` reader probabilities (n x C), ``skill`` per row (n)."""
    n, C = p.shape
    lapse = model.lapse_rate if lapse_rate is None else lapse_rate
    logq = skill[:, None] * np.log(p)
    q = np.exp(logq - logq.max(axis=1, keepdims=True))
    q /= q.sum(axis=1, keepdims=True)
    threshold = 1.0 / C + model.idk_margin * (1.0 - 1.0 / C)
    u = rng.random(n)
    drawn = (q.cumsum(axis=1) < rng.random(n)[:, None]).sum(axis=1).clip(max=C - 1)
    out = np.where(q.max(axis=1) < threshold, IDK, drawn)
    lapsed = u < lapse
    out[lapsed] = rng.integers(0, C, lapsed.sum())
    return out.astype(int)


def simulate_answers(assignments: pd.DataFrame, tasks: pd.DataFrame, reader: Reader,
                     model: WorkerModel, seed: int) -> pd.DataFrame:
    """Fill L_ijkm for the assigned (task, worker) pairs only (answers table of the contract)."""
    t = tasks.set_index("task_id")
    probs = pd.DataFrame(reader.proba(t["display"]), index=t.index)
    skills = draw_skills(assignments["worker_id"], model, seed)
    rng = np.random.default_rng(seed + 1)
    p = probs.loc[assignments["task_id"]].to_numpy()
    s = skills.loc[assignments["worker_id"]].to_numpy()
    out = assignments[["task_id", "sample_id", "method", "k", "worker_id"]].copy()
    out["answer"] = answer(p, s, model, rng)
    return out.reset_index(drop=True)


def expert_model(model: WorkerModel) -> WorkerModel:
    """The expert population: more skilled, no lapses (section 4.1's lab members)."""
    return replace(model, skill_median=model.skill_median * model.expert_skill_factor,
                   lapse_rate=model.expert_lapse_rate)


def simulate_independent(p: np.ndarray, n_workers: int, model: WorkerModel,
                         seed: int) -> np.ndarray:
    """n_workers fresh workers per display (rows of ``p``): answers array (n x n_workers)."""
    rng = np.random.default_rng(seed)
    n = p.shape[0]
    skills = np.exp(np.log(model.skill_median)
                    + model.skill_sigma * rng.standard_normal((n, n_workers)))
    cols = [answer(p, skills[:, r], model, rng) for r in range(n_workers)]
    return np.stack(cols, axis=1)


def eq1_from_matrix(answers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Equation (1) on a dense (tasks x workers) answer matrix; same rule as
    :func:`saliency_repro.crowd.aggregate.majority_vote` (IDK counts as an answered label)."""
    labels = np.asarray(labels)
    true_votes = (answers == labels[:, None]).sum(axis=1)
    values = np.unique(answers)
    best_other = np.zeros(len(labels), dtype=int)
    for v in values:
        votes = (answers == v).sum(axis=1)
        votes = np.where(labels == v, 0, votes)
        best_other = np.maximum(best_other, votes)
    return ((true_votes > 0) & (true_votes > best_other)).astype(int)


class BagOfWordsCrowd:
    """The bag-of-words simulated crowd (module docstring) behind the common interface."""

    def __init__(self, reader: Reader, model: WorkerModel) -> None:
        self.reader = reader
        self.model = model

    def simulate_answers(self, assignments: pd.DataFrame, tasks: pd.DataFrame,
                         seed: int) -> pd.DataFrame:
        return simulate_answers(assignments, tasks, self.reader, self.model, seed)

    def independent(self, displays, n_workers: int, seed: int,
                    experts: bool = False) -> np.ndarray:
        model = expert_model(self.model) if experts else self.model
        return simulate_independent(self.reader.proba(list(displays)), n_workers, model, seed)

    def describe_experts(self) -> dict:
        e = expert_model(self.model)
        return {"expert_skill_median": e.skill_median, "expert_lapse_rate": e.lapse_rate}


#: The ``crowd.simulated`` keys the reader depends on (rule ``crowd_reader``'s params): an
#: edit to a worker-population key reuses the fitted reader, an edit to one of these refits it.
READER_KEYS = ("model", "encoder", "fragments_per_text", "reader_C", "reader_C_embedding",
               "reader_max_train")


def fit_crowd_reader(train: pd.DataFrame, label_names: list[str], model: WorkerModel, seed: int):
    """The configured simulator's reader, trained on ``train`` (text, label): the dataset's
    training split, never the evaluated samples. ``human_fitted``: a
    :class:`~saliency_repro.crowd.human_model.HumanReader`; ``bag_of_words``: a :class:`Reader`."""
    if model.model == "human_fitted":
        from saliency_repro.crowd.human_model import fit_reader

        return fit_reader(train, label_names, model, seed)
    return Reader(len(label_names), C=model.reader_C).fit(
        train["text"], train["label"], max_rows=model.reader_max_train, seed=seed)


def crowd_from_reader(reader, model: WorkerModel):
    """The configured simulated crowd around a fitted reader (:func:`fit_crowd_reader`)."""
    if model.model == "human_fitted":
        from saliency_repro.crowd.human_model import HumanFittedCrowd, HumanReader

        if not isinstance(reader, HumanReader):
            raise ValueError("config key 'crowd.simulated.model' is human_fitted, but the reader "
                             f"given is a {type(reader).__name__} (refit it: rule crowd_reader)")
        return HumanFittedCrowd.from_reader(reader, model)
    if not isinstance(reader, Reader):
        raise ValueError("config key 'crowd.simulated.model' is bag_of_words, but the reader "
                         f"given is a {type(reader).__name__} (refit it: rule crowd_reader)")
    return BagOfWordsCrowd(reader, model)


def build_crowd(train: pd.DataFrame, label_names: list[str], model: WorkerModel, seed: int):
    """The configured simulated crowd, its reader trained on ``train`` here (the workflow
    trains it once per dataset, rule ``crowd_reader``, and uses :func:`crowd_from_reader`)."""
    return crowd_from_reader(fit_crowd_reader(train, label_names, model, seed), model)


def save_reader(reader, path, info: dict) -> None:
    """Write a fitted reader (pickle; a MiniLM reader without its encoder, which is made again
    from its name on load) and ``info`` beside it as ``<path>.json``: what it was fitted on and
    with which settings, so that every job reusing it can say so."""
    import json
    import pickle
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(reader, protocol=5))
    path.with_name(path.name + ".json").write_text(json.dumps(info, indent=1, sort_keys=True))


def load_reader(path, model: WorkerModel | None = None, label_names: list[str] | None = None):
    """A reader written by :func:`save_reader`; with ``model`` / ``label_names``, checks that it
    was fitted with the same reader settings and labels (a stale file fails naming the key)."""
    import json
    import pickle
    from pathlib import Path

    path = Path(path)
    reader = pickle.loads(path.read_bytes())  # noqa: S301 (this workflow's own artifact)
    info_path = path.with_name(path.name + ".json")
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    if model is not None and info.get("settings") is not None:
        want = {k: getattr(model, k) for k in READER_KEYS}
        for key, value in want.items():
            if key in info["settings"] and info["settings"][key] != value:
                raise ValueError(f"config key 'crowd.simulated.{key}' is {value!r}, but the reader "
                                 f"{path} was fitted with {info['settings'][key]!r} (rerun rule "
                                 f"crowd_reader)")
    if label_names is not None and info.get("label_names") not in (None, list(label_names)):
        raise ValueError(f"config key 'datasets.<name>.label_names' is {list(label_names)}, but the "
                         f"reader {path} was fitted with {info['label_names']} (rerun rule crowd_reader)")
    return reader
