# The PyTorch model (python/scones/model, python/scones/evaluation): `scones evaluate` on a prepared split.
#   make evaluate MODEL=build/model.tar.gz            (or MODEL=s3://bucket/key [EVAL_ENDPOINT_URL=...])
MODEL ?=
EVAL_DATA_DIR ?= data/prepared
EVAL_SPLIT ?= test
EVAL_OUT ?= build/evaluate
EVAL_ENDPOINT_URL ?=

.PHONY: evaluate
evaluate: | $(STAMP) ## Evaluate a model artifact on the prepared test split into build/evaluate (MODEL=build/model.tar.gz, what train-local keeps, or MODEL=s3://... [EVAL_ENDPOINT_URL=])
	@if [ -z "$(MODEL)" ]; then echo "make evaluate: set MODEL=<model.tar.gz or s3://bucket/key>" >&2; exit 2; fi
	$(BIN)/scones evaluate "$(MODEL)" --data-dir "$(EVAL_DATA_DIR)" --split $(EVAL_SPLIT) --out "$(EVAL_OUT)" \
	  $(if $(EVAL_ENDPOINT_URL),--endpoint-url "$(EVAL_ENDPOINT_URL)")


.PHONY: model-fixture
model-fixture: | $(STAMP) ## Retrain the committed test model tests/fixtures/trained_model (default recipe, seed 0; ~150 s) after a change to the recipe, the network or the guard's fitting
	$(BIN)/python scripts/make_model_fixture.py
