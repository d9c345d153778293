variable "topic_name" {
  description = "Name of the SNS topic that receives workflow rejections/failures and alarm notifications."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,256}$", var.topic_name))
    error_message = "topic_name must be 1-256 letters, digits, hyphens or underscores."
  }
}

variable "kms_master_key_id" {
  description = "Customer-managed KMS key (id, ARN or alias) for the topic; null leaves it unencrypted at rest. Its key policy must let cloudwatch.amazonaws.com and states.amazonaws.com use it."
  type        = string
  default     = null

  validation {
    condition = var.kms_master_key_id == null || can(regex(
      "^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)|alias/[A-Za-z0-9/_-]+|(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))$",
      var.kms_master_key_id
    ))
    error_message = "kms_master_key_id must be a KMS key ARN, alias ARN, alias/<name> or key id, or null."
  }
}

variable "subscriptions" {
  description = "Who hears about rejections, failures and alarms: a list of {protocol, endpoint}. Email subscriptions must be confirmed by their owner; a new account's SMS is in the SMS sandbox (only verified numbers receive messages until production access is granted)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["email", "sms", "https", "sqs"], s.protocol)])
    error_message = "Each subscription protocol must be one of email, sms, https, sqs."
  }

  validation {
    condition = alltrue([for s in var.subscriptions : (
      s.protocol == "email" ? can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)) :
      s.protocol == "sms" ? can(regex("^\\+[1-9][0-9]{6,14}$", s.endpoint)) :
      s.protocol == "https" ? startswith(s.endpoint, "https://") :
      can(regex("^arn:aws[a-z-]*:sqs:", s.endpoint))
    )])
    error_message = "Subscription endpoints must match their protocol: an email address, an E.164 phone number (+15551234567), an https:// URL, or an SQS queue ARN."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
