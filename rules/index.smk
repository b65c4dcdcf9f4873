# The artifact index: every final table and figure with the paper item it reproduces.

INDEX = f"{F}/index.csv"

# Lu et al.'s Figure 2 is an image reproduced from another paper (Lu et al. 2021, GradCAM on
# cat images); a run that reproduces Lu et al.'s tables lists it for completeness, deliberately
# not faked. Runs on other datasets (no lu2024 paper_refs) do not.
if reproduces_paper(config, "lu2024"):
    ARTIFACTS.add(
        artifact="vision_flip_example",
        pattern="",
        kind="none",
        by_rule="",
        paper_ref="lu2024/figure2",
        note="image from Lu et al. (2021), not an output of this study; not reproduced",
    )


rule artifact_index:
    input:
        ARTIFACTS.files(),
    output:
        index=INDEX,
        provenance=directory(f"{F}/provenance"),
    params:
        records=ARTIFACTS.records(),
        rule_code=lambda w: RULE_CODE,
        provenance_dir=f"{R}/provenance",
    log:
        f"{R}/logs/artifact_index/index.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/write_index.py"


rule released_artifact_index:
    input:
        released_crowd_targets(),
    output:
        index=f"{F}/index_released.csv",
        provenance=directory(f"{F}/provenance_released"),
    params:
        records=lambda w, input: [r for r in ARTIFACTS.records() if r["path"] in set(input)],
        rule_code=lambda w: RULE_CODE,
        provenance_dir=f"{R}/provenance",
    log:
        f"{R}/logs/released_artifact_index/index.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/write_index.py"
