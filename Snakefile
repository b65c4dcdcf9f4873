# saliency-repro: from data download and model training to every table and figure of
#   Tuckey, Broda & Russo (2019), "Saliency Maps Generation for Automatic Text Summarization"
#   Lu et al. (2024), "Evaluating Saliency Explanations in NLP by Crowdsourcing".
# Default config: the embedded offline demo (config.yaml). Paper settings: configs/paper.yaml.

import os
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

# The package is installed in editable mode by the Quick start; this keeps the Snakefile and
# the scripts importable from a bare checkout too (e.g. inside a per-rule conda env).
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p)

from saliency_repro.config import check_cross_references, explain_config_errors  # noqa: E402
from saliency_repro.index import ArtifactRegistry  # noqa: E402


configfile: "config.yaml"


explain_config_errors(config, Path(workflow.basedir) / "schemas/config.schema.yaml")
validate(config, "schemas/config.schema.yaml")
check_cross_references(config)

ARTIFACTS = ArtifactRegistry()


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/classify.smk"
include: "rules/saliency.smk"
include: "rules/crowd.smk"
include: "rules/summarize.smk"
include: "rules/counterfactual.smk"
include: "rules/index.smk"


rule all:
    default_target: True
    input:
        INDEX,
        ARTIFACTS.files(),
