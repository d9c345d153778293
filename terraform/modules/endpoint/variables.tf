variable "endpoint_name" {
  description = "Name of the endpoint (deterministic, so the classify Lambda and its IAM policy can name it before it exists)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "model_data_url" {
  description = "S3 URI of the trained model.tar.gz. null (no model trained yet) creates no model, endpoint config, endpoint or autoscaling."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be an s3://bucket/key.tar.gz URI or null."
  }
}

variable "model_image_uri" {
  description = "Inference container image URI (ECR); required when model_data_url is set."
  type        = string
  default     = null

  validation {
    condition     = var.model_image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.model_image_uri))
    error_message = "model_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>."
  }
}

variable "model_environment" {
  description = "Environment of the inference container (e.g. SAGEMAKER_PROGRAM for framework images)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key, value in var.model_environment : can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", key)) && length(value) <= 1024])
    error_message = "model_environment keys must be environment variable names ([A-Za-z_][A-Za-z0-9_]*) and every key and value at most 1024 characters."
  }
}

variable "execution_role_arn" {
  description = "SageMaker execution role (from the iam module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "variant_name" {
  description = "Name of the production variant."
  type        = string
  default     = "AllTraffic"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "variant_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "instance_type" {
  description = "Instance type of the endpoint."
  type        = string
  default     = "ml.m5.large"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker instance type such as ml.m5.large."
  }
}

variable "data_capture" {
  description = "Data capture of requests and responses into the capture bucket."
  type = object({
    destination_s3_uri  = string
    sampling_percentage = optional(number, 100)
    kms_key_arn         = optional(string)
  })

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.data_capture.destination_s3_uri))
    error_message = "data_capture.destination_s3_uri must be an s3:// URI."
  }

  validation {
    condition     = var.data_capture.sampling_percentage >= 0 && var.data_capture.sampling_percentage <= 100 && floor(var.data_capture.sampling_percentage) == var.data_capture.sampling_percentage
    error_message = "data_capture.sampling_percentage must be a whole number from 0 to 100."
  }

  validation {
    condition     = var.data_capture.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.data_capture.kms_key_arn))
    error_message = "data_capture.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "autoscaling" {
  description = "Target-tracking autoscaling of the variant on SageMakerVariantInvocationsPerInstance."
  type = object({
    min_capacity                    = optional(number, 1)
    max_capacity                    = optional(number, 2)
    target_invocations_per_instance = optional(number, 100)
    scale_in_cooldown               = optional(number, 300)
    scale_out_cooldown              = optional(number, 60)
  })
  default = {}

  validation {
    condition     = var.autoscaling.min_capacity >= 1 && var.autoscaling.min_capacity <= var.autoscaling.max_capacity
    error_message = "autoscaling needs 1 <= min_capacity <= max_capacity."
  }

  validation {
    condition     = var.autoscaling.target_invocations_per_instance > 0 && var.autoscaling.scale_in_cooldown >= 0 && var.autoscaling.scale_out_cooldown >= 0
    error_message = "autoscaling.target_invocations_per_instance must be positive and cooldowns non-negative."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN for the endpoint instances' storage volumes; null uses SageMaker's AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "log_retention_days" {
  description = "Retention of the endpoint's log group /aws/sagemaker/Endpoints/<endpoint_name>, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key ARN for the endpoint's log group; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.logs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
