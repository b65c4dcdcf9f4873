# Shared names for every rule file: output roots, dataset lists, log/benchmark paths.
# Conventions (every rule file follows them):
#   results:    {R}/<stage>/<dataset>/...       intermediate data, models, scores
#   artifacts:  {F}/<paper>/<artifact>_<dataset>[_<crowd_source>].<ext>   registered in ARTIFACTS
#   logs:       {R}/logs/<rule>/<wildcards>.log
#   benchmarks: {R}/benchmarks/<rule>/<wildcards>.tsv


RUN = config["run"]
R = f"{config['results_dir']}/{RUN}"
F = f"{config['figures_dir']}/{RUN}"
DEVICE = config["device"]
HEAVY_THREADS = config["max_threads"]


def datasets_for(task):
    """Names of the configured datasets of one task (classification or summarization)."""
    return [name for name, ds in config["datasets"].items() if ds["task"] == task]


CLASSIFICATION = datasets_for("classification")
SUMMARIZATION = datasets_for("summarization")


def crowd_sources(dataset, type_=None):
    """Names of a dataset's crowd-label sources, optionally only those of one type."""
    return [
        src["name"]
        for src in config["datasets"][dataset]["crowd_sources"]
        if type_ is None or src["type"] == type_
    ]


def paper_ref(dataset, artifact, default=""):
    """The paper item a per-dataset artifact reproduces, from the dataset's ``paper_refs``."""
    return config["datasets"][dataset]["paper_refs"].get(artifact, default)
