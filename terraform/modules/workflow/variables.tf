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

variable "definition_file" {
  description = "Path of the ASL template (asl/classify_image.asl.json); Terraform's templatefile fills its $${name} placeholders from definition_variables."
  type        = string

  validation {
    condition     = fileexists(var.definition_file)
    error_message = "definition_file must be the path of an existing file (asl/classify_image.asl.json)."
  }
}

variable "definition_variables" {
  description = "Values of the definition's placeholders, by name (e.g. serialize_image_arn, sns_topic_arn): the ARNs of the functions and topic the workflow calls."
  type        = map(string)

  validation {
    condition     = alltrue([for name, value in var.definition_variables : can(regex("^[a-z][a-z0-9_]*$", name)) && can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:", value))])
    error_message = "definition_variables must map snake_case placeholder names to ARNs (arn:aws...)."
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
  description = "Execution logging level: ALL logs every state transition, ERROR only the events of failed executions (rejections included), FATAL only executions that failed as a whole."
  type        = string
  default     = "ERROR"
  nullable    = false

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be ALL, ERROR or FATAL (OFF would hide failures)."
  }
}

variable "include_execution_data" {
  description = "Log each state's input and output with its event. This workflow's data is the base64 image (up to 256 KB an event, at every transition), so it is off unless images may be kept in logs; STANDARD executions keep their inputs in the execution history regardless."
  type        = bool
  default     = false
  nullable    = false
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
