variable "name" {
  description = "Name of the state machine."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1-80 letters, digits, hyphens or underscores."
  }
}

variable "type" {
  description = "STANDARD (default: exactly-once, execution history kept) or EXPRESS (cheaper at high volume)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.type)
    error_message = "type must be STANDARD or EXPRESS."
  }
}

variable "definition_template" {
  description = "Path of the ASL template with $${serialize_image_arn}, $${classify_image_arn}, $${filter_low_confidence_arn} and $${sns_topic_arn} placeholders."
  type        = string

  validation {
    condition     = fileexists(var.definition_template)
    error_message = "definition_template must be the path of an existing file (asl/classify_image.asl.json)."
  }
}

variable "function_arns" {
  description = "ARNs of the three functions the workflow calls."
  type = object({
    serialize_image       = string
    classify_image        = string
    filter_low_confidence = string
  })

  validation {
    condition     = alltrue([for arn in values(var.function_arns) : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]+)?$", arn))])
    error_message = "function_arns must be Lambda function ARNs (arn:aws:lambda:<region>:<account>:function:<name>)."
  }
}

variable "topic_arn" {
  description = "SNS topic the workflow publishes rejections and failures to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)."
  }
}

variable "role_arn" {
  description = "Execution role of the state machine (from the iam module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "log_group_name" {
  description = "Name of the execution log group; must start with /aws/vendedlogs/states/ so Step Functions can deliver to it without a resource policy size problem."
  type        = string

  validation {
    condition     = startswith(var.log_group_name, "/aws/vendedlogs/states/")
    error_message = "log_group_name must start with /aws/vendedlogs/states/."
  }
}

variable "log_level" {
  description = "Execution logging level."
  type        = string
  default     = "ALL"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be ALL, ERROR or FATAL (OFF would hide failures)."
  }
}

variable "log_retention_days" {
  description = "Retention of the execution log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key ARN for the log group; null uses CloudWatch Logs' own encryption."
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
