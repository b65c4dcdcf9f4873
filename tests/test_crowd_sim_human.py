"""The human_fitted simulated crowd: equation (1) mechanics, the fit, cross-fitting without
leaks, the reference levels and the validation artifacts (tiny made-up releases; the real
release only in the shared_data test)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from saliency_repro.crowd import IDK, steps
from saliency_repro.crowd import human_model as hm
from saliency_repro.crowd import validation as val
from saliency_repro.crowd.simulate import WorkerModel, build_crowd, eq1_from_matrix

GOOD = ["great", "superb", "wonderful", "fine", "lovely", "brilliant"]
BAD = ["awful", "boring", "terrible", "dull", "poor", "dreadful"]
FILL = ["the", "film", "was", "seen", "a", "story", "about", "it"]
METHODS = ["random", "integrated_gradients", "lime", "deeplift"]
KS = [5, 10]


# ----------------------------------------------------------------------------- eq. (1)
@pytest.mark.parametrize("C", [2, 3, 4])
@pytest.mark.parametrize("R", [1, 2, 4, 5])
def test_exact_majority_probability_equals_brute_force(C, R):
    # every one of the (C+1)^R ordered answer vectors through eq1_from_matrix
    rng = np.random.default_rng(C * 10 + R)
    pi = rng.dirichlet(np.ones(C + 1), size=7)
    labels = rng.integers(0, C, 7)
    cats = list(range(C)) + [IDK]
    vectors = np.array(list(itertools.product(range(C + 1), repeat=R)))
    answers = np.array(cats)[vectors]
    brute = np.zeros(7)
    for t in range(7):
        prob = np.prod(pi[t][vectors], axis=1)
        brute[t] = (prob * eq1_from_matrix(answers, np.full(len(answers), labels[t]))).sum()
    assert np.allclose(hm.p_majority_correct(pi, labels, R), brute, atol=1e-12)


def test_equation_1_corner_cases():
    C = 2
    only_idk = np.array([[0.0, 0.0, 1.0]])
    only_true = np.array([[1.0, 0.0, 0.0]])
    assert hm.p_majority_correct(only_idk, [0], 5)[0] == 0  # "I don't know" is not the label
    assert hm.p_majority_correct(only_true, [0], 5)[0] == pytest.approx(1)
    # R = 2, half true and half "I don't know": the only correct outcome is two true votes,
    # a 1-1 tie with "I don't know" (or the other label) counts as wrong
    half = np.array([[0.5, 0.0, 0.5]])
    assert hm.p_majority_correct(half, [0], 2)[0] == pytest.approx(0.25)
    # R = 4: 2 true, 2 other is a tie -> wrong; 2 true, 1 other, 1 IDK -> right
    counts, _, outcome = hm._enumeration(C, 4)
    row = {tuple(c): o for c, o in zip(counts.tolist(), outcome[:, 0], strict=True)}
    assert row[(2, 2, 0)] == 0 and row[(2, 1, 1)] == 1 and row[(2, 0, 2)] == 0
    assert row[(1, 0, 3)] == 0 and row[(3, 1, 0)] == 1


def test_simulated_workers_match_the_exact_probability():
    rng = np.random.default_rng(1)
    n = 6
    ev = {"embedding": rng.normal(0, 1.5, (n, 3)), "bag_of_words": rng.normal(0, 1, (n, 3))}
    shown = np.array([5, 10, 20, 5, 40, 30])
    labels = np.array([0, 1, 2, 0, 1, 2])
    noise = hm.HumanNoise(weights={"embedding": 1.0, "bag_of_words": 0.5}, skill_sigma=0.6,
                          idk_intercept=0.3, idk_slope=-0.2, idk_sigma=0.8, lapse_rate=0.1)
    exact = hm.p_majority_correct(hm.answer_distribution(ev, shown, noise), labels, 5)
    reps = 4000
    big = {c: np.repeat(v, reps, axis=0) for c, v in ev.items()}
    ans = hm.simulate_crowd(big, np.repeat(shown, reps), noise, 5, seed=3)
    assert set(np.unique(ans)) <= {0, 1, 2, IDK}
    mc = eq1_from_matrix(ans, np.repeat(labels, reps)).reshape(n, reps).mean(axis=1)
    assert np.allclose(mc, exact, atol=0.035)


def test_answer_distribution_rows_sum_to_one_and_lapses_spread():
    ev = {"embedding": np.array([[50.0, -50.0], [0.0, 0.0]])}
    noise = hm.HumanNoise(weights={"embedding": 1.0}, idk_intercept=-30.0, lapse_rate=0.2)
    pi = hm.answer_distribution(ev, [5, 5], noise)
    assert np.allclose(pi.sum(axis=1), 1)
    assert pi[0, 1] == pytest.approx(0.1, abs=1e-6)  # a lapse clicks the other label half the time
    assert pi[1, 2] < 1e-6                           # IDK utility -30: never "I don't know"


# ----------------------------------------------------------------------------- fitting
def _synthetic_block(noise: hm.HumanNoise, n: int, seed: int, R: int = 5) -> hm.TaskBlock:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    strength = rng.gamma(1.0, 1.0, n)
    e = np.zeros((n, 2))
    e[np.arange(n), labels] = strength
    e[np.arange(n), 1 - labels] = -strength * rng.random(n)
    ev = {"embedding": e + rng.normal(0, 0.3, (n, 2)), "bag_of_words": rng.normal(0, 0.5, (n, 2)),
          "zero_shot": rng.normal(0, 0.5, (n, 2))}
    shown = rng.choice([5, 10, 20, 40], n)
    P = hm.p_majority_correct(hm.answer_distribution(ev, shown, noise), labels, R)
    return hm.TaskBlock(ev, shown, labels, (rng.random(n) < P).astype(int))


def test_fit_recovers_a_known_noise_model():
    truth = hm.HumanNoise(weights={"embedding": 2.0, "bag_of_words": 0.05, "zero_shot": 0.05},
                          skill_sigma=0.4, idk_intercept=0.5, idk_slope=-0.3, idk_sigma=0.5,
                          lapse_rate=0.05)
    block = _synthetic_block(truth, 3000, 0)
    fit, loss = hm.fit_noise([block], 5)
    test = _synthetic_block(truth, 3000, 1)
    p_true, p_fit = hm.predict(test, truth, 5), hm.predict(test, fit, 5)
    assert np.abs(p_fit - p_true).mean() < 0.05
    assert fit.weights["embedding"] > 5 * fit.weights["bag_of_words"]  # finds the informative channel
    brier = lambda p: np.mean((p - test.correct) ** 2)  # noqa: E731
    assert brier(p_fit) < brier(p_true) + 0.005


def test_pooled_fit_accepts_datasets_with_different_numbers_of_labels():
    truth = hm.HumanNoise(weights={"embedding": 1.5}, idk_intercept=0.0, lapse_rate=0.05)
    b2 = _synthetic_block(truth, 400, 2)
    rng = np.random.default_rng(3)
    ev4 = {c: rng.normal(0, 1, (300, 4)) for c in hm.CHANNELS}
    b4 = hm.TaskBlock(ev4, rng.choice([5, 40], 300), rng.integers(0, 4, 300),
                      rng.integers(0, 2, 300))
    fit, loss = hm.fit_noise([b2, b4], 5, max_iter=30)
    assert np.isfinite(loss) and set(fit.weights) == set(hm.CHANNELS)


# ----------------------------------------------------------------------------- a made-up release
def _release(n_samples: int = 16, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A release-like (samples, aggregate): cue words make some displays easy; the human
    outcome is drawn from how many cues are shown. INPUT x GRAD and DEEPLIFT share displays."""
    rng = np.random.default_rng(seed)
    samples, rows = [], []
    for i in range(n_samples):
        label = i % 2
        cues = list(rng.choice(GOOD if label else BAD, 4))
        words = cues + list(rng.choice(FILL, 26))
        words = [words[j] for j in rng.permutation(len(words))]
        sid = f"r{i:03d}"
        samples.append({"sample_id": sid, "text": " ".join(words), "label": label})
        for m in METHODS + ["input_x_grad"]:
            for k in KS:
                if m == "input_x_grad":
                    disp = next(r["display"] for r in rows if r["sample_id"] == sid
                                and r["method"] == "deeplift" and r["k"] == k)
                else:
                    pool = [j for j, w in enumerate(words) if w in cues] if m == "integrated_gradients" else []
                    rest = [j for j in rng.permutation(len(words)) if j not in pool]
                    shown = sorted((pool + rest)[:k])
                    disp = " ".join(w if j in shown else "." for j, w in enumerate(words))
                n_cue = sum(w in cues for w in disp.split())
                p = 0.2 + 0.7 * min(n_cue, 3) / 3
                rows.append({"sample_id": sid, "method": m, "k": k, "label": label,
                             "correct": int(rng.random() < p), "display": disp,
                             "task_id": f"{sid}_{m}_{k}"})
    return pd.DataFrame(samples), pd.DataFrame(rows)


