# Tuckey et al. (2019): See et al.'s seq2seq+attention summarizer, its epsilon-LRP saliency maps,
# ROUGE, the map-similarity analysis and Figures 1-3. Package: saliency_repro.summarize.
# Intermediate formats: docs/ARCHITECTURE.md, "Summarizer and LRP files".

SUMM = f"{R}/summarizer/{{dataset}}"
LRPD = f"{R}/lrp/{{dataset}}"
T19 = f"{F}/tuckey2019"
SUMM_THREADS = section_threads("summarizer")



for _ds in SUMMARIZATION:
    ARTIFACTS.add("summary_example", f"{T19}/summary_example_{{dataset}}", "figure",
                  "summarizer_figures", paper_ref="tuckey2019/figure1", dataset=_ds)
    ARTIFACTS.add("lrp_word_map", f"{T19}/lrp_word_map_{{dataset}}", "figure",
                  "summarizer_figures", paper_ref="tuckey2019/figure2", dataset=_ds)
    ARTIFACTS.add("lrp_map_matrix", f"{T19}/lrp_map_matrix_{{dataset}}", "figure",
                  "summarizer_figures", paper_ref="tuckey2019/figure3", dataset=_ds)
    ARTIFACTS.add("rouge", f"{T19}/rouge_{{dataset}}", "table", "rouge_table", dataset=_ds,
                  note="ROUGE-1/2/L and ROUGE-Lsum of the generated test summaries against the full references")
    ARTIFACTS.add("rouge_baselines", f"{T19}/baselines_rouge_{{dataset}}", "table", "rouge_baselines",
                  dataset=_ds, note="the model beside lead-3 and the most frequent training summary; distinct-summary fraction")
    ARTIFACTS.add("lrp_similarity", f"{T19}/lrp_similarity_{{dataset}}", "table", "lrp_tables",
                  dataset=_ds, note="the paper's 'maps of different output words look alike', measured")
    ARTIFACTS.add("lrp_conservation", f"{T19}/lrp_conservation_{{dataset}}", "table", "lrp_tables",
                  dataset=_ds, note="relevance breakdown: input words, decoder-side inputs, absorbed")
    if has_ground_truth(_ds):
        ARTIFACTS.add("lrp_recall", f"{T19}/lrp_recall_{{dataset}}", "table", "lrp_recall",
                      dataset=_ds, note="synthetic data only: recall of known source positions in top-k")

rule summarizer_vocab:
    input:
        train=f"{R}/data/{{dataset}}/train.parquet",
    output:
        f"{SUMM}/vocab.json",
    params:
        cfg=config["summarizer"],
    log:
        f"{R}/logs/summarizer_vocab/{{dataset}}.log",
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_vocab.py"


rule train_summarizer:
    input:
        train=f"{R}/data/{{dataset}}/train.parquet",
        validation=f"{R}/data/{{dataset}}/validation.parquet",
        vocab=f"{SUMM}/vocab.json",
    output:
        model=f"{SUMM}/model.pt",
        history=f"{SUMM}/training.json",
    params:
        device=DEVICE,
        cfg=config["summarizer"],
        checkpoints=f"{SUMM}/checkpoints",
        seed=config["seed"],
    log:
        f"{R}/logs/train_summarizer/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/train_summarizer/{{dataset}}.tsv"
    threads: SUMM_THREADS
    resources:
        mem_mb=8000,
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_train.py"


rule generate_summaries:
    input:
        model=f"{SUMM}/model.pt",
        vocab=f"{SUMM}/vocab.json",
        test=f"{R}/data/{{dataset}}/test.parquet",
    output:
        f"{SUMM}/test_summaries.parquet",
    params:
        device=DEVICE,
        cfg=config["summarizer"],
    log:
        f"{R}/logs/generate_summaries/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/generate_summaries/{{dataset}}.tsv"
    threads: SUMM_THREADS
    resources:
        mem_mb=4000,
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_generate.py"


rule rouge_table:
    input:
        summaries=f"{SUMM}/test_summaries.parquet",
        # the full references (test_summaries' are cut at max_summary_tokens for training)
        test=f"{R}/data/{{dataset}}/test.parquet",
    output:
        table_files(f"{T19}/rouge_{{dataset}}", TUCKEY_REPORT),
    params:
        # only what ROUGE uses, so training options do not trigger a rerun
        cfg={key: config["summarizer"][key] for key in ("preprocessing", "decoding", "rouge")},
        seed=config["seed"],
        run=RUN,
    log:
        f"{R}/logs/rouge_table/{{dataset}}.log",
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_rouge.py"


rule rouge_baselines:
    input:
        summaries=f"{SUMM}/test_summaries.parquet",
        train=f"{R}/data/{{dataset}}/train.parquet",
        test=f"{R}/data/{{dataset}}/test.parquet",
    output:
        table_files(f"{T19}/baselines_rouge_{{dataset}}", TUCKEY_REPORT),
    params:
        cfg={key: config["summarizer"][key] for key in ("preprocessing", "decoding", "rouge", "baselines")},
        seed=config["seed"],
        run=RUN,
    log:
        f"{R}/logs/rouge_baselines/{{dataset}}.log",
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_baselines.py"


rule lrp_maps:
    input:
        model=f"{SUMM}/model.pt",
        vocab=f"{SUMM}/vocab.json",
        summaries=f"{SUMM}/test_summaries.parquet",
    output:
        f"{LRPD}/maps.parquet",
    params:
        device=DEVICE,
        cfg=config["lrp"],
    log:
        f"{R}/logs/lrp_maps/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/lrp_maps/{{dataset}}.tsv"
    threads: SUMM_THREADS
    resources:
        mem_mb=8000,
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_lrp.py"


rule lrp_tables:
    input:
        f"{LRPD}/maps.parquet",
    output:
        similarity=table_files(f"{T19}/lrp_similarity_{{dataset}}", TUCKEY_REPORT),
        conservation=table_files(f"{T19}/lrp_conservation_{{dataset}}", TUCKEY_REPORT),
        per_summary=f"{LRPD}/similarity_per_summary.parquet",
    params:
        cfg=config["lrp"],
        seed=config["seed"],
        run=RUN,
    log:
        f"{R}/logs/lrp_tables/{{dataset}}.log",
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_lrp_tables.py"


rule lrp_recall:
    input:
        f"{LRPD}/maps.parquet",
    output:
        table_files(f"{T19}/lrp_recall_{{dataset}}", TUCKEY_REPORT),
    params:
        cfg=config["lrp"],
        run=RUN,
    log:
        f"{R}/logs/lrp_recall/{{dataset}}.log",
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_lrp_recall.py"


rule summarizer_figures:
    input:
        maps=f"{LRPD}/maps.parquet",
        summaries=f"{SUMM}/test_summaries.parquet",
    output:
        fig1=figure_files(f"{T19}/summary_example_{{dataset}}", TUCKEY_REPORT),
        fig2=figure_files(f"{T19}/lrp_word_map_{{dataset}}", TUCKEY_REPORT),
        fig3=figure_files(f"{T19}/lrp_map_matrix_{{dataset}}", TUCKEY_REPORT),
    params:
        cfg=config["lrp"],
        run=RUN,
    log:
        f"{R}/logs/summarizer_figures/{{dataset}}.log",
    conda:
        "../envs/summarize.yaml"
    script:
        "../scripts/summarize_figures.py"
