# saliency-repro: from data download and model training to every table and figure of
#   Tuckey, Broda & Russo (2019), "Saliency Maps Generation for Automatic Text Summarization"
#   Lu et al. (2024), "Evaluating Saliency Explanations in NLP by Crowdsourcing".
# Default config: the embedded offline demo (config.yaml). Paper settings: configs/paper.yaml.

import copy
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

# The package is installed in editable mode by the Quick start; this keeps the Snakefile
# importable from a bare checkout too. Scripts find it through scripts/saliency_repro, a link
# to src/saliency_repro (Snakemake puts a script's folder on sys.path), so they also work
# inside the per-rule conda environments of envs/.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from saliency_repro.config import (  # noqa: E402
    ConfigError,
    check_command_line_overrides,
    check_cross_references,
    explain_config_errors,
    ignored_key_warnings,
    read_config_file,
)
from saliency_repro.index import ArtifactRegistry, reproduces_paper  # noqa: E402, F401
from saliency_repro.preflight import preflight, source_files  # noqa: E402, F401
from saliency_repro.provenance import code_digest  # noqa: E402
from saliency_repro.reporting import caption_for  # noqa: E402, F401 (used by the rule files)


# Duplicated keys (YAML keeps the last one silently) and syntax errors name the file and line.
try:
    for _path in [Path(workflow.basedir) / "config.yaml", *workflow.config_settings.configfiles]:
        read_config_file(_path)
except ConfigError as _error:
    sys.exit(f"Error: {_error}")


configfile: Path(workflow.basedir) / "config.yaml"


# A config given with --configfile replaces the default instead of being merged into it, so
# `--configfile configs/paper.yaml` never inherits the demo's datasets (--config still applies).
if workflow.config_settings.configfiles:
    config.clear()
    config.update(copy.deepcopy(dict(workflow.config_settings.overwrite_config)))


# A bad value stops the run before any job with one line naming the key (file, line), not a
# traceback through this file.
try:
    check_command_line_overrides(workflow.config_settings.config)
    explain_config_errors(config, Path(workflow.basedir) / "schemas/config.schema.yaml")
    for _warning in ignored_key_warnings(config):  # before validate() fills the defaults
        print(f"Warning: {_warning}", file=sys.stderr)
    validate(config, "schemas/config.schema.yaml")
    check_cross_references(config)
    for _warning in preflight(config, local_exec=workflow.local_exec):
        print(f"Warning: {_warning}", file=sys.stderr)
except ConfigError as _error:
    sys.exit(f"Error: {_error}")

ARTIFACTS = ArtifactRegistry()


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    crowd_source="[A-Za-z0-9]+",
    sample_set="correct|misclassified",


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/classify.smk"
include: "rules/saliency.smk"
include: "rules/crowd.smk"
include: "rules/faithfulness.smk"
include: "rules/summarize.smk"
include: "rules/counterfactual.smk"
include: "rules/claims.smk"
include: "rules/index.smk"


# Snakemake's code trigger sees a rule's script, not the package modules it imports: every
# scripted rule gets the content hash of those modules as a param, so an edit to one of them
# reruns exactly the jobs that run it (saliency_repro.provenance).
RULE_CODE = {}
# Each job also writes a provenance record per output under {R}/provenance (see
# `saliency-repro lineage`); these params say where, and which script and rule file ran.
for _rule in workflow.rules:
    if _rule.script:
        RULE_CODE[_rule.name] = {
            "script": f"scripts/{Path(_rule.script).name}",
            "rule_file": str(Path(_rule.snakefile).relative_to(workflow.basedir)),
        }
        _rule.set_params(
            package_code=code_digest(Path(workflow.basedir) / RULE_CODE[_rule.name]["script"]),
            provenance={"dir": f"{R}/provenance", **RULE_CODE[_rule.name]},
        )


rule all:
    default_target: True
    input:
        INDEX,
        ARTIFACTS.files(),
