# Lu et al. (2024) Table 5 and section 4.2 Q2: automated faithfulness metrics of the saliency
# methods beside the human evaluation (saliency_repro.faithfulness).
#   faithfulness_metrics   per sample and method: ERASER comprehensiveness / sufficiency (AOPC
#                          over bins and at the crowd's k), tau-LOO, deletion / insertion AUC,
#                          AUPRC / token F1 against planted cues (demo); batched forward passes
#   faithfulness_table     faithfulness_metrics_{dataset}: the means per method
#   faithfulness_compare   metric_comparison_{dataset} (Table 5 extended: printed values beside
#                          this run's columns, ranks), metric_agreement_{dataset} (heat map) and
#                          metric_agreement_tau_{dataset} (Kendall tau vs each crowd, bootstrap
#                          CI over samples), faithfulness_claims_{dataset} (the Q2 claims)

# captions state the dataset's own k grid (datasets.<name>.saliency.k, else saliency.k)
from saliency_repro.faithfulness.steps import faithfulness_note  # noqa: E402

FAITH = f"{R}/faithfulness"
FAITH_CFG = config["faithfulness"]
_FAITH_MODEL = config["classifier"]["model"]
FAITH_MODEL_LABEL = (_FAITH_MODEL.get("name_or_path", "pretrained") if _FAITH_MODEL["type"] == "pretrained"
                     else f"BERT from scratch, {_FAITH_MODEL.get('num_layers', 2)} layers")


for _ds in CLASSIFICATION:
    _register("faithfulness_metrics", "table", "faithfulness_table", _ds,
              note="ERASER comprehensiveness/sufficiency (AOPC, per bin, per crowd k), tau-LOO, "
                   "deletion/insertion AUC" + (", AUPRC/token F1 vs planted cues" if has_ground_truth(_ds) else ""))
    if crowd_sources(_ds):
        _register("metric_comparison", "table", "faithfulness_compare", _ds, ref="lu2024/table5",
                  note=("printed Table 5 beside this run's columns" if paper_ref(_ds, "crowd_scores") == "lu2024/table3"
                        else "this run's columns (Table 5 is printed for IMDB only)"))
        _register("metric_agreement", "figure", "faithfulness_compare", _ds,
                  note="Kendall tau of each metric's method ranking vs the human ranking, bootstrap CI")
        _register("metric_agreement_tau", "table", "faithfulness_compare", _ds,
                  note="the numbers of the metric_agreement heat map (and the printed Table 5's)")
        _register("faithfulness_claims", "table", "faithfulness_compare", _ds,
                  note="section 4.2 Q2 observations tested on this run")


rule faithfulness_metrics:
    input:
        samples=f"{R}/samples/{{dataset}}/{{sample_set}}.parquet",
        word_scores=f"{R}/saliency/{{dataset}}/{{sample_set}}/word_scores.parquet",
        model=f"{R}/models/{{dataset}}/classifier",
    output:
        per_sample=f"{FAITH}/{{dataset}}/{{sample_set}}/per_sample.parquet",
        run=f"{FAITH}/{{dataset}}/{{sample_set}}/run.json",
    params:
        cfg=config_part(FAITH_CFG, "bins", "perturbation", "curve_points", "batch_size", "n_samples"),
        k_grid=lambda w: display_k(w.dataset),
        rank_by=config["saliency"]["rank_by"],
        explained_class=config["saliency"]["explained_class"],
        max_length=config["classifier"]["max_length"],
        device=DEVICE,
    log:
        f"{R}/logs/faithfulness_metrics/{{dataset}}_{{sample_set}}.log",
    benchmark:
        f"{R}/benchmarks/faithfulness_metrics/{{dataset}}_{{sample_set}}.tsv"
    threads: HEAVY_THREADS
    resources:
        mem_mb=8000,
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/faithfulness_metrics.py"


