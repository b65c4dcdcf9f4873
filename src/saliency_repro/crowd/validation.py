"""Does the simulated crowd answer like the people did? Validation on the released human aggregates.

On the released (display, human A_ijk) pairs of one dataset, by **cross-fitting**: the samples
are split in two halves (stratified by label, seeded, :func:`split_samples`); every part of a
simulator that is fitted on human judgments is fitted on one half and evaluated on the other,
then the halves swap, and this is repeated for ``splits`` seeds (2 x ``splits`` folds; no
evaluation sample is ever seen in fitting, :func:`fold_masks`). Simulators compared:

- ``human_fitted`` (:mod:`saliency_repro.crowd.human_model`): human-noise parameters fitted on
  the fit half by the log-loss of the observed majority outcome (a proper scoring rule), with
  the dataset's own label biases when ``label_bias`` (these do not transfer to another
  dataset; rule ``human_noise_params`` measures what does); its reader is trained on the
  dataset's training split (or on the fit half's full texts with ``reader: release_texts``)
  and sees no human judgment;
- ``bag_of_words`` (the earlier simulator, :mod:`saliency_repro.crowd.simulate`):
  ``skill_median``, ``idk_margin``, ``lapse_rate`` chosen on a grid by raw task agreement on
  the fit half (as before); P(A = 1) estimated from ``prediction_replicates`` simulated crowds;
- two rules for scale: ``majority_rule`` (the fit half's most common outcome; its rate as the
  probability) and ``method_k_rule`` (the fit half's accuracy of the same method and k).

Measured on each evaluation half (and summarised as the mean with the 2.5-97.5 % range over
folds; the folds share samples, so the range shows the split-to-split variation, not a
sampling CI): agreement of one simulated crowd with the human outcome (expected value,
P h + (1 - P)(1 - h)), agreement of the most likely outcome, Brier score, log-loss,
calibration error (10 bins), accuracy, Pearson r of per-method and per-(method, k)
accuracies, Kendall tau of the method ranking by s_j (equation (2); with the expected
accuracies, and for one simulated crowd), and how many methods' simulated accuracy lies in
the people's 95 % cluster-bootstrap CI (over samples).

Reference levels, from the release itself (:func:`reference_levels`):

- human **test-retest**: displays of one sample that are identical (e.g. INPUTxGRAD and
  DEEPLIFT often show the same words; in AG News every method shows the whole of a short text
  at large k) were judged by separate groups of five workers; the share of such pairs with
  the same majority outcome (95 % CI: bootstrap over samples). The simulators are also
  measured on exactly these pairs (``dup_agreement``), the like-for-like comparison;
- human **split-half tau**: Kendall tau between the method rankings of the two halves of
  each split (the ceiling for ranking agreement between two crowds on different samples).
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from saliency_repro.crowd.scores import accuracy, method_order, score
from saliency_repro.crowd.simulate import Reader, WorkerModel, eq1_from_matrix, simulate_independent

LOG = logging.getLogger(__name__)

# Wide enough that the fitted values of both released datasets lie inside it (a fit at the
# edge of the grid would mean the search stopped, not that the optimum was found).
DEFAULT_GRID = {"skill_median": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
                "idk_margin": [0.0, 0.1, 0.2, 0.3, 0.5],
                "lapse_rate": [0.05, 0.15, 0.3, 0.45]}
SIMULATORS = ("human_fitted", "bag_of_words")
RULES = ("majority_rule", "method_k_rule")


@dataclass(frozen=True)
class ValidationSettings:
    """``crowd.validation`` (minus ``datasets``)."""

    fit_fraction: float = 0.5
    splits: int = 5
    replicates: int = 5
    prediction_replicates: int = 50
    bootstrap: int = 1000
    grid: dict | None = None
    simulators: tuple = SIMULATORS
    label_bias: bool = True

    @classmethod
    def from_config(cls, cfg: dict | None) -> ValidationSettings:
        cfg = {k: v for k, v in dict(cfg or {}).items() if k != "datasets"}
        known = {f.name for f in fields(cls)}
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"config key 'crowd.validation.{sorted(unknown)[0]}' is unknown; "
                             f"known keys: {sorted(known | {'datasets'})}")
        if "simulators" in cfg:
            cfg["simulators"] = tuple(cfg["simulators"])
        return cls(**cfg)


# ----------------------------------------------------------------------------- splits
def split_samples(samples: pd.DataFrame, fit_fraction: float, seed: int) -> tuple[set, set]:
    """Stratified (by label) random split of sample ids into a fit and an evaluation part.

    The fit part has exactly ``floor(fit_fraction * N + 1/2)`` samples: each label gets the
    floor of its share, and the samples left over go to the labels with the largest
    remainders (ties broken by the seeded generator). Rounding each label on its own gave
    48/52 on AG News (four labels of 25, each rounded half to even).
    """
    rng = np.random.default_rng(seed)
    groups = [(lab, rng.permutation(grp["sample_id"].to_numpy()))
              for lab, grp in samples.groupby("label")]
    shares = np.array([fit_fraction * len(ids) for _, ids in groups])
    counts = np.floor(shares).astype(int)
    total = int(np.floor(fit_fraction * len(samples) + 0.5))
    remainder = shares - counts
    order = np.lexsort((rng.random(len(groups)), -remainder))  # largest remainder first
    counts[order[: total - counts.sum()]] += 1
    fit: set = set()
    for (_, ids), n in zip(groups, counts, strict=True):
        fit |= set(ids[:n])
    return fit, set(samples["sample_id"]) - fit


def fold_masks(aggregate: pd.DataFrame, samples: pd.DataFrame, settings: ValidationSettings,
               seed: int):
    """Yield (split seed, fold, fit sample ids, fit mask, eval mask) for every fold: each
    split's two parts, each once as the fit part. The masks select rows of ``aggregate`` by
    sample, so a sample's tasks are all on one side."""
    for s in range(settings.splits):
        a, b = split_samples(samples, settings.fit_fraction, seed + s)
        for fold, fit_ids in enumerate((a, b)):
            fit = aggregate["sample_id"].isin(fit_ids).to_numpy()
            yield seed + s, fold, fit_ids, fit, ~fit


