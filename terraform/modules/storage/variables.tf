variable "partition" {
  description = "AWS partition of the account (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "data_bucket_name" {
  description = "Name of the bucket for training data (under data_prefix) and model artifacts (under models_prefix)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "data_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "capture_bucket_name" {
  description = "Name of the bucket that receives the endpoint's data capture."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.capture_bucket_name))
    error_message = "capture_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN for SSE-KMS on both buckets; null keeps SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete non-empty buckets. Only for throwaway environments."
  type        = bool
  default     = false
}

variable "capture_expiration_days" {
  description = "Days after which captured inference data expires."
  type        = number
  default     = 30

  validation {
    condition     = var.capture_expiration_days >= 1 && floor(var.capture_expiration_days) == var.capture_expiration_days
    error_message = "capture_expiration_days must be a whole number of days, at least 1."
  }
}

variable "lifecycle_rules" {
  description = "Whether both buckets get their lifecycle rules (capture expiry, superseded versions, incomplete uploads). Off only where buckets live for minutes: the AWS provider waits a fixed 55 s for each lifecycle configuration it creates."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which superseded object versions (old data, old model artifacts) are deleted."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
