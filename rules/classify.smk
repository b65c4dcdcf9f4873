# Lu et al. step 1: one sequence classifier per classification dataset, its test metrics, and
# the evaluation samples (correctly classified / misclassified, balanced by class).


for _ds in CLASSIFICATION:
    ARTIFACTS.add("classifier_metrics", f"{F}/lu2024/classifier_metrics_{{dataset}}", kind="table",
                  by_rule="classifier_metrics_table", dataset=_ds,
                  note="test accuracy and macro-F1 of the fine-tuned classifier")


# the training job's threads are not part of its settings (params), but its weights depend on
# them: classifier.threads (null = max_threads) keeps them fixed when max_threads changes
CLASSIFIER_THREADS = section_threads("classifier")
CLASSIFIER_CFG = section_settings("classifier")


rule train_classifier:
    input:
        train=f"{R}/data/{{dataset}}/train.parquet",
        validation=f"{R}/data/{{dataset}}/validation.parquet",
        meta=f"{R}/data/{{dataset}}/meta.json",
    output:
        directory(f"{R}/models/{{dataset}}/classifier"),
    params:
        # beside the output: Snakemake deletes a failed job's output, the checkpoints survive
        checkpoints=lambda wc: f"{R}/models/{wc.dataset}/checkpoints",
        cfg=CLASSIFIER_CFG,
        label_names=lambda wc: config["datasets"][wc.dataset]["label_names"],
        seed=config["seed"],
        device=DEVICE,
    log:
        f"{R}/logs/train_classifier/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/train_classifier/{{dataset}}.tsv"
    # the critical path: every classification table waits on training, so it starts first
    priority: 2
    threads: CLASSIFIER_THREADS
    resources:
        mem_mb=8000,
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/classify_train.py"


rule evaluate_classifier:
    input:
        model=f"{R}/models/{{dataset}}/classifier",
        test=f"{R}/data/{{dataset}}/test.parquet",
    output:
        predictions=f"{R}/classify/{{dataset}}/predictions.parquet",
        metrics=f"{R}/classify/{{dataset}}/metrics.json",
    params:
        cfg=CLASSIFIER_CFG,
        label_names=lambda wc: config["datasets"][wc.dataset]["label_names"],
        device=DEVICE,
    log:
        f"{R}/logs/evaluate_classifier/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/evaluate_classifier/{{dataset}}.tsv"
    # the classification chain before the cheap jobs that fill the gaps
    priority: 1
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/classify_evaluate.py"


rule select_samples:
    input:
        predictions=f"{R}/classify/{{dataset}}/predictions.parquet",
        test=f"{R}/data/{{dataset}}/test.parquet",
    output:
        f"{R}/samples/{{dataset}}/{{sample_set}}.parquet",
    params:
        n=config["saliency"]["n_samples"],
        seed=config["seed"],
    log:
        f"{R}/logs/select_samples/{{dataset}}_{{sample_set}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/classify_select.py"


rule classifier_metrics_table:
    input:
        metrics=f"{R}/classify/{{dataset}}/metrics.json",
        meta=f"{R}/data/{{dataset}}/meta.json",
        **{s: f"{R}/samples/{{dataset}}/{s}.parquet" for s in SAMPLE_SETS},
    output:
        table_files(f"{F}/lu2024/classifier_metrics_{{dataset}}", LU_REPORT),
    params:
        sample_sets=SAMPLE_SETS,
        n_samples=config["saliency"]["n_samples"],
        caption=lambda wc: caption_for(
            RUN,
            f"Test-set accuracy, macro-F1 and per-class recall of the {wc.dataset} classifier, "
            f"and the evaluation samples drawn from its predictions (drawn / asked for).",
        ),
    log:
        f"{R}/logs/classifier_metrics_table/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/classify_metrics_table.py"