# ----------------------------------------------------------------------------- references
def identical_display_pairs(aggregate: pd.DataFrame) -> pd.DataFrame:
    """Row pairs (positions ``i`` < ``j`` in ``aggregate``) of one sample showing the same
    display, i.e. the same words judged by two separate groups of workers."""
    agg = aggregate.reset_index(drop=True)
    rows = []
    for (sid, _), grp in agg.groupby(["sample_id", "display"], sort=True):
        idx = grp.index.to_numpy()
        for i, j in itertools.combinations(idx, 2):
            rows.append({"i": int(i), "j": int(j), "sample_id": sid, "k": int(agg.at[i, "k"])})
    return pd.DataFrame(rows, columns=["i", "j", "sample_id", "k"])


def _cluster_bootstrap(values: pd.Series, groups: pd.Series, n: int, seed: int,
                       stat=np.mean) -> tuple[float, float]:
    """95 % percentile CI of ``stat`` of values, resampling whole groups (samples)."""
    if len(values) == 0:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    by = {g: v.to_numpy() for g, v in values.groupby(groups.to_numpy())}
    keys = list(by)
    out = []
    for _ in range(n):
        pick = rng.integers(0, len(keys), len(keys))
        out.append(stat(np.concatenate([by[keys[p]] for p in pick])))
    return float(np.percentile(out, 2.5)), float(np.percentile(out, 97.5))


