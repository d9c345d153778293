locals {
  repo_root = abspath("${path.root}/../../..")
}

# This environment's choices, as literals; variables.tf declares only what differs between accounts.
module "stack" {
  source = "../../modules/stack"

  name_prefix                 = "scones-prod"
  region                      = var.region
  account_id                  = var.account_id
  lambda_package_dir          = "${local.repo_root}/build/lambdas"
  state_machine_definition    = "${local.repo_root}/asl/classify_image.asl.json"
  model_data_url              = var.model_data_url
  model_image_uri             = var.model_image_uri
  model_package_arn           = var.model_package_arn
  model_serving               = var.model_serving
  notification_subscriptions  = var.notification_subscriptions
  kms_key_arn                 = var.kms_key_arn
  create_kms_key              = var.create_kms_key
  extra_image_repository_arns = var.extra_image_repository_arns
  capture_expiration_days     = 90
  log_retention_days          = 90
  # Two instances at least: one of them takes the canary (a canary is at most half of the variant's instances),
  # and a second instance keeps the endpoint up through an instance or Availability Zone failure.
  autoscaling = { min_capacity = 2, max_capacity = 4 }
  # A new model first serves through one instance for two alarm periods (10 minutes), then everything for
  # another 10; the endpoint's 5XX or p95-latency alarm in ALARM during either rolls it back.
  endpoint_deployment = {
    traffic_routing                   = "CANARY"
    step                              = { type = "INSTANCE_COUNT", value = 1 }
    wait_interval_seconds             = 600
    maximum_execution_timeout_seconds = 3600
  }
  force_destroy = false

  # Failed executions only, without the images: customers' photos stay out of the logs (an execution's
  # input stays in its execution history for 90 days).
  execution_log = { level = "ERROR", include_execution_data = false }

  # The classification API: who may call it and each consuming team's key, throttle and quota differ per account.
  api = {
    allowed_principals             = var.api_allowed_principals
    consumers                      = var.api_consumers
    manage_account_cloudwatch_role = var.api_manage_account_cloudwatch_role
  }
}
