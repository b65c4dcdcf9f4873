# The two commands of the README's Quick start are `make reproduce` and `make test`.
# Both set up .venv the same way: torch==2.13.0 first (a CPU machine then gets no CUDA wheels
# pulled in by other packages), then the pinned requirements, then the package in editable mode.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= all
SNAKEMAKE_ARGS ?=
# sized for a 2-core CPU; on a GPU machine drop --no-bf16 and raise the counts
# the demo profile's "before": the last revision before the demo's speed-up (issue 24), run from
# scratch in the same invocation; DEMO_BEFORE= (empty) skips it (e.g. in a shallow clone)
DEMO_BEFORE ?= 609446f
BENCH_ATTRIBUTION_ARGS ?= --n-texts 12 --steps 32 --lime-samples 200 --repeats 1 --threads 1 --no-bf16

.PHONY: system-packages setup reproduce paper released readme test lint dry-run bench report clean

$(BIN)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(BIN)/.installed

## Run the whole workflow on the embedded offline demo (config.yaml).
reproduce: setup
	$(BIN)/snakemake --cores $(CORES) $(SNAKEMAKE_ARGS)

## Paper settings (needs the Hugging Face hub, or a download mirror, and ideally a GPU).
paper: setup
	$(BIN)/snakemake --cores $(CORES) --configfile configs/paper.yaml $(SNAKEMAKE_ARGS)

## Lu et al. Tables 3, 4, 7 and Figure 3 from the authors' released labels alone.
released: setup
	$(BIN)/snakemake released_crowd_tables --cores $(CORES) --configfile configs/paper.yaml $(SNAKEMAKE_ARGS)

## Rewrite the README's results blocks from the claims tables (after `make released`).
readme: setup
	$(BIN)/python -m saliency_repro.cli readme

## Debian packages of the service tests (chromium, postgresql, slurm-wlm, munge), where root with apt.
system-packages:
	.ci/install-system-packages.sh

test: setup system-packages
	$(BIN)/python -m pytest -q --timeout=1500

lint: setup
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint

dry-run: setup
	$(BIN)/snakemake -n --cores 1
	$(BIN)/snakemake -n --cores 1 --configfile configs/paper.yaml

## Snakemake's HTML report of the demo run (figures, captions, provenance, runtimes).
report: setup
	$(BIN)/snakemake --report paper_figures/demo/report.html $(SNAKEMAKE_ARGS)

## Speed of the batched LRP and attribution against their one-at-a-time versions (printed), the
## attribution interface against the per-sample Captum loop and ferret, and the demo run from
## scratch: per-rule profile and sizing per unit of work (benchmarks/tables/).
bench: setup
	PYTHONWARNINGS=ignore $(BIN)/python benchmarks/run.py --threads 1 --out benchmarks/tables/batching_cpu.md
	PYTHONWARNINGS=ignore $(BIN)/python benchmarks/faithfulness.py
	$(BIN)/python benchmarks/attribution.py $(BENCH_ATTRIBUTION_ARGS) --out benchmarks/tables/attribution_cpu.md
	$(BIN)/python benchmarks/demo_profile.py --cores 2 $(if $(DEMO_BEFORE),--before-revision $(DEMO_BEFORE)) --out benchmarks/tables/demo_profile_cpu.md --sizing benchmarks/tables/sizing_cpu.md

clean:
	rm -rf results/demo paper_figures/demo .snakemake