def reference_levels(aggregate: pd.DataFrame, samples: pd.DataFrame,
                     settings: ValidationSettings, seed: int) -> dict:
    """Human test-retest agreement on identical displays and the split-half Kendall tau."""
    from scipy.stats import kendalltau

    agg = aggregate.reset_index(drop=True)
    pairs = identical_display_pairs(agg)
    h = agg["correct"].to_numpy(int)
    same = pd.Series((h[pairs["i"]] == h[pairs["j"]]).astype(float))
    lo, hi = _cluster_bootstrap(same, pairs["sample_id"], settings.bootstrap, seed)
    taus = []
    for s in range(settings.splits):
        a, b = split_samples(samples, settings.fit_fraction, seed + s)
        sa = score(accuracy(agg[agg["sample_id"].isin(a)]))
        sb = score(accuracy(agg[agg["sample_id"].isin(b)]))
        taus.append(kendalltau(sa, sb).statistic)
    return {
        "test_retest_%": 100 * float(same.mean()) if len(same) else np.nan,
        "test_retest_lo": 100 * lo, "test_retest_hi": 100 * hi,
        "test_retest_pairs": len(pairs), "test_retest_samples": int(pairs["sample_id"].nunique()),
        "split_half_tau": float(np.mean(taus)),
        "split_half_tau_lo": float(np.percentile(taus, 2.5)),
        "split_half_tau_hi": float(np.percentile(taus, 97.5)),
        "human_accuracy_%": 100 * float(h.mean()),
        "pairs": pairs,
    }