def _train(n: int = 120, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        w = list(rng.choice(GOOD if label else BAD, 3)) + list(rng.choice(FILL, 9))
        out.append({"text": " ".join(rng.permutation(w)), "label": label})
    return pd.DataFrame(out)


FAST = WorkerModel(model="human_fitted", encoder="hashing", fragments_per_text=1)
SETTINGS = val.ValidationSettings(splits=2, replicates=1, prediction_replicates=5, bootstrap=50,
                                  grid={"skill_median": [1.0, 4.0], "idk_margin": [0.1],
                                        "lapse_rate": [0.05]})


def test_identical_displays_give_the_test_retest_reference():
    samples, agg = _release()
    pairs = val.identical_display_pairs(agg)
    # every (sample, k) has INPUT x GRAD == DEEPLIFT, random displays rarely coincide
    assert len(pairs) >= len(samples) * len(KS)
    same = agg.loc[pairs["i"], "display"].to_numpy() == agg.loc[pairs["j"], "display"].to_numpy()
    assert same.all()
    assert (agg.loc[pairs["i"], "sample_id"].to_numpy() == pairs["sample_id"].to_numpy()).all()
    refs = val.reference_levels(agg, samples, SETTINGS, 0)
    h = agg["correct"].to_numpy()
    expected = 100 * np.mean(h[pairs["i"]] == h[pairs["j"]])
    assert refs["test_retest_%"] == pytest.approx(expected)
    assert refs["test_retest_lo"] <= expected <= refs["test_retest_hi"]
    assert -1 <= refs["split_half_tau"] <= 1


def test_folds_never_put_a_sample_on_both_sides():
    samples, agg = _release()
    seen = []
    for split_seed, fold, fit_ids, fit, ev in val.fold_masks(agg, samples, SETTINGS, 3):
        assert not set(agg.loc[ev, "sample_id"]) & set(fit_ids)
        assert set(agg.loc[fit, "sample_id"]) == set(fit_ids)
        assert fit.sum() == ev.sum()  # exactly half
        seen.append((split_seed, fold, frozenset(agg.loc[ev, "sample_id"])))
    # each split's two folds evaluate complementary halves: every sample once per split
    for s in {s for s, _, _ in seen}:
        halves = [e for t, _, e in seen if t == s]
        assert halves[0] | halves[1] == set(samples["sample_id"]) and not halves[0] & halves[1]


@pytest.mark.parametrize("reader", ["train_split", "release_texts"])
def test_fits_never_see_evaluation_samples(reader, monkeypatch):
    """Poison the evaluation half of one fold (its human outcomes flipped, its full texts
    replaced; the labels stay, as the split is stratified by them): everything fitted in that
    fold must come out the same."""
    samples, agg = _release()
    train = _train() if reader == "train_split" else None
    seed = 11
    first = next(val.fold_masks(agg, samples, SETTINGS, seed))
    _, _, fit_ids, _, ev = first
    poisoned_agg = agg.copy()
    poisoned_agg.loc[ev, "correct"] = 1 - poisoned_agg.loc[ev, "correct"]
    poisoned_samples = samples.copy()
    out = ~poisoned_samples["sample_id"].isin(fit_ids)
    poisoned_samples.loc[out, "text"] = "zzz qqq " * 10
    assert next(val.fold_masks(poisoned_agg, poisoned_samples, SETTINGS, seed))[2] == fit_ids

    fits = []
    real_fit = hm.fit_noise

    def recording_fit(blocks, R, **kw):
        out = real_fit(blocks, R, **kw)
        fits.append(out[0])
        return out

    monkeypatch.setattr(hm, "fit_noise", recording_fit)
    a = val.cross_fit(agg, samples, ["negative", "positive"], FAST, 5, seed, SETTINGS, train)
    first_clean = fits[0]
    fits.clear()
    b = val.cross_fit(poisoned_agg, poisoned_samples, ["negative", "positive"], FAST, 5, seed,
                      SETTINGS, train)
    first_poisoned = fits[0]
    for k in ("skill_sigma", "idk_intercept", "idk_slope", "idk_sigma", "lapse_rate"):
        assert getattr(first_clean, k) == pytest.approx(getattr(first_poisoned, k), rel=1e-9)
    assert first_clean.weights == pytest.approx(first_poisoned.weights, rel=1e-9)
    key = ["split_seed", "fold"]
    bow_a = a.search.set_index(key).loc[(seed, 0)]
    bow_b = b.search.set_index(key).loc[(seed, 0)]
    pd.testing.assert_frame_equal(bow_a.reset_index(drop=True), bow_b.reset_index(drop=True))
    # ... and the poisoned outcomes do change the other fold's fit (the check has teeth)
    other_a = a.noise_fits.query("simulator == 'human_fitted' and fold == 1").iloc[0]
    other_b = b.noise_fits.query("simulator == 'human_fitted' and fold == 1").iloc[0]
    assert other_a["fit_log_loss"] != pytest.approx(other_b["fit_log_loss"], rel=1e-6)


def test_cross_fit_tables_and_figure(tmp_path):
    samples, agg = _release()
    res = val.cross_fit(agg, samples, ["negative", "positive"], FAST, 5, 2, SETTINGS, _train())
    assert set(res.folds["simulator"]) == {"human_fitted", "bag_of_words", "majority_rule",
                                           "method_k_rule"}
    assert len(res.folds) == 4 * 2 * SETTINGS.splits
    # every task gets a cross-fitted prediction from each simulator
    assert res.predictions[["human_fitted", "bag_of_words"]].notna().all().all()
    methods = val.methods_table(res, agg, 50, 0)
    assert len(methods) == agg["method"].nunique()
    table = val.summary_table(res)
    assert {"metric", "human_fitted", "bag_of_words", "majority_rule", "method_k_rule",
            "human_reference", "target_met"} <= set(table.columns)
    assert set(table["target_met"]) <= {"yes", "no", ""}
    fig = val.validation_figure(res, agg, "[t] fig", 20, 0)
    from saliency_repro.reporting import save_figure

    save_figure(fig, tmp_path / "fig")
    assert (tmp_path / "fig.png").stat().st_size > 1000


# ----------------------------------------------------------------------------- steps / crowd
def _write_release(path, samples, agg):
    from saliency_repro.attribution.registry import methods_for

    release_name = {m.id: m.release for m in methods_for()}
    lines = ["Text\tLabel\tSaliency\tWords\tCorrect"]
    for s in samples.itertuples():
        lines.append(f"{s.text}\t{s.label}\tN/A\tAll\tN/A")
        for r in agg[agg["sample_id"] == s.sample_id].itertuples():
            lines.append(f"{r.display}\t{r.label}\t{release_name[r.method]}\t{r.k}\t{r.correct}")
    path.write_text("\n".join(lines) + "\n")


def test_run_validation_and_human_noise_params(tmp_path):
    samples, agg = _release()
    _write_release(tmp_path / "rel.tsv", samples, agg)
    _train().to_parquet(tmp_path / "train.parquet")
    cfg = {"model": "human_fitted", "encoder": "hashing", "fragments_per_text": 1}
    vcfg = {"splits": 1, "replicates": 1, "prediction_replicates": 3, "bootstrap": 20,
            "grid": {"skill_median": [2.0], "idk_margin": [0.1], "lapse_rate": [0.05]},
            "datasets": {"toy": {}}}
    steps.run_validation(tmp_path / "rel.tsv", ["negative", "positive"], cfg, vcfg, 5, 0,
                         tmp_path / "train.parquet", tmp_path / "val", "[t] validation",
                         tmp_path / "v" / "grid.parquet", methods_stem=tmp_path / "methods",
                         figure_stem=tmp_path / "fig", evidence_out=tmp_path / "v" / "ev.parquet",
                         run="t", dataset="toy")
    for f in ("val.csv", "val.md", "methods.csv", "fig.png", "fig.pdf", "v/grid.parquet",
              "v/grid.json", "v/ev.parquet", "v/fitted_parameters.parquet"):
        assert (tmp_path / f).is_file(), f
    summary = json.loads((tmp_path / "v" / "grid.json").read_text())
    assert summary["full_fit"]["samples"] == len(samples)
    steps.run_human_noise_params({"toy": tmp_path / "v" / "ev.parquet",
                                  "toy2": tmp_path / "v" / "ev.parquet"},
                                 {"toy": {"url": "u", "sha256": "0" * 64}, "toy2": {"path": "p"}},
                                 cfg, 5, tmp_path / "noise.json", "t")
    data = json.loads((tmp_path / "noise.json").read_text())
    assert set(data["fits"]) == {"toy", "toy2", "pooled"}
    assert data["provenance"]["release"]["toy"]["sha256"] == "0" * 64
    noise = hm.load_noise("pooled", tmp_path / "noise.json")
    assert noise.provenance["fit"] == "pooled" and set(noise.weights) == set(hm.CHANNELS)


def test_validation_with_the_fitted_reader_equals_its_own_fit_of_the_same_seed(tmp_path):
    """simulator_validation (reader: train_split) loads rule crowd_reader's reader instead of
    fitting its own; fitted with the same seed, every table is the same."""
    samples, agg = _release()
    _write_release(tmp_path / "rel.tsv", samples, agg)
    _train().to_parquet(tmp_path / "train.parquet")
    cfg = {"model": "human_fitted", "encoder": "hashing", "fragments_per_text": 1}
    vcfg = {"splits": 1, "replicates": 1, "prediction_replicates": 3, "bootstrap": 20,
            "grid": {"skill_median": [2.0], "idk_margin": [0.1], "lapse_rate": [0.05]},
            "datasets": {"toy": {}}}
    steps.run_fit_reader(tmp_path / "train.parquet", ["negative", "positive"], cfg, 0,
                         tmp_path / "reader.pkl", dataset="toy")
    for name, reader in (("own", None), ("loaded", tmp_path / "reader.pkl")):
        steps.run_validation(tmp_path / "rel.tsv", ["negative", "positive"], cfg, vcfg, 5, 0,
                             tmp_path / "train.parquet", tmp_path / f"{name}_val", "[t] v",
                             tmp_path / name / "grid.parquet",
                             evidence_out=tmp_path / name / "ev.parquet", reader=reader)
    assert (tmp_path / "own_val.csv").read_text() == (tmp_path / "loaded_val.csv").read_text()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "own" / "ev.parquet"),
                                  pd.read_parquet(tmp_path / "loaded" / "ev.parquet"))


