# The artifact index: every final table and figure with the paper item it reproduces.

INDEX = f"{F}/index.csv"

# Lu et al.'s Figure 2 is an image reproduced from another paper (Lu et al. 2021, GradCAM on
# cat images); it is listed for completeness and deliberately not faked.
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
        INDEX,
    params:
        records=ARTIFACTS.records(),
    log:
        f"{R}/logs/artifact_index/index.log",
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/write_index.py"
