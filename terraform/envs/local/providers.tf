# Every service this stack uses talks to the local emulator, never to AWS.
provider "aws" {
  region     = var.region
  access_key = "testing"
  secret_key = "testing"

  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  # Low, so a call the emulator does not answer fails in seconds rather than minutes, but not 1:
  # the emulator's HTTP server occasionally drops a keep-alive connection under load, and one
  # retry of such a transport error is what AWS's own endpoints get too.
  max_retries = 3

  endpoints {
    apigateway     = var.emulator_url
    appautoscaling = var.emulator_url
    cloudwatch     = var.emulator_url
    events         = var.emulator_url
    iam            = var.emulator_url
    lambda         = var.emulator_url
    logs           = var.emulator_url
    s3             = var.emulator_url
    sagemaker      = var.emulator_url
    sfn            = var.emulator_url
    sns            = var.emulator_url
    sqs            = var.emulator_url
    sts            = var.emulator_url
  }

  default_tags {
    tags = { Project = "scones-unlimited", Environment = local.name_prefix }
  }
}
