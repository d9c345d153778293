# The acme vision team's production deployment of the scones stack. The team's choices are literals here;
# tests/test_plan.py asserts on the plan they produce.
module "stack" {
  source = "../../terraform/modules/stack"

  name_prefix              = "acme-vision-prod"
  region                   = var.region
  account_id               = var.account_id
  kms_key_arn              = var.kms_key_arn
  model_data_url           = var.model_data_url
  model_image_uri          = var.model_image_uri
  lambda_package_dir       = "${path.root}/../../build/lambdas"
  state_machine_definition = "${path.root}/../../asl/classify_image.asl.json"

  endpoint_instance_type      = "ml.c5.xlarge"
  autoscaling                 = { min_capacity = 2, max_capacity = 6 }
  capture_sampling_percentage = 100
  capture_expiration_days     = 180
  log_retention_days          = 365
  notification_subscriptions = [
    { protocol = "email", endpoint = "vision-oncall@acme.example" },
  ]
}
