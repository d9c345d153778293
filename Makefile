# Scones Unlimited: the pipeline. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
export CHECKPOINT_DISABLE := 1
export PYTHONDONTWRITEBYTECODE := 1

# Every folder of lambdas/ with an app.py is a function (scones build-lambdas discovers them the same way).
LAMBDAS := $(patsubst lambdas/%/app.py,%,$(wildcard lambdas/*/app.py))
LAMBDA_ZIPS := $(foreach f,$(LAMBDAS),build/lambdas/$(f).zip)
LAMBDA_SRCS := $(shell find lambdas -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: help
help: ## List the targets (the default goal)
	@grep -hE '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

NODE_STAMP := node_modules/.installed

.PHONY: setup
setup: $(STAMP) $(NODE_STAMP) ## Create .venv (the project, its tests and tools at constraints.txt's versions) and node_modules (asl-validator); idempotent

# uv installs every venv: pip's resolver and installer took 70 s of a fresh setup's 90, uv takes 30 (most
# of it compiling bytecode, which the suite's many short-lived processes would otherwise do at every import).
# pip bootstraps it, pinned, into a venv of its own.
UV_VERSION := 0.13.9
UV_VENV := .venv-uv
UV := $(UV_VENV)/bin/uv
# uv reads no pip configuration: where pip is pointed at local wheels (PIP_FIND_LINKS, whitespace-separated),
# uv is pointed at them too (UV_FIND_LINKS, comma-separated). https://docs.astral.sh/uv/reference/environment/
comma := ,
space := $() $()
ifneq ($(strip $(PIP_FIND_LINKS)),)
export UV_FIND_LINKS ?= $(subst $(space),$(comma),$(strip $(PIP_FIND_LINKS)))
endif

$(UV):
	@test -x $(UV_VENV)/bin/python || $(PYTHON) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet 'uv==$(UV_VERSION)'

$(STAMP): pyproject.toml constraints.txt | $(UV)
	@test -x $(BIN)/python || $(UV) venv --quiet --seed --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(BIN)/python --compile-bytecode -c constraints.txt -e '.[ml,dev]'
	@touch $@

.PHONY: lock
# Resolved afresh in a scratch venv (pyproject.toml's ranges, no constraints), then frozen. torch is written
# without its local label (+cpu here), which PEP 440 matches to any build of that version.
LOCK_VENV := build/lock-venv
lock: ## Re-resolve pyproject.toml's dependencies in a scratch venv and write every version to constraints.txt
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet -e '.[ml,dev]'
	{ sed -n '/^#/p' constraints.txt; $(LOCK_VENV)/bin/python -m pip freeze --all --exclude-editable \
		| grep -v -e '^pip==' -e '^scones==' | sed -E 's/^(torch==[^+]*)\+.*/\1/'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf $(LOCK_VENV)

# asl-validator, for the static check of the state machine definition.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (Node.js 18+) for asl-validator" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: lambdas
lambdas: $(LAMBDA_ZIPS) ## Build one zip per function folder of lambdas/ (lambdas/*/app.py) into build/lambdas/

$(LAMBDA_ZIPS) &: $(LAMBDA_SRCS) | $(STAMP)
	$(BIN)/scones build-lambdas --out build/lambdas

.PHONY: lint
lint: $(STAMP) lambdas tf-toolchain tf-tool-venvs ## The commit hooks of .pre-commit-config.yaml on every file: ruff, terraform fmt and validate, checkov, module READMEs, docs/reference (offline)
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

.PHONY: docs
# docs/reference/ is generated from the code; tests/unit/toolchain/test_reference.py and the commit hook
# fail when it is stale.
docs: | $(STAMP) ## Regenerate docs/reference/: every scones command, Make target and Terraform variable, from the code
	$(BIN)/python -m scones.toolchain.reference --write

.PHONY: test
# Workers of `make test` (pytest-xdist): the suite is mostly Terraform, the emulator and their processes,
# and three workers keep two cores busy (1.9 cores on average). tests/conftest.py groups the files.
TEST_WORKERS ?= 3

# Setup first, its independent installs (the project's venv, checkov's, cdktn's, node_modules) side by
# side: each is mostly waiting on the package registry. Setup and tests are timed apart.
test: ## Set up (the installs side by side, timed), then the whole suite on TEST_WORKERS=3 pytest-xdist workers (what CI runs)
	@start=$$(date +%s); $(MAKE) --no-print-directory -j4 setup lambdas tf-toolchain tf-tool-venvs && \
		echo "make test: setup took $$(( $$(date +%s) - start )) s"
	TERRAFORM=$(TERRAFORM) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# The unit tests mirror the package: one folder of tests/unit per area, one target per folder.
UNIT_AREAS = $(patsubst tests/unit/%/,%,$(sort $(dir $(wildcard tests/unit/*/__init__.py))))
test-%: | $(STAMP) ## Unit tests of one area, a folder of tests/unit: test-model, test-local, test-monitor, ... (an unknown area lists them)
	@test -f tests/unit/$*/__init__.py || { echo "make test-$*: no tests/unit/$*; areas: $(UNIT_AREAS)" >&2; exit 2; }
	$(BIN)/python -m pytest tests/unit/$* -q

# Each area of the pipeline keeps its targets in mk/<area>.mk.
include $(wildcard mk/*.mk)

DEMO_ARGS ?=
.PHONY: demo
KEEP ?=
demo: setup lambdas tf-toolchain ## The whole workflow end to end on the local emulator (DEMO_ARGS="--count 40 --epochs N"; KEEP=1 leaves it up to look around)
	TERRAFORM=$(TERRAFORM) $(BIN)/scones demo $(DEMO_ARGS) $(if $(KEEP),--keep-running)

BENCH_ARGS ?=
.PHONY: bench
bench: setup lambdas tf-toolchain ## Deploy on a private emulator; model quality, workflow latency and throughput -> build/bench/results.json (BENCH_ARGS="--batch 200")
	TERRAFORM=$(TERRAFORM) $(BIN)/scones bench $(BENCH_ARGS)
