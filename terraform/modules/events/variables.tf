variable "name_prefix" {
  description = "Prefix of the names of this module's resources (the stack's name_prefix)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "partition" {
  description = "AWS partition of the account."
  type        = string
  default     = "aws"
}

variable "region" {
  description = "Region of the stack (given, so ARNs are known at plan time)."
  type        = string
}

variable "account_id" {
  description = "12-digit AWS account id (given, so ARNs are known at plan time)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "state_machine_role_name" {
  description = "Name of the classification state machine's role: it is granted events:PutEvents on the results bus, and nothing else here."
  type        = string
}

variable "ingestion" {
  description = "The upload entry point: when enabled, S3 Object Created events of the data bucket under prefix with one of suffixes start the classification workflow through the ingest queue and starter_function_name. A null prefix or suffixes takes the default."
  type = object({
    enabled  = bool
    prefix   = optional(string, "incoming/")
    suffixes = optional(list(string), [".jpg", ".jpeg", ".png"])
  })
  default  = { enabled = false }
  nullable = false

  validation {
    # The rule matches keys with a wildcard pattern, where "*" and "\" are special.
    condition     = can(regex("^[A-Za-z0-9!_.'()/-]{1,200}/$", var.ingestion.prefix)) && !startswith(var.ingestion.prefix, "/")
    error_message = "ingestion.prefix must be 1-200 characters of letters, digits and !_.'()/- (no * or \\), end with \"/\" and not start with it, e.g. \"incoming/\"."
  }

  validation {
    condition     = length(var.ingestion.suffixes) > 0 && alltrue([for s in var.ingestion.suffixes : can(regex("^\\.[A-Za-z0-9]{1,10}$", s))])
    error_message = "ingestion.suffixes must be a non-empty list of file extensions such as \".png\" (a dot and 1-10 letters or digits)."
  }
}

variable "data_bucket_name" {
  description = "The data bucket whose uploads are classified (the storage module's; its notification configuration is this module's)."
  type        = string
}

variable "starter_function_arn" {
  description = "ARN of the function that starts the workflow from the ingest queue's messages (the stack's start_classification); required when ingestion is enabled. Its role needs sqs:ReceiveMessage, DeleteMessage, ChangeMessageVisibility and GetQueueAttributes on the ingest queue (output ingest_queue_arn is known at plan time)."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key that encrypts both queues (the stack's key); null: SQS-managed encryption (SSE-SQS). Its key policy must let events.amazonaws.com use it (kms:GenerateDataKey*, kms:Decrypt), as the stack's own key's does, or EventBridge cannot send to the queues; the starter's role needs kms:Decrypt."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "topic_arn" {
  description = "SNS topic the dead-letter queue's alarm notifies."
  type        = string
}

variable "max_receive_count" {
  description = "Deliveries of an ingest message before it moves to the dead-letter queue."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000 (SQS's redrive limits)."
  }
}

variable "starter_timeout_seconds" {
  description = "The starter function's timeout; the ingest queue's visibility timeout is six times it, as Lambda recommends for an SQS event source."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.starter_timeout_seconds >= 1 && var.starter_timeout_seconds <= 900
    error_message = "starter_timeout_seconds must be 1-900."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
