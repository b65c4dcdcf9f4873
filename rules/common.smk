# Shared names and helper functions of the workflow (functions live here, rules elsewhere).
# Path conventions that every included file follows:
#   results:    {R}/<stage>/<dataset>/...       intermediate data, models, scores
#   artifacts:  {F}/<paper>/<artifact>_<dataset>[_<crowd_source>].<ext>   registered in ARTIFACTS
#   logs:       {R}/logs/<rule>/<wildcards>.log
#   benchmarks: {R}/benchmarks/<rule>/<wildcards>.tsv


RUN = config["run"]
R = f"{config['results_dir']}/{RUN}"
F = f"{config['figures_dir']}/{RUN}"
# the device *request* (auto, cpu, cuda[:N]) is the rules' param; each job resolves it where
# it runs (saliency_repro.runtime.resolve_device), so a rerun planned on another machine (a CPU
# login node after GPU jobs) sees no change
DEVICE = config["device"]
HEAVY_THREADS = config["max_threads"]


LU_REPORT = "Lu et al. (2024)"
TUCKEY_REPORT = "Tuckey et al. (2019)"
REPORT_CAPTION = "../report/artifact.rst"


def table_files(stem, paper, subcategory="{dataset}"):
    """A table's CSV, Markdown and LaTeX files, shown in the report under its paper and dataset
    with the table's own caption (``params.caption``)."""
    return report(multiext(stem, ".csv", ".md", ".tex"), caption=REPORT_CAPTION,
                  category=paper, subcategory=subcategory)


def figure_files(stem, paper, subcategory="{dataset}"):
    """A figure's PNG and PDF files, in the report like :func:`table_files`."""
    return report(multiext(stem, ".png", ".pdf"), caption=REPORT_CAPTION,
                  category=paper, subcategory=subcategory)


def section_threads(name):
    """Threads of a section's own job (``<name>.threads``; null = ``max_threads``)."""
    return config[name].get("threads") or HEAVY_THREADS


def section_settings(name):
    """A config section without its ``threads`` key, for ``params:``: a job's thread count is
    not one of its settings (changing it reruns nothing), even where the numbers depend on it
    in their last bits (schema: classifier.threads)."""
    return {key: value for key, value in config[name].items() if key != "threads"}


def config_part(section, *keys):
    """Only the keys of a config section that a job uses, for its ``params:`` (so that an
    edit to another key reruns nothing and an edit to one of these reruns the job)."""
    return {key: section[key] for key in keys if key in section}


def datasets_for(task):
    """Names of the configured datasets of one task (classification or summarization)."""
    return [name for name, ds in config["datasets"].items() if ds["task"] == task]


CLASSIFICATION = datasets_for("classification")
# the evaluation sample sets of Lu et al. (correctly classified; misclassified, Tables 8-9)
SAMPLE_SETS = ["correct", "misclassified"]
SUMMARIZATION = datasets_for("summarization")


def crowd_sources(dataset, type_=None):
    """Names of a dataset's crowd-label sources, optionally only those of one type."""
    return [
        src["name"]
        for src in config["datasets"][dataset]["crowd_sources"]
        if type_ is None or src["type"] == type_
    ]


def display_k(dataset):
    """The display sizes (words) of a dataset: its own ``saliency.k``, else the global grid."""
    return dataset_display_size(config, dataset, "k")[0]


def display_size_key(dataset, key):
    """The config key a dataset's ``k`` / ``overlap_k`` comes from, for warnings."""
    return dataset_display_size(config, dataset, key)[1]


def overlap_k(dataset):
    """Table 1's k for a dataset: its own ``saliency.overlap_k``, else the global one."""
    return dataset_display_size(config, dataset, "overlap_k")[0]


def has_ground_truth(dataset):
    """Whether the data say where the evidence is: only the synthetic corpora do (planted cue
    positions for classification, source positions of summary words for summarization)."""
    return config["datasets"][dataset]["source"]["type"] == "synthetic"


def local_source_files(wildcards):
    """A local source's files: inputs of its preparation (and so of its lineage)."""
    src = config["datasets"][wildcards.dataset]["source"]
    return sorted(source_files(src).values()) if src["type"] == "local" else []


def local_source_digest(dataset):
    """Content hash of a local source's files, so an edit to one reruns what reads it (and a
    touch or a fresh copy does not)."""
    from saliency_repro.provenance import sha256_file

    src = config["datasets"][dataset]["source"]
    if src["type"] != "local":
        return ""
    return {key: sha256_file(path) for key, path in sorted(source_files(src).items())}


def paper_ref(dataset, artifact, default=""):
    """The paper item a per-dataset artifact reproduces, from the dataset's ``paper_refs``
    (whose keys the config check accepts from ``PAPER_REF_ARTIFACTS`` only)."""
    from saliency_repro.config import PAPER_REF_ARTIFACTS

    assert artifact in PAPER_REF_ARTIFACTS, f"add {artifact!r} to config.PAPER_REF_ARTIFACTS"
    return config["datasets"][dataset]["paper_refs"].get(artifact, default)


# ------------------------------------------------------------------ crowd (Lu et al.)
CROWD = f"{R}/crowd"
LU = f"{F}/lu2024"


def crowd_source_cfg(dataset, name):
    """The config entry of one crowd source of a dataset."""
    for src in config["datasets"][dataset]["crowd_sources"]:
        if src["name"] == name:
            return src
    raise ValueError(f"dataset {dataset!r} has no crowd source {name!r}")


def crowd_label_names(wildcards):
    return config["datasets"][wildcards.dataset]["label_names"]


def crowd_seed(*parts):
    import zlib

    return (int(config["seed"]) + zlib.crc32("/".join(parts).encode())) % (2**32)


