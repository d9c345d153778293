# Releases (scones release, python/scones/release): data, train, evaluate, gate, register, record, plan,
# apply the reviewed plan, verify, smoke test, and roll back on a failure after the apply. Floors, approval
# mode and smoke test: terraform/envs/<env>/release.json. Reports: build/release/<env>/<timestamp>/.
#   make release ENV=local                  (on the emulator `make local-up` started on LOCAL_PORT)
#   make release ENV=dev RELEASE_ARGS="--model-data-url s3://<bucket>/models/<job-name>/model.tar.gz"
RELEASE_ARGS ?=

.PHONY: release
release: tf-preflight tf-init lambdas ## scones release: a model from data to a verified endpoint of ENV, with rollback; re-run resumes (RELEASE_ARGS="--model-data-url s3://...")
	TERRAFORM=$(TERRAFORM) $(BIN)/scones release --env $(ENV) \
	  $(if $(filter local,$(ENV)),--endpoint-url http://127.0.0.1:$(LOCAL_PORT)) $(RELEASE_ARGS)
