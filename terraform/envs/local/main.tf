locals {
  repo_root   = abspath("${path.root}/../../..")
  name_prefix = "scones-local"
}

# This environment's choices, as literals; only what differs between checkouts is a variable.
# The demo and the tests count notifications from the emulator's record of what the topic sent
# (scones.local.notifications), so no queue is subscribed here.
module "stack" {
  source = "../../modules/stack"

  name_prefix              = local.name_prefix
  region                   = var.region
  account_id               = var.account_id
  lambda_package_dir       = "${local.repo_root}/build/lambdas"
  state_machine_definition = "${local.repo_root}/asl/classify_image.asl.json"
  state_machine_type       = var.state_machine_type
  threshold                = var.threshold
  model_data_url           = var.model_data_url
  model_image_uri          = var.model_image_uri
  model_package_arn        = var.model_package_arn
  model_serving            = var.model_serving
  log_retention_days       = 7
  force_destroy            = true

  # The AWS provider waits a fixed 55 s for every lifecycle configuration it creates
  # (waitLifecycleConfigEquals: ten matching reads, docs/emulator.md "Apply speed"), longer than the
  # rest of the apply; the emulator's buckets live for one run. dev and prod keep their rules.
  lifecycle_rules = false

  # By default one emulated instance and all at once with no baking period (variables.tf), so an apply that
  # deploys a model waits for nothing; the release end-to-end test sets a canary.
  autoscaling         = var.endpoint_autoscaling
  endpoint_deployment = var.endpoint_deployment

  # The upload entry point's two queues cost the first apply about 50 s of the provider's fixed SQS waits
  # (docs/emulator.md "Apply speed") and the demo does not upload under incoming/: off unless asked for
  # (the end-to-end test of the entry point turns it on). The results bus is part of the stack either way.
  ingestion = { enabled = var.ingestion_enabled }

  # The demo's images are public CIFAR-100 and the emulator is throwaway: every transition, with its data.
  execution_log = { level = "ALL", include_execution_data = true }

  batch_max_items       = var.batch_max_items
  batch_items_per_chunk = var.batch_items_per_chunk

  # One team, "local", whose key the e2e tests, the demo and the bench call with; limits well above the bench's
  # 50 concurrent callers. The emulator keeps its own API Gateway account setting, so the module sets it.
  api = {
    stage_throttle                 = { rate_limit = 1000, burst_limit = 2000 }
    consumers                      = { local = { rate_limit = 1000, burst_limit = 2000, quota_per_day = 1000000 } }
    manage_account_cloudwatch_role = true
    xray_tracing                   = false
  }
}

data "aws_api_gateway_api_key" "local" {
  id = module.stack.api_key_ids["local"]
}