rule faithfulness_table:
    input:
        f"{FAITH}/{{dataset}}/correct/per_sample.parquet",
    output:
        table_files(f"{LU}/faithfulness_metrics_{{dataset}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/faithfulness_metrics_{w.dataset}",
        cfg=config_part(FAITH_CFG, "bins"),
        k_grid=lambda w: display_k(w.dataset),
        caption=lambda w: caption_for(RUN, (
            f"Automated faithfulness metrics of each saliency method, mean over the correctly "
            f"classified {w.dataset} samples: ERASER comprehensiveness (higher = more faithful) and "
            f"sufficiency (lower), AOPC and per bin / per crowd k (w = words); Kendall tau of the "
            f"word scores vs the leave-one-out probability drop (tau_loo_n: samples where it is "
            f"defined); deletion (lower) and insertion (higher) AUC"
            + ("; AUPRC and token F1 against the planted cue words" if has_ground_truth(w.dataset) else "")
            + f". {faithfulness_note(FAITH_CFG, display_k(w.dataset), display_size_key(w.dataset, 'k'), SALIENCY_NOTE)}")),
    log:
        f"{R}/logs/faithfulness_table/{{dataset}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/faithfulness_table.py"


rule faithfulness_compare:
    input:
        per_sample=f"{FAITH}/{{dataset}}/correct/per_sample.parquet",
        aggregates=lambda w: [f"{CROWD}/{w.dataset}/correct/{s}/aggregate.parquet" for s in crowd_sources(w.dataset)],
    output:
        values=f"{FAITH}/{{dataset}}/method_values.parquet",
        agreement=f"{FAITH}/{{dataset}}/agreement.parquet",
        comparison=table_files(f"{LU}/metric_comparison_{{dataset}}", LU_REPORT),
        tau=table_files(f"{LU}/metric_agreement_tau_{{dataset}}", LU_REPORT),
        claims=table_files(f"{LU}/faithfulness_claims_{{dataset}}", LU_REPORT),
        figure=figure_files(f"{LU}/metric_agreement_{{dataset}}", LU_REPORT),
    params:
        crowd_sources=lambda w: crowd_sources(w.dataset),
        crowd_types=lambda w: {s: crowd_source_cfg(w.dataset, s)["type"] for s in crowd_sources(w.dataset)},
        cfg=config_part(FAITH_CFG, "bootstrap", "ci_level", "include_random"),
        seed=lambda w: crowd_seed("faithfulness", w.dataset),
        with_paper=lambda w: paper_ref(w.dataset, "crowd_scores") == "lu2024/table3",
        model_label=FAITH_MODEL_LABEL,
        comparison=lambda w: f"{LU}/metric_comparison_{w.dataset}",
        tau=lambda w: f"{LU}/metric_agreement_tau_{w.dataset}",
        claims=lambda w: f"{LU}/faithfulness_claims_{w.dataset}",
        figure=lambda w: f"{LU}/metric_agreement_{w.dataset}",
        captions=lambda w: {
            "comparison": crowd_caption(
                f"Lu et al. Table 5 extended, {w.dataset}: each method's value (rank) under every "
                f"evaluation. "
                + ("Columns marked (paper) are the printed Table 5 (literature values on IMDB/PTB, "
                   "cited with their source, model and dataset in the first rows). "
                   if paper_ref(w.dataset, "crowd_scores") == "lu2024/table3" else "")
                + f"Human s_j (%, equation (2)) from each crowd source; the automated metrics of this "
                f"run (mean over the correctly classified samples; ↑/↓ = higher/lower is better; "
                f"ranks in that direction, RANDOM included). "
                f"{faithfulness_note(FAITH_CFG, display_k(w.dataset), display_size_key(w.dataset, 'k'), SALIENCY_NOTE)}"),
            "agreement": crowd_caption(
                f"Kendall tau-b between each automated metric's method ranking (oriented: larger = "
                f"better) and each crowd's ranking by s_j, {w.dataset}; "
                f"{100 * FAITH_CFG['ci_level']:g}% BCa bootstrap CI over samples (ci_method) "
                f"({FAITH_CFG['bootstrap']} replicates; paired where both are on the same samples); "
                f"p: test of tau = 0. Rows 'paper (printed)': the printed Table 5 columns vs the "
                f"printed Ours, where shown."),
            "figure": crowd_caption(
                f"Agreement of automated metrics with the human ranking of saliency methods, "
                f"{w.dataset} (Kendall tau, {100 * FAITH_CFG['ci_level']:g}% bootstrap CI)"),
            "claims": crowd_caption(
                f"Lu et al. section 4.2 Q2 ('do our results agree with the previous studies?') tested "
                f"on this run, {w.dataset}: statistic, CI, test, verdict; rows 'paper' check the "
                f"statements against the printed Table 5 itself."),
        },
    log:
        f"{R}/logs/faithfulness_compare/{{dataset}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/faithfulness_compare.py"
