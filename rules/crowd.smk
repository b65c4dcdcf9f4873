# Crowd evaluation of Lu et al. (2024), section 3 steps 4-8 and section 4.
# Per classification dataset, sample set (correct / misclassified) and crowd source:
#   crowd_design        displays -> tasks t_ijk + worker batches (R per task, B per worker)
#   crowd_export        batches as a platform CSV + one HTML page per batch (Figure 1 layout)
#   crowd_reader        the simulated workers' reader, fitted once per dataset on its training split
#   crowd_answers       per-worker answers: simulated worker model, or an imported platform file
#   crowd_exclusions    every worker / submission dropped on import, with reasons and counts
#   fetch_released_crowd / aggregate_crowd   A_ijk (equation (1), or the authors' release)
#   crowd_scores, crowd_flips, crowd_misclassified, crowd_significance,
#   crowd_aggregation_agreement, crowd_expert_check, crowd_task_example   final artifacts
#   simulator_validation    simulated vs real crowd on the released (display, aggregate) pairs
#   released_crowd_tables   target: Tables 3, 4, 7 and Figure 3 from the released labels only

from saliency_repro.crowd.simulate import READER_KEYS  # noqa: E402

# ------------------------------------------------------------------ artifact registry
for _ds in CLASSIFICATION:
    _register("task_example", "figure", "crowd_task_example", _ds, ref="lu2024/figure1")
    for _src in config["datasets"][_ds]["crowd_sources"]:
        _name, _type = _src["name"], _src["type"]
        _register("crowd_scores", "table", "crowd_scores", _ds, _name, paper_ref(_ds, "crowd_scores"))
        _register("crowd_coverage", "table", "crowd_scores", _ds, _name,
                  note="tasks answered by all, some or none of the required workers, per method and k")
        _register("flip_counts", "table", "crowd_flips", _ds, _name, "lu2024/table7")
        _register("flip_example", "table", "crowd_flips", _ds, _name, "lu2024/table6")
        _register("flip_histogram", "figure", "crowd_flips", _ds, _name, "lu2024/figure3")
        _register("significance", "table", "crowd_significance", _ds, _name)
        if _type != "released":  # the release has no per-worker answers (nothing to drop)
            _register("crowd_exclusions", "table", "crowd_exclusions", _ds, _name,
                      note="every worker and submission dropped on import (both sample sets), with "
                           "reasons and file lines; answers read = kept + dropped")
            _register("misclassified_counts", "table", "crowd_misclassified", _ds, _name,
                      paper_ref(_ds, "misclassified_counts"))
            _register("aggregation_agreement", "table", "crowd_aggregation_agreement", _ds, _name)
            _register("expert_agreement", "table", "crowd_expert_check", _ds, _name)

for _ds in VALIDATION:
    if _ds not in CLASSIFICATION:
        raise ValueError(f"config key 'crowd.validation.datasets.{_ds}': not a configured classification dataset")
    _register("simulator_validation", "table", "simulator_validation", _ds,
              note="simulated crowds vs the released human aggregates (cross-fitted), beside the "
                   "human test-retest level and split-half tau")
    _register("simulator_methods", "table", "simulator_validation", _ds,
              note="per-method accuracy: people (95% CI) vs simulated crowds (cross-fitted)")
    _register("simulator_accuracy", "figure", "simulator_validation", _ds,
              note="simulated vs human per-method accuracy per k, and calibration")


rule released_crowd_tables:
    input:
        released_crowd_targets(),
        f"{F}/index_released.csv",


rule simulator_validation_tables:
    input:
        [f"{LU}/{a}_{ds}.{ext}" for ds in VALIDATION for a in ("simulator_validation", "simulator_methods")
         for ext in ("csv", "md", "tex")],
        [f"{LU}/simulator_accuracy_{ds}.{ext}" for ds in VALIDATION for ext in ("png", "pdf")],
        [f"{CROWD}/validation/human_noise.json"] if VALIDATION else [],