def test_human_fitted_crowd_answers_the_design(tmp_path):
    from saliency_repro.crowd.design import assign_workers, build_tasks

    samples, agg = _release(8)
    displays = agg.drop(columns="task_id").assign(pred=agg["label"], shown_positions=[[0]] * len(agg))
    tasks = build_tasks(displays)
    assign = assign_workers(tasks, 3, 8, 1)
    noise = hm.HumanNoise(weights={"embedding": 1.0, "bag_of_words": 1.0, "zero_shot": 0.0})
    crowd = hm.HumanFittedCrowd.from_training(_train(), ["negative", "positive"], FAST, 0, noise)
    a1 = crowd.simulate_answers(assign, tasks, 4)
    a2 = crowd.simulate_answers(assign, tasks, 4)
    pd.testing.assert_frame_equal(a1, a2)
    assert list(a1.columns) == ["task_id", "sample_id", "method", "k", "worker_id", "answer"]
    assert len(a1) == len(assign) and set(a1["answer"]) <= {0, 1, IDK}
    experts = crowd.independent(tasks["display"], 2, 0, experts=True)
    assert experts.shape == (len(tasks), 2)


@pytest.mark.parametrize("model", [FAST, WorkerModel()], ids=["human_fitted", "bag_of_words"])
def test_a_saved_reader_answers_exactly_like_one_fitted_in_the_job(tmp_path, model):
    """Rule crowd_reader fits the reader once and every crowd job loads it: the answers and
    the experts must be those of a crowd whose reader was fitted in the job with the same
    seed (what the jobs did before), to the last bit."""
    from dataclasses import replace

    from saliency_repro.crowd.design import assign_workers, build_tasks
    from saliency_repro.crowd.simulate import (
        READER_KEYS,
        crowd_from_reader,
        fit_crowd_reader,
        load_reader,
        save_reader,
    )

    samples, agg = _release(8)
    displays = agg.drop(columns="task_id").assign(pred=agg["label"], shown_positions=[[0]] * len(agg))
    tasks = build_tasks(displays)
    assign = assign_workers(tasks, 3, 8, 1)
    labels = ["negative", "positive"]
    in_job = build_crowd(_train(), labels, model, 11)
    save_reader(fit_crowd_reader(_train(), labels, model, 11), tmp_path / "r.pkl",
                {"settings": {k: getattr(model, k) for k in READER_KEYS}, "label_names": labels})
    loaded = crowd_from_reader(load_reader(tmp_path / "r.pkl", model, labels), model)
    pd.testing.assert_frame_equal(in_job.simulate_answers(assign, tasks, 4),
                                  loaded.simulate_answers(assign, tasks, 4))
    np.testing.assert_array_equal(in_job.independent(tasks["display"], 2, 9, experts=True),
                                  loaded.independent(tasks["display"], 2, 9, experts=True))
    # a reader fitted with other settings or labels is refused, naming the key
    with pytest.raises(ValueError, match="crowd.simulated.reader_C"):
        load_reader(tmp_path / "r.pkl", replace(model, reader_C=5.0))
    with pytest.raises(ValueError, match="label_names"):
        load_reader(tmp_path / "r.pkl", model, ["neg", "pos"])