def human_method_ci(agg: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """Per method: human accuracy and its 95 % bootstrap CI over samples (fractions)."""
    wide = agg.pivot_table(index="sample_id", columns="method", values="correct", aggfunc="mean")
    rng = np.random.default_rng(seed)
    boot = np.stack([wide.to_numpy()[rng.integers(0, len(wide), len(wide))].mean(axis=0)
                     for _ in range(n)])
    return pd.DataFrame({"human": wide.mean(axis=0).to_numpy(),
                         "lo": np.percentile(boot, 2.5, axis=0),
                         "hi": np.percentile(boot, 97.5, axis=0)}, index=wide.columns)


# ----------------------------------------------------------------------------- metrics
def outcome_metrics(P: np.ndarray, agg: pd.DataFrame, human_ci: pd.DataFrame,
                    pairs: pd.DataFrame | None, rng: np.random.Generator) -> dict:
    """Metrics of predicted P(A = 1) on evaluation tasks ``agg`` (rows aligned with ``P``)."""
    from scipy.stats import kendalltau, pearsonr

    P = np.clip(np.asarray(P, float), 0.0, 1.0)
    h = agg["correct"].to_numpy(int)
    agree = P * h + (1 - P) * (1 - h)
    pc = np.clip(P, 1e-6, 1 - 1e-6)
    bins = np.minimum((P * 10).astype(int), 9)
    ece = sum(abs(P[bins == b].mean() - h[bins == b].mean()) * (bins == b).sum()
              for b in range(10) if (bins == b).any()) / len(P)
    sim = agg.assign(correct=P)
    ph, ps = accuracy(agg), accuracy(sim)
    by_m_h, by_m_s = ph.mean(axis=1), ps.mean(axis=1)
    one_crowd = agg.assign(correct=(rng.random(len(P)) < P).astype(int))
    within = ((by_m_s >= human_ci["lo"].reindex(by_m_s.index))
              & (by_m_s <= human_ci["hi"].reindex(by_m_s.index)))
    out = {
        "task_agreement_%": 100 * float(agree.mean()),
        "mode_agreement_%": 100 * float(((P > 0.5).astype(int) == h).mean()),
        "brier": float(np.mean((P - h) ** 2)),
        "log_loss": float(-np.mean(h * np.log(pc) + (1 - h) * np.log(1 - pc))),
        "calibration_error": float(ece),
        "accuracy_%": 100 * float(P.mean()),
        "human_accuracy_%": 100 * float(h.mean()),
        "r_method_accuracy": _safe(lambda: pearsonr(by_m_h, by_m_s)[0]),
        "r_method_k_accuracy": _safe(lambda: pearsonr(ph.to_numpy().ravel(),
                                                      ps.to_numpy().ravel())[0]),
        "kendall_tau": _safe(lambda: kendalltau(score(ph), score(ps)).statistic),
        "kendall_tau_one_crowd": _safe(
            lambda: kendalltau(score(ph), score(accuracy(one_crowd))).statistic),
        "methods_within_human_ci": int(within.sum()),
        "methods": len(by_m_s),
    }
    if pairs is not None and len(pairs):
        pos = pd.Series(np.arange(len(agg)), index=agg.index)
        i, j = pos.loc[pairs["i"]].to_numpy(), pos.loc[pairs["j"]].to_numpy()
        out["dup_agreement_%"] = 100 * float((0.5 * (agree[i] + agree[j])).mean())
        out["dup_test_retest_%"] = 100 * float((h[i] == h[j]).mean())
        out["dup_pairs"] = len(pairs)
    return out


def _safe(f) -> float:
    """A correlation that is undefined (a constant prediction) is NaN, not an error."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            v = float(f())
        except (ValueError, FloatingPointError):
            return np.nan
    return v


# ----------------------------------------------------------------------------- simulators
def _simulate_a(p: np.ndarray, labels: np.ndarray, model: WorkerModel, R: int, seed: int,
                replicates: int) -> np.ndarray:
    """Simulated A (replicates x tasks) of the bag-of-words crowd."""
    return np.stack([eq1_from_matrix(simulate_independent(p, R, model, seed + r), labels)
                     for r in range(replicates)])


def fit_bag_of_words(P: np.ndarray, labels: np.ndarray, human: np.ndarray, model: WorkerModel,
                     R: int, seed: int, grid: dict, replicates: int
                     ) -> tuple[WorkerModel, pd.DataFrame]:
    """The earlier simulator's fit: grid search by raw task agreement (fit tasks only)."""
    results = []
    for values in itertools.product(*grid.values()):
        cand = replace(model, **dict(zip(grid.keys(), values, strict=True)))
        sim = _simulate_a(P, labels, cand, R, seed, replicates)
        results.append({**dict(zip(grid.keys(), values, strict=True)),
                        "fit_agreement_%": 100 * float((sim == human).mean()),
                        "fit_sim_accuracy_%": 100 * float(sim.mean())})
    search = pd.DataFrame(results)
    best = search.loc[search["fit_agreement_%"].idxmax()]
    return replace(model, **{k: float(best[k]) for k in grid}), search


@dataclass
class ValidationResult:
    """Everything the validation tables and figure are made of."""

    folds: pd.DataFrame
    predictions: pd.DataFrame
    references: dict
    calibration: pd.DataFrame
    search: pd.DataFrame
    noise_fits: pd.DataFrame
    full_fit: dict | None
    block: object = None
    notes: dict = field(default_factory=dict)


def _calibration_bins(P: np.ndarray, h: np.ndarray, simulator: str) -> pd.DataFrame:
    bins = np.minimum((np.asarray(P) * 10).astype(int), 9)
    rows = [{"simulator": simulator, "bin": b, "predicted": float(P[bins == b].mean()),
             "observed": float(h[bins == b].mean()), "tasks": int((bins == b).sum())}
            for b in range(10) if (bins == b).any()]
    return pd.DataFrame(rows)


def cross_fit(aggregate: pd.DataFrame, samples: pd.DataFrame, label_names: list[str],
              model: WorkerModel, workers_per_task: int, seed: int,
              settings: ValidationSettings, train_texts: pd.DataFrame | None = None,
              reader=None) -> ValidationResult:
    """Cross-fitted validation of the simulators against the release (module docstring).

    ``reader``: the ``human_fitted`` reader already fitted on ``train_texts`` (rule
    crowd_reader, the one the dataset's crowd jobs use); fitted here when None."""
    from saliency_repro.crowd import human_model as hm

    agg = aggregate.reset_index(drop=True)
    n_classes, R = len(label_names), workers_per_task
    labels, human = agg["label"].to_numpy(int), agg["correct"].to_numpy(int)
    grid = settings.grid or DEFAULT_GRID
    refs = reference_levels(agg, samples, settings, seed)
    pairs = refs["pairs"]
    sims = [s for s in settings.simulators if s in SIMULATORS]
    texts_of = samples.set_index("sample_id")

    def reader_texts(fit_ids):
        if train_texts is not None:
            return train_texts
        return texts_of.loc[sorted(fit_ids)].reset_index()  # the fit half's full texts only

    shown = hm.display_stats(agg["display"])["n_shown"].to_numpy()
    cache: dict = {}

    def human_block(fit_ids) -> hm.TaskBlock:
        key = "train" if train_texts is not None else tuple(sorted(fit_ids))
        if key not in cache and key == "train" and reader is not None:
            cache[key] = hm.TaskBlock(reader.evidence(agg["display"].tolist()), shown, labels,
                                      human)
        if key not in cache:
            tr = reader_texts(fit_ids)
            fitted = hm.HumanReader(label_names, hm.make_encoder(model.encoder),
                                    C_embedding=model.reader_C_embedding,
                                    C_bow=model.reader_C).fit(
                tr["text"], tr["label"], fragments_per_text=model.fragments_per_text,
                max_rows=model.reader_max_train, seed=seed)
            cache.clear()
            cache[key] = hm.TaskBlock(fitted.evidence(agg["display"].tolist()), shown, labels,
                                      human)
        return cache[key]

    bow_cache: dict = {}

    def bow_proba(fit_ids) -> np.ndarray:
        key = "train" if train_texts is not None else tuple(sorted(fit_ids))
        if key not in bow_cache:
            tr = reader_texts(fit_ids)
            reader = Reader(n_classes, C=model.reader_C).fit(
                tr["text"], tr["label"], max_rows=model.reader_max_train, seed=seed)
            bow_cache.clear()
            bow_cache[key] = reader.proba(agg["display"])
        return bow_cache[key]

    fold_rows, pred_rows, searches, noise_rows = [], [], [], []
    calib_P: dict[str, list] = {s: [] for s in sims}
    calib_h: dict[str, list] = {s: [] for s in sims}
    rng = np.random.default_rng(seed + 99)
    for split_seed, fold, fit_ids, fit, ev in fold_masks(agg, samples, settings, seed):
        assert not set(agg.loc[ev, "sample_id"]) & set(fit_ids)  # never fit on evaluation
        ev_agg = agg[ev]
        human_ci = human_method_ci(ev_agg, settings.bootstrap, split_seed * 7 + fold)
        ev_pairs = pairs[pairs["sample_id"].isin(set(ev_agg["sample_id"]))]
        preds: dict[str, np.ndarray] = {}
        if "human_fitted" in sims:
            block = human_block(fit_ids)
            noise, fit_loss = hm.fit_noise([block.subset(fit)], R,
                                           label_bias=settings.label_bias)
            preds["human_fitted"] = hm.predict(block.subset(ev), noise, R)
            noise_rows.append({"split_seed": split_seed, "fold": fold, "simulator": "human_fitted",
                               "fit_log_loss": fit_loss,
                               **{f"w_{c}": v for c, v in noise.weights.items()},
                               **{k: v for k, v in noise.as_dict().items()
                                  if k not in ("weights", "provenance", "label_bias")},
                               **{f"label_bias_{c}": v
                                  for c, v in enumerate(noise.label_bias or [])}})
        if "bag_of_words" in sims:
            P_bow = bow_proba(fit_ids)
            fitted, search = fit_bag_of_words(P_bow[fit], labels[fit], human[fit], model, R,
                                              split_seed, grid, settings.replicates)
            searches.append(search.assign(split_seed=split_seed, fold=fold))
            preds["bag_of_words"] = _simulate_a(P_bow[ev], labels[ev], fitted, R,
                                                split_seed + 1000,
                                                settings.prediction_replicates).mean(axis=0)
            noise_rows.append({"split_seed": split_seed, "fold": fold, "simulator": "bag_of_words",
                               **{f"fitted_{k}": float(getattr(fitted, k)) for k in grid}})
        rate = float(human[fit].mean())
        preds["majority_rule"] = np.full(int(ev.sum()), rate)
        mk = agg[fit].groupby(["method", "k"])["correct"].mean()
        preds["method_k_rule"] = (ev_agg.set_index(["method", "k"]).index.map(mk)
                                  .to_numpy(float))
        for name, P in preds.items():
            m = outcome_metrics(P, ev_agg, human_ci, ev_pairs, rng)
            if name == "majority_rule":  # a rule answers its most likely outcome
                m["mode_agreement_%"] = 100 * float(((rate > 0.5) == human[ev]).mean())
            fold_rows.append({"simulator": name, "split_seed": split_seed, "fold": fold,
                              "fit_samples": len(fit_ids), "eval_tasks": int(ev.sum()), **m})
            if name in sims:
                calib_P[name].append(P)
                calib_h[name].append(human[ev])
                pred_rows.append(pd.DataFrame({"row": np.flatnonzero(ev), "simulator": name,
                                               "split_seed": split_seed, "P": P}))
        LOG.info("split %d fold %d: %s", split_seed, fold,
                 {r["simulator"]: round(r["task_agreement_%"], 1) for r in fold_rows[-len(preds):]})

    folds = pd.DataFrame(fold_rows)
    predictions = pd.concat(pred_rows, ignore_index=True)
    predictions = (predictions.groupby(["simulator", "row"])["P"].mean().unstack(0)
                   .reindex(range(len(agg))))
    predictions = pd.concat([agg[["task_id", "sample_id", "method", "k", "label", "correct"]],
                             predictions], axis=1)
    calibration = pd.concat([_calibration_bins(np.concatenate(calib_P[s]),
                                               np.concatenate(calib_h[s]), s) for s in sims],
                            ignore_index=True)
    full_fit = None
    block = None
    if "human_fitted" in sims:
        block = human_block(set(samples["sample_id"]))
        noise, loss = hm.fit_noise([block], R, label_bias=settings.label_bias)
        full_fit = {**noise.as_dict(), "fit_log_loss": loss, "tasks": len(agg),
                    "samples": len(samples)}
    return ValidationResult(folds=folds, predictions=predictions, references=refs,
                            calibration=calibration,
                            search=pd.concat(searches, ignore_index=True) if searches
                            else pd.DataFrame(),
                            noise_fits=pd.DataFrame(noise_rows), full_fit=full_fit, block=block,
                            notes={"reader": "training split" if train_texts is not None
                                   else "release full texts of the fit half"})


# ----------------------------------------------------------------------------- tables
def _fmt(mean, lo, hi, digits: int) -> str:
    if mean is None or not np.isfinite(mean):
        return ""
    if lo is None or not np.isfinite(lo):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _over_folds(folds: pd.DataFrame, sim: str, col: str):
    v = folds.loc[folds["simulator"] == sim, col].dropna()
    if v.empty:
        return None, None, None
    return float(v.mean()), float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))


