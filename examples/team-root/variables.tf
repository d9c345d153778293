# Only what comes from outside this repository: the account, its region and key, and what the training
# pipeline produces. Everything the team decides is a literal in main.tf.

variable "account_id" {
  description = "12-digit id of the AWS account to deploy to."
  type        = string
}

variable "region" {
  description = "Region of the stack."
  type        = string
}

variable "kms_key_arn" {
  description = "The account's customer-managed KMS key for buckets, topic, data capture and endpoint volumes."
  type        = string
}

variable "model_data_url" {
  description = "S3 URI of the trained model.tar.gz, from the training pipeline; null: no endpoint yet."
  type        = string
  default     = null
}

variable "model_image_uri" {
  description = "Inference image URI, from the training pipeline."
  type        = string
  default     = null
}
