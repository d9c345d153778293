locals {
  repo_root = abspath("${path.root}/../../..")
}

module "stack" {
  source = "../../modules/stack"

  name_prefix                 = var.name_prefix
  region                      = var.region
  account_id                  = var.account_id
  lambda_package_dir          = coalesce(var.lambda_package_dir, "${local.repo_root}/build/lambdas")
  state_machine_definition    = coalesce(var.state_machine_definition, "${local.repo_root}/asl/classify_image.asl.json")
  state_machine_type          = var.state_machine_type
  threshold                   = var.threshold
  model_data_url              = var.model_data_url
  model_image_uri             = var.model_image_uri
  model_environment           = var.model_environment
  endpoint_instance_type      = var.endpoint_instance_type
  capture_sampling_percentage = var.capture_sampling_percentage
  capture_expiration_days     = var.capture_expiration_days
  autoscaling                 = var.autoscaling
  alarm_thresholds            = var.alarm_thresholds
  log_retention_days          = var.log_retention_days
  force_destroy               = false
  notification_subscriptions  = var.notification_subscriptions
  kms_key_arn                 = var.kms_key_arn
  extra_image_repository_arns = var.extra_image_repository_arns
}
