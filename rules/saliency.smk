# Lu et al. steps 2-3: the seven saliency methods and a random baseline at word level, the
# top-k displays the crowd sees, Tables 1-2, Figure 4 and the planted-rationale check.

from saliency_repro.saliency.pairs import MIN_OVERLAP, MIN_R  # noqa: E402
from saliency_repro.saliency.settings import dataset_display_size, saliency_settings_note  # noqa: E402, F401

# The attribution settings (input space, LIME variant, explained class, piece -> word rule),
# appended to every caption of a table built on the saliency scores.
SALIENCY_NOTE = saliency_settings_note(config["saliency"])


for _ds in CLASSIFICATION:
    ARTIFACTS.add("method_overlap", f"{F}/lu2024/method_overlap_{{dataset}}", kind="table",
                  by_rule="saliency_overlap_table", paper_ref="lu2024/table1", dataset=_ds)
    ARTIFACTS.add("method_pairs", f"{F}/lu2024/method_pairs_{{dataset}}", kind="table",
                  by_rule="saliency_overlap_table", dataset=_ds,
                  note="score correlation, shown words in common and identical displays of every pair of methods")
    ARTIFACTS.add("method_table", f"{F}/lu2024/method_table_{{dataset}}", kind="table",
                  by_rule="saliency_method_table", paper_ref="lu2024/table2", dataset=_ds)
    ARTIFACTS.add("top_words_figure", f"{F}/lu2024/top_words_{{dataset}}", kind="figure",
                  by_rule="top_words_figure", paper_ref="lu2024/figure4", dataset=_ds)
    if has_ground_truth(_ds):
        ARTIFACTS.add("rationale_recall", f"{F}/lu2024/rationale_recall_{{dataset}}", kind="table",
                      by_rule="rationale_recall_table", dataset=_ds,
                      note="recall@k and AUPRC of each method against the planted cue words")


rule attribute:
    input:
        samples=f"{R}/samples/{{dataset}}/{{sample_set}}.parquet",
        model=f"{R}/models/{{dataset}}/classifier",
    output:
        word_scores=f"{R}/saliency/{{dataset}}/{{sample_set}}/word_scores.parquet",
        diagnostics=f"{R}/saliency/{{dataset}}/{{sample_set}}/diagnostics.json",
    params:
        cfg=config["saliency"],
        max_length=config["classifier"]["max_length"],
        seed=config["seed"],
        device=DEVICE,
        k=lambda w: display_k(w.dataset),
        rank_by=config["saliency"]["rank_by"],
    log:
        f"{R}/logs/attribute/{{dataset}}_{{sample_set}}.log",
    benchmark:
        f"{R}/benchmarks/attribute/{{dataset}}_{{sample_set}}.tsv"
    # the classification chain before the cheap jobs that fill the gaps
    priority: 1
    threads: HEAVY_THREADS
    resources:
        mem_mb=8000,
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/saliency_attribute.py"


rule make_displays:
    input:
        word_scores=f"{R}/saliency/{{dataset}}/{{sample_set}}/word_scores.parquet",
        samples=f"{R}/samples/{{dataset}}/{{sample_set}}.parquet",
    output:
        f"{R}/saliency/{{dataset}}/{{sample_set}}/displays.parquet",
    params:
        k=lambda w: display_k(w.dataset),
        k_key=lambda w: display_size_key(w.dataset, "k"),
        rank_by=config["saliency"]["rank_by"],
    log:
        f"{R}/logs/make_displays/{{dataset}}_{{sample_set}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/saliency_displays.py"


