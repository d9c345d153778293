# The PyTorch model (python/scones/model): unit tests and `scones evaluate` on a prepared split.
#   make evaluate MODEL=build/model.tar.gz            (or MODEL=s3://bucket/key [EVAL_ENDPOINT_URL=...])
MODEL ?=
EVAL_DATA_DIR ?= data/prepared
EVAL_SPLIT ?= test
EVAL_OUT ?= build/evaluate
EVAL_ENDPOINT_URL ?=

.PHONY: evaluate test-model
evaluate: | $(STAMP) ## Evaluate a model artifact (MODEL=path|s3://...) on the prepared test split into build/evaluate
	@if [ -z "$(MODEL)" ]; then echo "make evaluate: set MODEL=<model.tar.gz or s3://bucket/key>" >&2; exit 2; fi
	$(BIN)/scones evaluate "$(MODEL)" --data-dir "$(EVAL_DATA_DIR)" --split $(EVAL_SPLIT) --out "$(EVAL_OUT)" \
	  $(if $(EVAL_ENDPOINT_URL),--endpoint-url "$(EVAL_ENDPOINT_URL)")

test-model: | $(STAMP) ## Run the model package's unit tests
	$(BIN)/python -m pytest tests/unit/test_model_fixtures.py tests/unit/test_model_artifact.py \
	  tests/unit/test_model_inference.py tests/unit/test_model_script_mode.py tests/unit/test_model_evaluate.py -q