def test_a_pickled_human_reader_names_its_encoder_instead_of_holding_it(tmp_path):
    import pickle

    reader = hm.fit_reader(_train(), ["negative", "positive"], FAST, 0)
    state = reader.__getstate__()
    assert state["encoder"] == "hashing" and reader.encoder is not None
    again = pickle.loads(pickle.dumps(reader))
    assert isinstance(again.encoder, hm.HashingEncoder)
    words = ["great film", "dull story . ."]
    for ch, e in reader.evidence(words).items():
        np.testing.assert_array_equal(e, again.evidence(words)[ch])


def test_worker_model_selects_the_simulator():
    assert WorkerModel.from_config({}).model == "bag_of_words"
    assert WorkerModel.from_config({"model": "human_fitted"}).model == "human_fitted"
    with pytest.raises(ValueError, match="crowd.simulated.model"):
        WorkerModel.from_config({"model": "oracle"})
    crowd = build_crowd(_train(), ["negative", "positive"], WorkerModel(), 0)
    assert type(crowd).__name__ == "BagOfWordsCrowd"


def test_package_noise_parameters_have_provenance():
    data = json.loads(hm.PACKAGE_NOISE.read_text())
    assert {"pooled", "imdb", "agnews"} <= set(data["fits"])
    rel = data["provenance"]["release"]
    assert rel["imdb"]["sha256"] == "0cd992280e85bc814c78f79a307b0177b269383acd30ba5879bb424b1dfe0e38"
    assert rel["agnews"]["sha256"] == "b623ae23f49d4e97570588be41b75524cc8a264015e1ef05777f1c0357b5ec6e"
    for fit in data["fits"].values():
        noise = hm.HumanNoise.from_dict(fit)
        assert all(w >= 0 for w in noise.weights.values()) and 0 <= noise.lapse_rate <= 1


