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
