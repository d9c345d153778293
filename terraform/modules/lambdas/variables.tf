variable "functions" {
  description = "The functions, by key (the key is the function's folder under lambdas/ and names its zip): name, execution role, zip, limits, environment (LOG_LEVEL is added from log_level)."
  type = map(object({
    name        = string
    role_arn    = string
    package     = string
    timeout     = optional(number, 30)
    memory_size = optional(number, 128)
    environment = optional(map(string), {})
    log_level   = optional(string, "INFO")
  }))

  validation {
    condition     = alltrue([for key, fn in var.functions : can(regex("^[a-z][a-z0-9_]*$", key)) && can(regex("^[A-Za-z0-9_-]{1,64}$", fn.name))])
    error_message = "Function keys must be lowercase snake_case and function names 1-64 letters, digits, hyphens or underscores."
  }

  validation {
    condition     = alltrue([for fn in values(var.functions) : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", fn.role_arn))])
    error_message = "Each role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }

  validation {
    condition     = alltrue([for fn in values(var.functions) : endswith(fn.package, ".zip") && fileexists(fn.package)])
    error_message = "Each package must be an existing zip (build them with `make lambdas`)."
  }

  validation {
    condition     = alltrue([for fn in values(var.functions) : fn.timeout >= 1 && fn.timeout <= 900 && fn.memory_size >= 128 && fn.memory_size <= 10240])
    error_message = "Each timeout must be 1-900 seconds and each memory_size 128-10240 MB."
  }

  validation {
    condition     = alltrue([for fn in values(var.functions) : contains(["DEBUG", "INFO", "WARNING", "ERROR"], fn.log_level) && !contains(keys(fn.environment), "LOG_LEVEL")])
    error_message = "Each log_level must be DEBUG, INFO, WARNING or ERROR, set through log_level (not environment.LOG_LEVEL)."
  }
}

variable "package_bucket" {
  description = "Bucket the zips are uploaded to (lambda-packages/<key>.zip) and the functions deploy from; in the functions' region. The deployer needs s3:PutObject and s3:GetObject there (and kms:Decrypt/GenerateDataKey on an SSE-KMS bucket's key)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.package_bucket))
    error_message = "package_bucket must be an S3 bucket name (3-63 lowercase letters, digits, dots or hyphens)."
  }
}

variable "package_kms_key_arn" {
  description = "KMS key ARN the uploaded zips are encrypted with; null takes the bucket's default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.package_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.package_kms_key_arn))
    error_message = "package_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
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