@pytest.mark.shared_data
def test_reference_levels_of_the_real_release(shared_data):
    from saliency_repro.crowd.released import read_release

    path = shared_data / "lu2024-crowd-release"
    if not path.is_dir():
        pytest.skip(f"no release at {path}")
    settings = val.ValidationSettings(splits=5, bootstrap=100)
    for name, C, retest in [("IMDB", 2, 77.3), ("AGNEWS", 4, 88.3)]:
        rel = read_release(path / f"{name}.csv", C)
        refs = val.reference_levels(rel.aggregate, rel.samples, settings, 0)
        assert refs["test_retest_%"] == pytest.approx(retest, abs=0.1)
        assert 0.4 < refs["split_half_tau"] <= 1


def test_label_bias_is_fitted_per_dataset_and_dropped_when_labels_differ(caplog):
    truth = hm.HumanNoise(weights={"embedding": 1.5}, idk_intercept=0.0, lapse_rate=0.05,
                          label_bias=[1.0, -1.0])
    block = _synthetic_block(truth, 1500, 4)
    fit, _ = hm.fit_noise([block], 5, label_bias=True, max_iter=60)
    assert len(fit.label_bias) == 2 and sum(fit.label_bias) == pytest.approx(0, abs=1e-9)
    assert fit.label_bias[0] > fit.label_bias[1]  # people prefer label 0 here
    with pytest.raises(ValueError, match="one label set"):
        rng = np.random.default_rng(0)
        b4 = hm.TaskBlock({"embedding": rng.normal(size=(10, 4))}, np.full(10, 5),
                          rng.integers(0, 4, 10), rng.integers(0, 2, 10))
        hm.fit_noise([block, b4], 5, label_bias=True)
    wrong = hm.HumanNoise(weights={"embedding": 1.0}, label_bias=[0.5, 0.0, -0.5])
    crowd = hm.HumanFittedCrowd.from_training(_train(), ["negative", "positive"], FAST, 0, wrong)
    assert crowd.noise.label_bias is None and "biases dropped" in caplog.text