METRICS = [
    # key, label, digits, reference key (or None), target rule
    ("task_agreement_%", "task agreement with the human outcome, one simulated crowd (%)", 1,
     "test_retest", "at or above the human test-retest level"),
    ("mode_agreement_%", "task agreement, most likely outcome (%)", 1, "test_retest", ""),
    ("dup_agreement_%", "task agreement on the identical-display pairs, one simulated crowd (%)",
     1, "dup_test_retest", "at or above the test-retest level on the same pairs"),
    ("brier", "Brier score of P(A = 1) (lower is better)", 3, None, ""),
    ("log_loss", "log-loss of P(A = 1) (lower is better)", 3, None, ""),
    ("calibration_error", "calibration error (10 bins, lower is better)", 3, None, ""),
    ("accuracy_%", "crowd accuracy (%); reference: the people", 1, "human_accuracy", ""),
    ("r_method_accuracy", "Pearson r of per-method accuracies with the people's", 2, None, ""),
    ("r_method_k_accuracy", "Pearson r of per-(method, k) accuracies", 2, None, ""),
    ("kendall_tau", "Kendall tau of the method ranking (s_j) with the people's", 2,
     "split_half_tau", "at or above the human split-half tau"),
    ("kendall_tau_one_crowd", "Kendall tau, one simulated crowd", 2, "split_half_tau", ""),
    ("methods_within_human_ci", "methods whose accuracy lies in the people's 95% CI (of 8)", 1,
     None, "at least 6 of 8"),
]


