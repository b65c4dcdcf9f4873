# Data layer: every source (synthetic, local, url, huggingface) normalized to per-split parquet.


rule prepare_dataset:
    input:
        local_source_files,
    output:
        train=f"{R}/data/{{dataset}}/train.parquet",
        validation=f"{R}/data/{{dataset}}/validation.parquet",
        test=f"{R}/data/{{dataset}}/test.parquet",
        meta=f"{R}/data/{{dataset}}/meta.json",
    params:
        dataset=lambda wc: config_part(config["datasets"][wc.dataset], "task", "label_names",
                                       "split_overlap", "source"),
        source_sha256=lambda wc: local_source_digest(wc.dataset),
        seed=config["seed"],
        mirror=config["download_mirror"],
        downloads=f"{R}/downloads",
    log:
        f"{R}/logs/prepare_dataset/{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/prepare_dataset/{{dataset}}.tsv"
    resources:
        mem_mb=4000,
    conda:
        "../envs/core.yaml"
    script:
        "../scripts/data_prepare.py"
