variable "function_names" {
  description = "Name of each of the three functions."
  type = object({
    serialize_image       = string
    classify_image        = string
    filter_low_confidence = string
  })

  validation {
    condition     = alltrue([for name in values(var.function_names) : can(regex("^[A-Za-z0-9_-]{1,64}$", name))])
    error_message = "Function names must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "role_arns" {
  description = "Execution role ARN of each function (from the iam module)."
  type = object({
    serialize_image       = string
    classify_image        = string
    filter_low_confidence = string
  })

  validation {
    condition     = alltrue([for arn in values(var.role_arns) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", arn))])
    error_message = "role_arns must be IAM role ARNs (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "package_dir" {
  description = "Directory holding serialize_image.zip, classify_image.zip and filter_low_confidence.zip (built by `make lambdas`)."
  type        = string

  validation {
    condition     = alltrue([for key in ["serialize_image", "classify_image", "filter_low_confidence"] : fileexists("${var.package_dir}/${key}.zip")])
    error_message = "package_dir must hold serialize_image.zip, classify_image.zip and filter_low_confidence.zip (run `make lambdas`)."
  }
}

variable "endpoint_name" {
  description = "SageMaker endpoint classify_image invokes (ENDPOINT_NAME)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "threshold" {
  description = "Lowest top-class probability filter_low_confidence accepts (THRESHOLD), in (0, 1]."
  type        = number
  default     = 0.93

  validation {
    condition     = var.threshold > 0 && var.threshold <= 1
    error_message = "threshold must be in (0, 1]."
  }
}

variable "settings" {
  description = "Per-function runtime settings; omitted fields keep their defaults."
  type = object({
    serialize_image       = optional(object({ timeout = optional(number, 15), memory_size = optional(number, 256) }), {})
    classify_image        = optional(object({ timeout = optional(number, 30), memory_size = optional(number, 256) }), {})
    filter_low_confidence = optional(object({ timeout = optional(number, 10), memory_size = optional(number, 128) }), {})
  })
  default = {}

  validation {
    condition     = alltrue([for s in values(var.settings) : s.timeout >= 1 && s.timeout <= 900 && s.memory_size >= 128 && s.memory_size <= 10240])
    error_message = "Each timeout must be 1-900 seconds and each memory_size 128-10240 MB."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key ARN for the log groups; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.logs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the functions."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