# ------------------------------------------------------------------ design, export, answers
rule crowd_design:
    input:
        displays=f"{R}/saliency/{{dataset}}/{{sample_set}}/displays.parquet",
    output:
        tasks=f"{CROWD}/{{dataset}}/{{sample_set}}/design/tasks.parquet",
        assignments=f"{CROWD}/{{dataset}}/{{sample_set}}/design/assignments.parquet",
    params:
        seed=lambda w: crowd_seed("design", w.dataset, w.sample_set),
        workers_per_task=config["crowd"]["workers_per_task"],
        tasks_per_worker=config["crowd"]["tasks_per_worker"],
    log:
        f"{R}/logs/crowd_design/{{dataset}}_{{sample_set}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_design.py"


rule crowd_export:
    input:
        tasks=f"{CROWD}/{{dataset}}/{{sample_set}}/design/tasks.parquet",
        assignments=f"{CROWD}/{{dataset}}/{{sample_set}}/design/assignments.parquet",
    output:
        directory(f"{CROWD}/{{dataset}}/{{sample_set}}/export"),
    params:
        label_names=crowd_label_names,
    log:
        f"{R}/logs/crowd_export/{{dataset}}_{{sample_set}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_export.py"


# The simulated workers' reader, fitted once per dataset on its training split (not once per
# crowd_answers / crowd_expert_check / simulator_validation job); only the crowd.simulated keys
# it depends on are params, so an edit to a worker-population key reuses it.
rule crowd_reader:
    input:
        train=f"{R}/data/{{dataset}}/train.parquet",
    output:
        reader=f"{CROWD}/{{dataset}}/reader/reader.pkl",
        info=f"{CROWD}/{{dataset}}/reader/reader.pkl.json",
    params:
        label_names=crowd_label_names,
        seed=lambda w: crowd_seed("reader", w.dataset),
        reader=config_part(config["crowd"]["simulated"], *READER_KEYS),
    # the classification chain before the cheap jobs that fill the gaps
    priority: 1
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
    benchmark:
        f"{R}/benchmarks/crowd_reader/{{dataset}}.tsv"
    log:
        f"{R}/logs/crowd_reader/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/crowd_reader.py"


rule crowd_answers:
    input:
        unpack(crowd_answers_input),
    output:
        answers=f"{CROWD}/{{dataset}}/{{sample_set}}/{{crowd_source}}/answers.parquet",
        exclusions=f"{CROWD}/{{dataset}}/{{sample_set}}/{{crowd_source}}/exclusions.parquet",
    params:
        source=lambda w: crowd_source_cfg(w.dataset, w.crowd_source),
        label_names=crowd_label_names,
        seed=lambda w: crowd_seed("answers", w.dataset, w.sample_set, w.crowd_source),
        crowd=lambda w: crowd_answer_settings(w.dataset, w.crowd_source),
        # platform: the empty submissions of workers without any answer are counted here
        first_sample_set=lambda w: w.sample_set == SAMPLE_SETS[0],
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
    benchmark:
        f"{R}/benchmarks/crowd_answers/{{dataset}}_{{sample_set}}_{{crowd_source}}.tsv"
    log:
        f"{R}/logs/crowd_answers/{{dataset}}_{{sample_set}}_{{crowd_source}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/crowd_answers.py"