rule saliency_overlap_table:
    input:
        word_scores=f"{R}/saliency/{{dataset}}/correct/word_scores.parquet",
        diagnostics=f"{R}/saliency/{{dataset}}/correct/diagnostics.json",
    output:
        table=table_files(f"{F}/lu2024/method_overlap_{{dataset}}", LU_REPORT),
        pairs=table_files(f"{F}/lu2024/method_pairs_{{dataset}}", LU_REPORT),
    params:
        kind="overlap",
        pairs_caption=lambda wc: caption_for(RUN, (
            f"Method-pair diagnostic on the correctly classified {wc.dataset} samples (attribute "
            f"rule's diagnostics): Pearson r of the two methods' word scores within a sample (mean, "
            f"min), the share of shown words their displays have in common and the rate of identical "
            f"displays over the display sizes {display_k(wc.dataset)} (all, and per k); coincide: "
            f"shown words in common >= {100 * MIN_OVERLAP:g} % and r >= {MIN_R:g}, one method shown "
            f"twice. {SALIENCY_NOTE}"
        )),
        # the printed Table 1 (IMDB) beside this run's: paper_refs.method_overlap, else for the
        # dataset that reproduces the paper's IMDB tables
        paper_ref=lambda w: paper_ref(w.dataset, "method_overlap", "lu2024/table1" if paper_ref(
            w.dataset, "crowd_scores") == "lu2024/table3" else ""),
        k=lambda w: overlap_k(w.dataset),
        k_key=lambda w: display_size_key(w.dataset, "overlap_k"),
        rank_by=config["saliency"]["rank_by"],
        caption=lambda wc: caption_for(RUN, (
            f"Overlap rate (%) of the top-{overlap_k(wc.dataset)} words of every pair "
            f"of saliency methods, mean over the correctly classified {wc.dataset} samples. "
            f"{SALIENCY_NOTE}"
        )),
    log:
        f"{R}/logs/saliency_overlap_table/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/saliency_tables.py"


rule saliency_method_table:
    input:
        # a rule without input never reruns for an output that exists without Snakemake's
        # records (a fresh clone's committed table): the classifier it describes is its input
        f"{R}/models/{{dataset}}/classifier",
    output:
        table_files(f"{F}/lu2024/method_table_{{dataset}}", LU_REPORT),
    params:
        kind="methods",
        cfg=config["saliency"],
        caption=lambda wc: caption_for(
            RUN, f"Saliency methods applied to the {wc.dataset} classifier (type, class-specific, "
            f"explained class, input space, piece-to-word rule, settings). {SALIENCY_NOTE}"
        ),
    log:
        f"{R}/logs/saliency_method_table/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/saliency_tables.py"


rule rationale_recall_table:
    input:
        word_scores=expand(f"{R}/saliency/{{{{dataset}}}}/{{s}}/word_scores.parquet", s=SAMPLE_SETS),
        samples=expand(f"{R}/samples/{{{{dataset}}}}/{{s}}.parquet", s=SAMPLE_SETS),
    output:
        table_files(f"{F}/lu2024/rationale_recall_{{dataset}}", LU_REPORT),
    params:
        kind="rationale",
        sample_sets=SAMPLE_SETS,
        k=lambda w: display_k(w.dataset),
        rank_by=config["saliency"]["rank_by"],
        caption=lambda wc: caption_for(RUN, (
            f"Recall@k and AUPRC of each saliency method against the planted cue words "
            f"(ground-truth rationale) of the {wc.dataset} evaluation samples. {SALIENCY_NOTE}"
        )),
    log:
        f"{R}/logs/rationale_recall_table/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/saliency_tables.py"


rule top_words_figure:
    input:
        word_scores=f"{R}/saliency/{{dataset}}/correct/word_scores.parquet",
        samples=f"{R}/samples/{{dataset}}/correct.parquet",
    output:
        png=report(f"{F}/lu2024/top_words_{{dataset}}.png", caption=REPORT_CAPTION,
                   category=LU_REPORT, subcategory="{dataset}"),
        pdf=f"{F}/lu2024/top_words_{{dataset}}.pdf",
    params:
        k=5,
        label_names=lambda wc: config["datasets"][wc.dataset]["label_names"],
        title=lambda wc: caption_for(
            RUN, f"Top-5 words of each saliency method on one {wc.dataset} sample"
        ),
    log:
        f"{R}/logs/top_words_figure/{{dataset}}.log",
    conda:
        "../envs/classify.yaml"
    script:
        "../scripts/saliency_figure.py"
