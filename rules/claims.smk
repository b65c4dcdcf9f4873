# The papers' claims tested on this run (saliency_repro.claims): one row per claim with its
# statistic, test, p-value or CI and verdict. The README's results come from these tables.

CLAIM_SOURCES = sorted({src["name"] for ds in CLASSIFICATION for src in config["datasets"][ds]["crowd_sources"]})

for _src in CLAIM_SOURCES:
    ARTIFACTS.add("claims", f"{F}/claims_lu2024_{{crowd_source}}", "table", "claims_lu2024",
                  crowd_source=_src, note="Lu et al.'s claims tested on this run, per dataset")
    ARTIFACTS.add("claims_sensitivity", f"{F}/claims_sensitivity_lu2024_{{crowd_source}}", "table",
                  "claims_lu2024", crowd_source=_src,
                  note="every analysis variant of every Lu et al. claim: p raw / adjusted, decision")
if SUMMARIZATION:
    ARTIFACTS.add("claims", f"{F}/claims_tuckey2019", "table", "claims_tuckey2019",
                  note="Tuckey et al.'s claims tested on this run, per dataset")
    ARTIFACTS.add("claims_sensitivity", f"{F}/claims_sensitivity_tuckey2019", "table", "claims_tuckey2019",
                  note="every analysis variant of every Tuckey et al. claim: p raw / adjusted, decision")


rule claims_lu2024:
    input:
        significance=lambda w: [f"{LU}/significance_{ds}_{w.crowd_source}.csv"
                                for ds in datasets_with_source(w.crowd_source)],
        aggregates=lambda w: [f"{CROWD}/{ds}/correct/{w.crowd_source}/aggregate.parquet"
                              for ds in datasets_with_source(w.crowd_source)],
    output:
        table_files(f"{F}/claims_lu2024_{{crowd_source}}", LU_REPORT, "claims"),
        table_files(f"{F}/claims_sensitivity_lu2024_{{crowd_source}}", LU_REPORT, "claims"),
    params:
        paper="lu2024",
        datasets=lambda w: datasets_with_source(w.crowd_source),
        crowd=config_part(config["crowd"], "alpha", "significance"),
        stem=lambda w: f"{F}/claims_lu2024_{w.crowd_source}",
        sensitivity_stem=lambda w: f"{F}/claims_sensitivity_lu2024_{w.crowd_source}",
        caption=lambda w: caption_for(RUN, (
            f"Lu et al. (2024)'s claims tested on this run, crowd source {w.crowd_source}: statistic "
            f"with its simultaneous CI and the smallest effect the design detects (80% power), the "
            f"primary test's exact p adjusted in the family named in its row, the sensitivity "
            f"analysis, and a three-level verdict (holds / does not hold only when every "
            f"pre-declared variant agrees; otherwise inconclusive; a 'not better' claim holds only "
            f"by an equivalence test within +-"
            f"{config['crowd'].get('significance', {}).get('equivalence_margin_pp', 5.0):g} pp), "
            f"alpha {config['crowd']['alpha']:g}.")),
    log:
        f"{R}/logs/claims_lu2024/{{crowd_source}}.log",
    conda:
        "../envs/crowd.yaml"
    script:
        "../scripts/claims_table.py"


rule claims_tuckey2019:
    input:
        similarity=expand(f"{F}/tuckey2019/lrp_similarity_{{dataset}}.csv", dataset=SUMMARIZATION),
        counterfactual=expand(f"{F}/tuckey2019/counterfactual_{{dataset}}.csv", dataset=SUMMARIZATION),
    output:
        table_files(f"{F}/claims_tuckey2019", TUCKEY_REPORT, "claims"),
        table_files(f"{F}/claims_sensitivity_tuckey2019", TUCKEY_REPORT, "claims"),
    params:
        paper="tuckey2019",
        datasets=SUMMARIZATION,
        alpha=config["counterfactual"].get("alpha", config["crowd"]["alpha"]),
        stem=lambda w: f"{F}/claims_tuckey2019",
        sensitivity_stem=lambda w: f"{F}/claims_sensitivity_tuckey2019",
        caption=caption_for(RUN, (
            "Tuckey et al. (2019)'s claims tested on this run: statistic, test, p-value (Holm in the "
            "family named in its row) or 95% CI, sensitivity analysis and three-level verdict; "
            "the counterfactual claim is split into the average effect over articles and the "
            "article-level claim (confirmed fraction against its exact null rate and the "
            "random-ranking control).")),
    log:
        f"{R}/logs/claims_tuckey2019/claims.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/claims_table.py"
