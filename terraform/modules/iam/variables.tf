variable "partition" {
  description = "AWS partition of the account (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "region" {
  description = "Region the stack runs in, e.g. us-east-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "account_id" {
  description = "12-digit id of the AWS account the stack runs in (given, not looked up, so plans work offline)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "role_names" {
  description = "Names of the SageMaker and state machine roles (each Lambda's role is named after its function)."
  type = object({
    sagemaker     = string
    state_machine = string
  })

  validation {
    condition     = alltrue([for name in values(var.role_names) : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", name))])
    error_message = "Role names must be 1-64 letters, digits or +=,.@_- characters."
  }
}

variable "functions" {
  description = "The Lambda functions, by key: name (their ARNs are derived, so roles exist before the functions), what each may do beyond writing its own logs and traces, and whether the state machine invokes it (invoked_by_workflow, default true; a function that starts the workflow is not one of its steps)."
  type = map(object({
    name                = string
    invoked_by_workflow = optional(bool, true)
    policy_statements = optional(list(object({
      sid       = string
      actions   = list(string)
      resources = list(string)
    })), [])
  }))

  validation {
    condition     = alltrue([for fn in values(var.functions) : can(regex("^[A-Za-z0-9_-]{1,64}$", fn.name))])
    error_message = "Function names must be 1-64 letters, digits, hyphens or underscores (they name the roles too)."
  }

  validation {
    condition = alltrue(flatten([for fn in values(var.functions) : [
      for statement in fn.policy_statements : can(regex("^[A-Za-z0-9]+$", statement.sid)) && length(statement.actions) > 0 && length(statement.resources) > 0
      && alltrue([for action in statement.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", action))])
    ]]))
    error_message = "Each policy statement needs an alphanumeric sid, at least one resource and at least one action written service:Action (no wildcards)."
  }
}

variable "endpoint_name" {
  description = "Name of the SageMaker endpoint whose log group the SageMaker role writes (it may not exist yet)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "topic_arn" {
  description = "SNS topic the state machine publishes rejections and failures to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)."
  }
}

variable "data_bucket_name" {
  description = "Bucket with training data and model artifacts."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "data_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "data_prefix" {
  description = "Key prefix of the prepared data in the data bucket (no slashes at either end)."
  type        = string
  default     = "data"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.data_prefix))
    error_message = "data_prefix must be a key prefix without leading or trailing slashes, e.g. data."
  }
}

variable "models_prefix" {
  description = "Key prefix under which training writes model artifacts in the data bucket."
  type        = string
  default     = "models"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.models_prefix))
    error_message = "models_prefix must be a key prefix without leading or trailing slashes, e.g. models."
  }
}

variable "training_code_prefix" {
  description = "Key prefix under which script-mode training stages its source code in the data bucket (STAGING_PREFIX of python/scones/training/sagemaker_job.py)."
  type        = string
  default     = "training"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.training_code_prefix))
    error_message = "training_code_prefix must be a key prefix without leading or trailing slashes, e.g. training."
  }
}

variable "capture_bucket_name" {
  description = "Bucket the endpoint writes captured requests and responses to."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.capture_bucket_name))
    error_message = "capture_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "image_repository_arns" {
  description = "ECR repositories SageMaker may pull training/inference images from (AWS-owned algorithm and framework repositories need no grant)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.image_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", arn))])
    error_message = "image_repository_arns must be ECR repository ARNs."
  }
}

variable "kms_key_arns" {
  description = "KMS keys protecting the buckets or topic; roles that read or write them get Decrypt/GenerateDataKey on these keys only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", arn))])
    error_message = "kms_key_arns must be KMS key ARNs (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "rollback_alarm_names" {
  description = "CloudWatch alarms that roll back an endpoint update; the SageMaker role may describe these only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.rollback_alarm_names : length(name) >= 1 && length(name) <= 255])
    error_message = "rollback_alarm_names must be alarm names of 1-255 characters."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