def crowd_reader_file(dataset):
    """The simulated crowd's reader of a dataset, fitted once (rule crowd_reader)."""
    return f"{CROWD}/{dataset}/reader/reader.pkl"


def crowd_answers_input(wildcards):
    src = crowd_source_cfg(wildcards.dataset, wildcards.crowd_source)
    design = f"{CROWD}/{wildcards.dataset}/{wildcards.sample_set}/design"
    if src["type"] == "simulated":
        return {
            "tasks": f"{design}/tasks.parquet",
            "assignments": f"{design}/assignments.parquet",
            "reader": crowd_reader_file(wildcards.dataset),
        }
    if src["type"] in ("platform", "study"):
        # one results file holds every sample set's answers: the import of one set needs the
        # other sets' tasks too, to tell their answers from unknown task ids; a study database
        # is read through its export in the same long format (rule study_export)
        other = [f"{CROWD}/{wildcards.dataset}/{s}/design/tasks.parquet"
                 for s in SAMPLE_SETS if s != wildcards.sample_set]
        answers = (src["path"] if src["type"] == "platform"
                   else f"{CROWD}/{wildcards.dataset}/study/{wildcards.crowd_source}.csv")
        return {"tasks": f"{design}/tasks.parquet", "other_tasks": other, "platform_file": answers}
    raise ValueError(f"crowd source {wildcards.crowd_source!r} of type {src['type']!r} has no per-worker answers")


def crowd_aggregate_input(wildcards):
    src = crowd_source_cfg(wildcards.dataset, wildcards.crowd_source)
    if src["type"] == "released":
        if wildcards.sample_set != "correct":
            raise ValueError("the released crowd labels cover correctly classified samples only")
        return {"released": f"{CROWD}/{wildcards.dataset}/released/{wildcards.crowd_source}.tsv"}
    base = f"{CROWD}/{wildcards.dataset}/{wildcards.sample_set}"
    return {"tasks": f"{base}/design/tasks.parquet", "answers": f"{base}/{wildcards.crowd_source}/answers.parquet"}


def crowd_answer_settings(dataset, name):
    """The crowd keys an answers job uses: the worker model for a simulated source, the
    design and exclusion rule for an imported platform file."""
    keys = {"simulated": ("simulated",),
            "platform": ("workers_per_task", "tasks_per_worker", "platform"),
            "study": ("workers_per_task", "tasks_per_worker", "platform")}
    return config_part(config["crowd"], *keys.get(crowd_source_cfg(dataset, name)["type"], ()))


def study_snapshot(dataset, name):
    """What a study database holds now (design fingerprint, counted answers, last answer), read
    when the DAG is built: a param of rule study_export, so that answers that arrived since the
    last run rerun the export and every table built on it, and an unchanged database reruns
    nothing."""
    from saliency_repro.study.service import database_snapshot

    return database_snapshot(crowd_source_cfg(dataset, name)["db"])


def datasets_with_source(name):
    """The classification datasets that have a crowd source called ``name``."""
    return [ds for ds in CLASSIFICATION if name in crowd_sources(ds)]


def crowd_settings_note(dataset, source):
    """Where a crowd source's displays came from: the release, or this run's saliency settings."""
    if crowd_source_cfg(dataset, source)["type"] == "released":
        return "Displays and labels: the authors' release."
    return SALIENCY_NOTE.rstrip(".") + "."


def crowd_caption(text, dataset=None, source=None):
    """A crowd artifact's caption; with its crowd source, the settings its displays came from."""
    if dataset and source:
        text += f" {crowd_settings_note(dataset, source)}"
    return caption_for(config["run"], text)


def _register(artifact, kind, rulename, dataset, crowd_source="", ref="", note=""):
    """ARTIFACTS.add with the crowd naming scheme (positional: the parser reserves `rule`)."""
    stem = f"{LU}/{artifact}_{{dataset}}" + ("_{crowd_source}" if crowd_source else "")
    return ARTIFACTS.add(artifact, stem, kind, rulename, ref, dataset, crowd_source, note)


VALIDATION = config["crowd"].get("validation", {}).get("datasets", {})


def released_crowd_targets():
    """Tables 3, 4 (crowd_scores), 7 (flip_counts), Figure 3 and the significance tests of
    every released source: all of them need the released labels only."""
    out = []
    for ds in CLASSIFICATION:
        for src in crowd_sources(ds, "released"):
            stem = f"{LU}/{{a}}_{ds}_{src}"
            for a, exts in [("crowd_scores", ("csv", "md", "tex")), ("crowd_coverage", ("csv", "md", "tex")),
                            ("flip_counts", ("csv", "md", "tex")),
                            ("flip_histogram", ("png", "pdf")),
                            ("significance", ("csv", "md", "tex"))]:
                out += [f"{stem.format(a=a)}.{e}" for e in exts]
    sources = {src for ds in CLASSIFICATION for src in crowd_sources(ds, "released")}
    out += [f"{F}/{c}_{src}.{e}" for src in sorted(sources) for e in ("csv", "md", "tex")
            for c in ("claims_lu2024", "claims_sensitivity_lu2024")]
    return out


def validation_input(wildcards):
    entry = VALIDATION[wildcards.dataset]
    out = {"released": f"{CROWD}/validation/{wildcards.dataset}/released.tsv"}
    reader = entry.get("reader", "train_split")
    if reader == "train_split":
        out["train"] = f"{R}/data/{wildcards.dataset}/train.parquet"
        out["reader"] = crowd_reader_file(wildcards.dataset)
    elif reader == "file":
        out["train"] = entry["train_file"]
    return out
