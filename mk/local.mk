# The local AWS emulator (python/scones/local): moto on 127.0.0.1 that runs Lambdas,
# Step Functions executions and the SageMaker endpoint. State and log in build/local/.
# LOCAL_PORT also reaches `make plan|apply|destroy ENV=local` (mk/terraform.mk).
LOCAL_PORT ?= 4588

.PHONY: local-up local-down local-status
local-up: | $(STAMP) ## Start the local AWS emulator in the background (LOCAL_PORT=4588, which make plan/apply/destroy ENV=local also use)
	$(BIN)/scones local up --port $(LOCAL_PORT)

local-down: | $(STAMP) ## Stop the local AWS emulator and every process it started
	$(BIN)/scones local down

local-status: | $(STAMP) ## Show whether the local AWS emulator runs and what is deployed on it
	$(BIN)/scones local status