rule crowd_exclusions:
    input:
        exclusions=expand(f"{CROWD}/{{{{dataset}}}}/{{s}}/{{{{crowd_source}}}}/exclusions.parquet", s=SAMPLE_SETS),
        answers=expand(f"{CROWD}/{{{{dataset}}}}/{{s}}/{{{{crowd_source}}}}/answers.parquet", s=SAMPLE_SETS),
    output:
        table_files(f"{LU}/crowd_exclusions_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        sample_sets=SAMPLE_SETS,
        caption=lambda w: crowd_caption(
            f"Workers and submissions dropped on import, {w.dataset}, crowd source {w.crowd_source}, "
            f"per sample set: one row per worker with anything dropped (every reason; rows_dropped: "
            f"file rows, i.e. MTurk submissions or long-layout answers; empty_submissions: rows "
            f"with no answer; lines: file:line of the dropped rows; excluded: none of the worker's "
            f"answers kept), then an 'all' row: workers_seen = kept + excluded, answers_read = "
            f"answers_kept + answers_dropped (answers of this sample set; answers_other_set: those of "
            f"the other sample set in the same file, imported there)."),
    log:
        f"{R}/logs/crowd_exclusions/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_exclusions.py"


rule fetch_released_crowd:
    output:
        f"{CROWD}/{{dataset}}/released/{{crowd_source}}.tsv",
    params:
        source=lambda w: crowd_source_cfg(w.dataset, w.crowd_source),
        mirror=config.get("download_mirror"),
        label_names=crowd_label_names,
    log:
        f"{R}/logs/fetch_released_crowd/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_fetch_released.py"


rule aggregate_crowd:
    input:
        unpack(crowd_aggregate_input),
    output:
        f"{CROWD}/{{dataset}}/{{sample_set}}/{{crowd_source}}/aggregate.parquet",
    params:
        source_type=lambda w: crowd_source_cfg(w.dataset, w.crowd_source)["type"],
        label_names=crowd_label_names,
    log:
        f"{R}/logs/aggregate_crowd/{{dataset}}_{{sample_set}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_aggregate.py"


# ------------------------------------------------------------------ final artifacts
rule crowd_scores:
    input:
        f"{CROWD}/{{dataset}}/correct/{{crowd_source}}/aggregate.parquet",
    output:
        table_files(f"{LU}/crowd_scores_{{dataset}}_{{crowd_source}}", LU_REPORT),
        table_files(f"{LU}/crowd_coverage_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/crowd_scores_{w.dataset}_{w.crowd_source}",
        coverage_stem=lambda w: f"{LU}/crowd_coverage_{w.dataset}_{w.crowd_source}",
        required_answers=lambda w: (None if crowd_source_cfg(w.dataset, w.crowd_source)["type"] == "released"
                                    else config["crowd"]["workers_per_task"]),
        coverage_caption=lambda w: crowd_caption(
            f"Task coverage, {w.dataset}, crowd source {w.crowd_source}: tasks answered by all, some or "
            f"none of the required workers per method and k; unanswered tasks are left out of every "
            f"score, never counted as wrong."),
        paper_ref=lambda w: paper_ref(w.dataset, "crowd_scores"),
        compare_with_paper=config["crowd"]["compare_with_paper"],
        caption=lambda w: crowd_caption(
            f"Crowd accuracy p_jk (%) per number of shown words and score s_j (equation (2)), ranks in "
            f"brackets, {w.dataset}, crowd source {w.crowd_source}.", w.dataset, w.crowd_source),
    log:
        f"{R}/logs/crowd_scores/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_scores.py"


rule crowd_flips:
    input:
        f"{CROWD}/{{dataset}}/correct/{{crowd_source}}/aggregate.parquet",
    output:
        table_files(f"{LU}/flip_counts_{{dataset}}_{{crowd_source}}", LU_REPORT),
        table_files(f"{LU}/flip_example_{{dataset}}_{{crowd_source}}", LU_REPORT),
        figure_files(f"{LU}/flip_histogram_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        counts=lambda w: f"{LU}/flip_counts_{w.dataset}_{w.crowd_source}",
        example=lambda w: f"{LU}/flip_example_{w.dataset}_{w.crowd_source}",
        hist=lambda w: f"{LU}/flip_histogram_{w.dataset}_{w.crowd_source}",
        paper_ref=lambda w: paper_ref(w.dataset, "crowd_scores"),
        compare_with_paper=config["crowd"]["compare_with_paper"],
        run=RUN,
        settings_note=lambda w: crowd_settings_note(w.dataset, w.crowd_source),
    log:
        f"{R}/logs/crowd_flips/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_flips.py"


rule crowd_misclassified:
    input:
        f"{CROWD}/{{dataset}}/misclassified/{{crowd_source}}/aggregate.parquet",
    output:
        table_files(f"{LU}/misclassified_counts_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/misclassified_counts_{w.dataset}_{w.crowd_source}",
        paper_ref=lambda w: paper_ref(w.dataset, "misclassified_counts"),
        compare_with_paper=config["crowd"]["compare_with_paper"],
        caption=lambda w: crowd_caption(
            f"Misclassified samples recognised correctly by the crowd, per method and number of shown "
            f"words, {w.dataset}, crowd source {w.crowd_source} (cf. Tables 8/9).", w.dataset, w.crowd_source),
    log:
        f"{R}/logs/crowd_misclassified/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_misclassified.py"


rule crowd_significance:
    input:
        f"{CROWD}/{{dataset}}/correct/{{crowd_source}}/aggregate.parquet",
    output:
        table_files(f"{LU}/significance_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/significance_{w.dataset}_{w.crowd_source}",
        seed=lambda w: crowd_seed("bootstrap", w.dataset, w.crowd_source),
        crowd=config_part(config["crowd"], "alpha", "bootstrap", "significance"),
        with_paper_claims=lambda w: bool(paper_ref(w.dataset, "crowd_scores")),
        caption=lambda w: crowd_caption(
            f"Each saliency method against RANDOM, {w.dataset}, crowd source {w.crowd_source}: bootstrap "
            f"95% CIs of s_j (%); tests at the sample level (paired sign-flip permutation test with an "
            f"exact p, clustered McNemar of Durkalski et al. 2003, logistic GEE clustered by sample), "
            f"Holm over methods; the naive McNemar over (sample, k) pairs only for comparison; "
            f"*_swap_null_rate: the McNemar tests' rejection rates under a swap null built from these "
            f"data; perm_centred_null_rate (95% CI): the primary test's rejection rate under resampled "
            f"centred differences, a null that is not its own reference distribution.",
            w.dataset, w.crowd_source),
    threads: HEAVY_THREADS
    resources:
        mem_mb=2000,
    benchmark:
        f"{R}/benchmarks/crowd_significance/{{dataset}}_{{crowd_source}}.tsv"
    log:
        f"{R}/logs/crowd_significance/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_significance.py"


rule crowd_aggregation_agreement:
    input:
        tasks=f"{CROWD}/{{dataset}}/correct/design/tasks.parquet",
        answers=f"{CROWD}/{{dataset}}/correct/{{crowd_source}}/answers.parquet",
        aggregate=f"{CROWD}/{{dataset}}/correct/{{crowd_source}}/aggregate.parquet",
    output:
        table_files(f"{LU}/aggregation_agreement_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/aggregation_agreement_{w.dataset}_{w.crowd_source}",
        seed=lambda w: crowd_seed("dawid_skene", w.dataset, w.crowd_source),
        caption=lambda w: crowd_caption(
            f"Majority vote (equation (1)) vs Dawid-Skene (crowd-kit): accuracy (%) and how often they "
            f"disagree on A_ijk, {w.dataset}, crowd source {w.crowd_source}.", w.dataset, w.crowd_source),
    log:
        f"{R}/logs/crowd_aggregation_agreement/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_agreement.py"


rule crowd_expert_check:
    input:
        tasks=f"{CROWD}/{{dataset}}/correct/design/tasks.parquet",
        aggregate=f"{CROWD}/{{dataset}}/correct/{{crowd_source}}/aggregate.parquet",
        reader=lambda w: crowd_reader_file(w.dataset),
    output:
        table_files(f"{LU}/expert_agreement_{{dataset}}_{{crowd_source}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/expert_agreement_{w.dataset}_{w.crowd_source}",
        label_names=crowd_label_names,
        paper_ref=lambda w: paper_ref(w.dataset, "crowd_scores"),
        seed=lambda w: crowd_seed("experts", w.dataset, w.crowd_source),
        crowd=config_part(config["crowd"], "simulated", "expert_tasks"),
        caption=lambda w: crowd_caption(
            f"Expert check (section 4.1): simulated experts (higher skill, no lapses) vs the crowd's "
            f"A_ijk on random tasks, {w.dataset}, crowd source {w.crowd_source}.", w.dataset, w.crowd_source),
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
    benchmark:
        f"{R}/benchmarks/crowd_expert_check/{{dataset}}_{{crowd_source}}.tsv"
    log:
        f"{R}/logs/crowd_expert_check/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/crowd_expert.py"


rule crowd_task_example:
    input:
        tasks=f"{CROWD}/{{dataset}}/correct/design/tasks.parquet",
        export=f"{CROWD}/{{dataset}}/correct/export",
    output:
        figure_files(f"{LU}/task_example_{{dataset}}", LU_REPORT),
    params:
        stem=lambda w: f"{LU}/task_example_{w.dataset}",
        label_names=crowd_label_names,
        title=lambda w: crowd_caption(f"A crowd task, {w.dataset}"),
    log:
        f"{R}/logs/crowd_task_example/{{dataset}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_task_example.py"


rule fetch_validation_release:
    output:
        f"{CROWD}/validation/{{dataset}}/released.tsv",
    params:
        source=lambda w: VALIDATION[w.dataset],
        mirror=config.get("download_mirror"),
        label_names=crowd_label_names,
    log:
        f"{R}/logs/fetch_validation_release/{{dataset}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/crowd_fetch_released.py"


rule simulator_validation:
    input:
        unpack(validation_input),
    output:
        table_files(f"{LU}/simulator_validation_{{dataset}}", LU_REPORT),
        table_files(f"{LU}/simulator_methods_{{dataset}}", LU_REPORT),
        figure_files(f"{LU}/simulator_accuracy_{{dataset}}", LU_REPORT),
        grid=f"{CROWD}/validation/{{dataset}}/grid_search.parquet",
        evidence=f"{CROWD}/validation/{{dataset}}/evidence.parquet",
    params:
        stem=lambda w: f"{LU}/simulator_validation_{w.dataset}",
        methods_stem=lambda w: f"{LU}/simulator_methods_{w.dataset}",
        figure_stem=lambda w: f"{LU}/simulator_accuracy_{w.dataset}",
        run=RUN,
        label_names=crowd_label_names,
        seed=lambda w: crowd_seed("validation", w.dataset),
        crowd=config_part(config["crowd"], "simulated", "validation", "workers_per_task"),
        caption=lambda w: crowd_caption(
            f"Simulated crowd vs the real crowd on the released (display, human A_ijk) pairs, "
            f"{w.dataset}, cross-fitted: every part fitted on people is fitted on one half of the "
            f"samples and scored on the other, both ways, over several seeded splits (mean [2.5%, "
            f"97.5%] over folds). human_fitted: worker population, I-don't-know and lapse "
            f"parameters fitted on the people by log-loss; its MiniLM + bag-of-words reader is "
            f"trained on the training split and sees no human label. bag_of_words: the earlier "
            f"simulator, grid-fitted by raw agreement. References from the release itself: human "
            f"test-retest on identical displays, split-half Kendall tau."),
    threads: HEAVY_THREADS
    resources:
        mem_mb=4000,
    benchmark:
        f"{R}/benchmarks/simulator_validation/{{dataset}}.tsv"
    log:
        f"{R}/logs/simulator_validation/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/crowd_validation.py"


# The transferable part of the human_fitted simulator: its human-noise parameters fitted on
# all released samples (each dataset and pooled). The simulator reads the copy in the package,
# src/saliency_repro/crowd/human_noise.json; refresh it with
#   .venv/bin/snakemake results/local/crowd/validation/human_noise.json --configfile configs/local.yaml \
#       --config download_mirror=../shared/data/lu2024-crowd-release --cores 2
#   cp results/local/crowd/validation/human_noise.json src/saliency_repro/crowd/human_noise.json
rule human_noise_params:
    input:
        evidence=expand(f"{CROWD}/validation/{{dataset}}/evidence.parquet", dataset=sorted(VALIDATION)),
    output:
        f"{CROWD}/validation/human_noise.json",
    params:
        datasets=sorted(VALIDATION),
        sources={ds: VALIDATION[ds] for ds in sorted(VALIDATION)},
        run=RUN,
        crowd=config_part(config["crowd"], "simulated", "workers_per_task"),
    log:
        f"{R}/logs/human_noise_params/all.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/crowd_human_noise.py"


rule study_export:
    output:
        f"{CROWD}/{{dataset}}/study/{{crowd_source}}.csv",
    params:
        db=lambda w: crowd_source_cfg(w.dataset, w.crowd_source)["db"],
        # read when the DAG is built: new answers in the database rerun this export
        snapshot=lambda w: study_snapshot(w.dataset, w.crowd_source),
    log:
        f"{R}/logs/study_export/{{dataset}}_{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/study_export.py"
