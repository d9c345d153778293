# What differs between accounts and deployments; the environment's choices are literals in main.tf.
# Upgrading from a version with more variables here: docs/upgrading.md.

variable "account_id" {
  description = "12-digit id of the AWS account to deploy to (given so plans need no STS call)."
  type        = string
}

variable "region" {
  description = "Region of the stack."
  type        = string
}

variable "notification_subscriptions" {
  description = "Subscribers of the notification topic: list of {protocol (email, sms, https, sqs), endpoint}."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for buckets, topic, data capture and endpoint volumes; null uses AWS-managed encryption. Its key policy must let the account's IAM policies grant it (the default key policy's statement for the account root), since the Lambdas, the state machine and SageMaker use it with their roles' credentials and their roles' policies; and it must allow the service principal cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, since CloudWatch alarms publish to the encrypted topic as the service (docs/kms.md)."
  type        = string
  default     = null
}

variable "create_kms_key" {
  description = "Let the stack create its own customer-managed KMS key (rotation on, alias alias/scones-prod), with a key policy right for this stack by construction (docs/kms.md); excludes kms_key_arn."
  type        = bool
  default     = false
}

variable "model_data_url" {
  description = "S3 URI of the trained model.tar.gz (written by `scones tfvars` into model.auto.tfvars.json); null: no endpoint yet."
  type        = string
  default     = null
}

variable "model_image_uri" {
  description = "Inference image URI (written by `scones tfvars`)."
  type        = string
  default     = null
}

variable "model_package_arn" {
  description = "A version of this environment's model registry for the endpoint to serve (written by `scones tfvars --model-package-arn`, which nulls model_data_url and model_image_uri); null: the endpoint serves model_data_url."
  type        = string
  default     = null

  validation {
    condition     = var.model_package_arn == null || can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[a-z0-9](-*[a-z0-9]){0,62}/[0-9]+$", var.model_package_arn))
    error_message = "model_package_arn must be a versioned model package ARN: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."
  }
}

variable "model_serving" {
  description = "What serves a registry version (model_package_arn): \"scones\" (the project's serving code) or \"image-classification\" (the built-in algorithm). Ignored with model_image_uri, whose image says it."
  type        = string
  default     = "scones"

  validation {
    condition     = contains(["scones", "image-classification"], var.model_serving)
    error_message = "model_serving must be \"scones\" or \"image-classification\"."
  }
}

variable "extra_image_repository_arns" {
  description = "Private ECR repositories the SageMaker role may pull training images from."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource (provider default tags)."
  type        = map(string)
  default     = {}
}

variable "api_allowed_principals" {
  description = "Accounts (IDs) and IAM role/user ARNs the classification API's resource policy admits; empty: this account only."
  type        = list(string)
  default     = []
}

variable "api_consumers" {
  description = "One API key and usage plan per consuming team: { team = { rate_limit, burst_limit, quota_per_day } } (terraform/modules/api)."
  type        = any
  default     = {}
}

variable "api_manage_account_cloudwatch_role" {
  description = "Whether this stack sets the region's API Gateway CloudWatch role (one per account and region, needed for access logs): false where another stack or the account's baseline sets it."
  type        = bool
  default     = true
}
