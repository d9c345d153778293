locals {
  repo_root = abspath("${path.root}/../../..")
}

# This environment's choices, as literals; variables.tf declares only what differs between accounts.
module "stack" {
  source = "../../modules/stack"

  name_prefix                 = "scones-dev"
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
  capture_expiration_days     = 30
  log_retention_days          = 30
  force_destroy               = false

  # One instance: all at once, then a baking period of one alarm period (5 minutes) in which the endpoint's
  # 5XX or p95-latency alarm rolls the update back.
  endpoint_deployment = { traffic_routing = "ALL_AT_ONCE", wait_interval_seconds = 300, maximum_execution_timeout_seconds = 1800 }

  # Every transition, for debugging, but not the images themselves.
  execution_log = { level = "ALL", include_execution_data = false }

  # The classification API: who may call it and each consuming team's key, throttle and quota differ per account.
  api = {
    allowed_principals             = var.api_allowed_principals
    consumers                      = var.api_consumers
    manage_account_cloudwatch_role = var.api_manage_account_cloudwatch_role
  }
}