def summary_table(result: ValidationResult) -> pd.DataFrame:
    """One row per metric: each simulator and rule (mean [2.5 %, 97.5 %] over folds), the
    human reference level, and whether the issue's target is met (by the human_fitted
    simulator)."""
    folds, refs = result.folds, result.references
    sources = [s for s in (*SIMULATORS, *RULES) if s in set(folds["simulator"])]
    rows = []
    for key, label, digits, ref, target in METRICS:
        row = {"metric": label}
        for s in sources:
            if s in RULES and key in ("task_agreement_%", "dup_agreement_%",
                                      "kendall_tau_one_crowd", "methods_within_human_ci"):
                row[s] = ""
                continue
            row[s] = _fmt(*_over_folds(folds, s, key), digits)
        ref_val = ref_txt = ""
        ref_mean = np.nan
        if ref == "test_retest":
            ref_mean = refs["test_retest_%"]
            ref_val = _fmt(ref_mean, refs["test_retest_lo"], refs["test_retest_hi"], 1)
            ref_txt = (f"human test-retest: {refs['test_retest_pairs']} pairs of identical "
                       f"displays, {refs['test_retest_samples']} samples (95% CI over samples)")
        elif ref == "dup_test_retest":
            ref_mean = _over_folds(folds, sources[0], "dup_test_retest_%")[0] or np.nan
            ref_val = _fmt(*_over_folds(folds, sources[0], "dup_test_retest_%"), 1)
            ref_txt = "human test-retest on the same evaluation-half pairs"
        elif ref == "split_half_tau":
            ref_mean = refs["split_half_tau"]
            ref_val = _fmt(ref_mean, refs["split_half_tau_lo"], refs["split_half_tau_hi"], 2)
            ref_txt = "human split-half tau (the two halves of each split)"
        elif ref == "human_accuracy":
            ref_val = _fmt(refs["human_accuracy_%"], None, None, 1)
            ref_txt = "the people, all samples"
        row["human_reference"] = ref_val
        row["reference"] = ref_txt
        row["target"] = target
        met = ""
        if target and "human_fitted" in sources:
            mean = _over_folds(folds, "human_fitted", key)[0]
            if key == "methods_within_human_ci":
                pooled = result.notes.get("methods_within_ci_pooled", {}).get("human_fitted")
                met = "yes" if pooled is not None and pooled >= 6 else "no"
                row["human_fitted"] += f"; all samples: {pooled} of 8" if pooled is not None else ""
            elif mean is not None and np.isfinite(ref_mean):
                met = "yes" if mean >= ref_mean else "no"
        row["target_met"] = met
        rows.append(row)
    return pd.DataFrame(rows)


