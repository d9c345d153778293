# Training, tfvars and workflow invocation (scones train / tfvars / invoke).
# Bucket, role and state machine also come from SCONES_BUCKET, SCONES_ROLE_ARN, SCONES_STATE_MACHINE_ARN;
# AWS_ENDPOINT_URL points every command at the local emulator.
TRAIN_ALGORITHM ?= image-classification
TRAIN_BUCKET ?=
TRAIN_ROLE_ARN ?=
TRAIN_ARGS ?=
TRAIN_RESULT ?= build/train/result.json
TFVARS_ENV ?= dev
TFVARS_TRAINING_JOB ?=
INVOKE_COUNT ?= 10
INVOKE_SEED ?=
INVOKE_STATE_MACHINE_ARN ?=
INVOKE_BUCKET ?=
INVOKE_OUT ?= build/invoke/summary.json

.PHONY: train
train: | $(STAMP) ## SageMaker GPU training job (TRAIN_BUCKET= TRAIN_ROLE_ARN= [TRAIN_ALGORITHM=pytorch] [TRAIN_ARGS=]); its result in build/train/result.json
	$(BIN)/scones train --algorithm $(TRAIN_ALGORITHM) $(if $(TRAIN_BUCKET),--bucket $(TRAIN_BUCKET)) \
		$(if $(TRAIN_ROLE_ARN),--role-arn $(TRAIN_ROLE_ARN)) --result-json $(TRAIN_RESULT) $(TRAIN_ARGS)

.PHONY: train-local
train-local: | $(STAMP) ## Train the pytorch model here, keep build/model.tar.gz and upload it (TRAIN_BUCKET= [TRAIN_ARGS='--recipe fast'])
	$(BIN)/scones train --local $(if $(TRAIN_BUCKET),--bucket $(TRAIN_BUCKET)) --result-json $(TRAIN_RESULT) $(TRAIN_ARGS)

.PHONY: tfvars
tfvars: | $(STAMP) ## Write the last training result (or TFVARS_TRAINING_JOB=name) into terraform/envs/<TFVARS_ENV>
	$(BIN)/scones tfvars --env $(TFVARS_ENV) \
		$(if $(TFVARS_TRAINING_JOB),--training-job $(TFVARS_TRAINING_JOB),--from-json $(TRAIN_RESULT))

.PHONY: invoke
invoke: | $(STAMP) ## Run the workflow on INVOKE_COUNT random test images (INVOKE_STATE_MACHINE_ARN= INVOKE_BUCKET= [INVOKE_SEED=])
	$(BIN)/scones invoke --count $(INVOKE_COUNT) $(if $(INVOKE_SEED),--seed $(INVOKE_SEED)) \
		$(if $(INVOKE_STATE_MACHINE_ARN),--state-machine-arn $(INVOKE_STATE_MACHINE_ARN)) \
		$(if $(INVOKE_BUCKET),--bucket $(INVOKE_BUCKET)) --json $(INVOKE_OUT)


# `make batch PREFIX=data/test/`: the batch state machine's ARN comes from BATCH_STATE_MACHINE_ARN or
# SCONES_BATCH_STATE_MACHINE_ARN (terraform output: stack.batch_state_machine_arn).
BATCH_STATE_MACHINE_ARN ?=
PREFIX ?=

.PHONY: batch
batch: | $(STAMP) ## Classify every image under PREFIX with the batch state machine, wait, print the summary (PREFIX= [BATCH_STATE_MACHINE_ARN=], else SCONES_BATCH_STATE_MACHINE_ARN)
	@test -n "$(PREFIX)" || { echo "make batch needs PREFIX=<key prefix>, e.g. PREFIX=data/test/" >&2; exit 2; }
	$(BIN)/scones batch --prefix $(PREFIX) --wait \
		$(if $(BATCH_STATE_MACHINE_ARN),--state-machine-arn $(BATCH_STATE_MACHINE_ARN))
