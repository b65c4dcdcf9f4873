# Tuckey et al.'s counterfactual deletion check, made quantitative: delete each method's top-k
# input words, decode again, compare with R random deletions; confirmed fractions with binomial
# CIs, Wilcoxon tests, an attention-frozen variant, worked examples (paper Figures 4-7).
# Package: saliency_repro.counterfactual. Inputs: the summarizer part's model, vocabulary, test
# summaries and LRP maps (rules/summarize.smk).

from saliency_repro.counterfactual.config import CounterfactualConfig  # noqa: E402

# fail at parse time, naming the key, when counterfactual values disagree with each other
CounterfactualConfig.from_config(config["counterfactual"])

# threads apart from max_threads, and not among the settings (params): see classifier.threads
COUNTERFACTUAL_THREADS = section_threads("counterfactual")
COUNTERFACTUAL_CFG = section_settings("counterfactual")

CFD = f"{R}/counterfactual/{{dataset}}"
CFF = f"{F}/tuckey2019"

for _ds in SUMMARIZATION:
    ARTIFACTS.add("counterfactual", f"{CFF}/counterfactual_{{dataset}}", "table",
                  "counterfactual_table", dataset=_ds,
                  note="confirmed fraction (binomial CI) and Wilcoxon test per method, k, measure, "
                       "attention free/frozen")
    ARTIFACTS.add("counterfactual_example", f"{CFF}/counterfactual_example_confirmed_{{dataset}}",
                  "figure", "counterfactual_figures", paper_ref="tuckey2019/figure4;tuckey2019/figure6",
                  dataset=_ds, note="confirmed article: important vs random deletion in one figure")
    ARTIFACTS.add("counterfactual_example", f"{CFF}/counterfactual_example_unconfirmed_{{dataset}}",
                  "figure", "counterfactual_figures", paper_ref="tuckey2019/figure5;tuckey2019/figure7",
                  dataset=_ds, note="unconfirmed article: important vs random deletion in one figure")
    ARTIFACTS.add("counterfactual_curves", f"{CFF}/counterfactual_curves_{{dataset}}", "figure",
                  "counterfactual_figures", dataset=_ds,
                  note="confirmed fraction against k, attention free and frozen")
    ARTIFACTS.add("counterfactual_distribution", f"{CFF}/counterfactual_distribution_{{dataset}}",
                  "figure", "counterfactual_figures", dataset=_ds,
                  note="summary change after important vs random deletion, per method and k")


rule counterfactual_check:
    input:
        model=f"{R}/summarizer/{{dataset}}/model.pt",
        vocab=f"{R}/summarizer/{{dataset}}/vocab.json",
        summaries=f"{R}/summarizer/{{dataset}}/test_summaries.parquet",
        maps=f"{R}/lrp/{{dataset}}/maps.parquet",
    output:
        articles=f"{CFD}/articles.parquet",
        results=f"{CFD}/results.parquet",
        meta=f"{CFD}/run.json",
    params:
        device=DEVICE,
        cfg=COUNTERFACTUAL_CFG,
        # only what the check uses, so unrelated summarizer/LRP settings do not trigger a rerun
        summarizer={"decoding": {key: config["summarizer"]["decoding"][key]
                                 for key in ("min_length", "max_length")}},
        lrp={key: config["lrp"][key] for key in ("epsilon", "dtype")},
        seed=config["seed"],
    log:
        f"{R}/logs/counterfactual_check/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/counterfactual_check/{{dataset}}.tsv"
    threads: COUNTERFACTUAL_THREADS
    resources:
        mem_mb=8000,
    conda:
        "../envs/counterfactual.yaml"
    script:
        "../scripts/counterfactual_check.py"


rule counterfactual_table:
    input:
        f"{CFD}/results.parquet",
    output:
        verdicts=f"{CFD}/verdicts.parquet",
        table=table_files(f"{CFF}/counterfactual_{{dataset}}", TUCKEY_REPORT),
    params:
        cfg=COUNTERFACTUAL_CFG,
        run=RUN,
    log:
        f"{R}/logs/counterfactual_table/{{dataset}}.log",
    conda:
        "../envs/counterfactual.yaml"
    script:
        "../scripts/counterfactual_table.py"


rule counterfactual_figures:
    input:
        articles=f"{CFD}/articles.parquet",
        results=f"{CFD}/results.parquet",
        verdicts=f"{CFD}/verdicts.parquet",
        vocab=f"{R}/summarizer/{{dataset}}/vocab.json",
    output:
        confirmed=figure_files(f"{CFF}/counterfactual_example_confirmed_{{dataset}}", TUCKEY_REPORT),
        unconfirmed=figure_files(f"{CFF}/counterfactual_example_unconfirmed_{{dataset}}", TUCKEY_REPORT),
        distribution=figure_files(f"{CFF}/counterfactual_distribution_{{dataset}}", TUCKEY_REPORT),
        curves=figure_files(f"{CFF}/counterfactual_curves_{{dataset}}", TUCKEY_REPORT),
        examples=f"{CFD}/examples.json",
    params:
        cfg=COUNTERFACTUAL_CFG,
        run=RUN,
    log:
        f"{R}/logs/counterfactual_figures/{{dataset}}.log",
    conda:
        "../envs/counterfactual.yaml"
    script:
        "../scripts/counterfactual_figures.py"