def methods_table(result: ValidationResult, aggregate: pd.DataFrame, n_boot: int,
                  seed: int) -> pd.DataFrame:
    """Per method, all samples: human accuracy with its 95 % CI (bootstrap over samples) and
    each simulator's cross-fitted accuracy (every task predicted by a fit that did not see its
    sample, averaged over the splits), with s_j and its rank."""
    pred = result.predictions
    ci = human_method_ci(aggregate, n_boot, seed)
    sims = [s for s in SIMULATORS if s in pred.columns]
    human_s = score(accuracy(aggregate))
    rows = []
    scores = {s: score(accuracy(pred.assign(correct=pred[s]))) for s in sims}
    ranks = {s: v.rank(ascending=False, method="min") for s, v in scores.items()}
    ranks["human"] = human_s.rank(ascending=False, method="min")
    within: dict[str, int] = {}
    for m in method_order(ci.index):
        row = {"method": m, "human_%": 100 * ci.at[m, "human"],
               "human_ci_lo_%": 100 * ci.at[m, "lo"], "human_ci_hi_%": 100 * ci.at[m, "hi"],
               "human_score_%": 100 * human_s[m], "human_rank": int(ranks["human"][m])}
        for s in sims:
            acc = float(pred.loc[pred["method"] == m, s].mean())
            inside = ci.at[m, "lo"] <= acc <= ci.at[m, "hi"]
            within[s] = within.get(s, 0) + int(inside)
            row.update({f"{s}_%": 100 * acc, f"{s}_within_ci": "yes" if inside else "no",
                        f"{s}_score_%": 100 * scores[s][m], f"{s}_rank": int(ranks[s][m])})
        rows.append(row)
    result.notes["methods_within_ci_pooled"] = within
    return pd.DataFrame(rows)


def validation_figure(result: ValidationResult, aggregate: pd.DataFrame, title: str,
                      n_boot: int, seed: int):
    """Per method: human accuracy per k (95 % CI over samples, shaded) beside each simulator's
    cross-fitted accuracy; last panel: calibration of P(A = 1) on the evaluation halves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from saliency_repro.names import paper_name

    pred = result.predictions
    sims = [s for s in SIMULATORS if s in pred.columns]
    methods = method_order(aggregate["method"].unique())
    ks = sorted(aggregate["k"].unique())
    rng = np.random.default_rng(seed)
    n = len(methods) + 1
    cols = 3
    rows_ = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows_, cols, figsize=(4.0 * cols, 3.0 * rows_), squeeze=False)
    style = {"human_fitted": dict(color="tab:blue", ls="--", marker="s"),
             "bag_of_words": dict(color="tab:orange", ls=":", marker="^")}
    for ax, m in zip(axes.ravel(), methods, strict=False):
        sub = aggregate[aggregate["method"] == m]
        wide = sub.pivot_table(index="sample_id", columns="k", values="correct").reindex(columns=ks)
        boot = np.stack([wide.to_numpy()[rng.integers(0, len(wide), len(wide))].mean(axis=0)
                         for _ in range(n_boot)])
        ax.fill_between(ks, 100 * np.nanpercentile(boot, 2.5, axis=0),
                        100 * np.nanpercentile(boot, 97.5, axis=0), color="0.8",
                        label="people, 95% CI")
        ax.plot(ks, 100 * wide.mean(axis=0), color="black", marker="o", label="people")
        p = pred[pred["method"] == m]
        for s in sims:
            ax.plot(ks, 100 * p.groupby("k")[s].mean().reindex(ks), label=s, **style[s])
        ax.set_title(paper_name(m), fontsize=10)
        ax.set_ylim(0, 100)
        ax.set_xticks(ks)
        ax.set_xlabel("k (shown words)")
        ax.set_ylabel("accuracy (%)")
    axes.ravel()[0].legend(fontsize=7, loc="lower right")
    ax = axes.ravel()[len(methods)]
    ax.plot([0, 1], [0, 1], color="0.6", lw=1)
    for s in sims:
        c = result.calibration[result.calibration["simulator"] == s]
        ax.plot(c["predicted"], c["observed"], label=s, **style[s])
    ax.set_xlabel("predicted P(A = 1)")
    ax.set_ylabel("observed share A = 1")
    ax.set_title("calibration (evaluation halves)", fontsize=10)
    ax.legend(fontsize=7)
    for extra in axes.ravel()[n:]:
        extra.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
