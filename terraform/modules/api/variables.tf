variable "partition" {
  description = "AWS partition of the ARNs the module derives (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "region" {
  description = "Region of the API and the Express state machine."
  type        = string
}

variable "account_id" {
  description = "Account that owns the API; the default resource policy admits its principals only."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "name" {
  description = "Name of the REST API (<name_prefix>-api); also names its stage log group and alarms."
  type        = string
}

variable "stage_name" {
  description = "The API's one stage; part of the invoke URL."
  type        = string
  default     = "v1"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,64}$", var.stage_name))
    error_message = "stage_name must be 1-64 letters, digits or underscores."
  }
}

variable "function" {
  description = "The thin function the method proxies to (AWS_PROXY): its name and ARN."
  type = object({
    name = string
    arn  = string
  })
}

variable "state_machine" {
  description = "The EXPRESS variant of the classification workflow the thin function runs with StartSyncExecution: its name, the workflow's ASL file and placeholder values (the same as the STANDARD workflow's, so nothing is copied), the role that runs it, and its execution logging."
  type = object({
    name                   = string
    definition_file        = string
    definition_variables   = map(string)
    role_arn               = string
    log_level              = optional(string, "ERROR")
    include_execution_data = optional(bool, false)
  })
}

variable "allowed_principals" {
  description = "Who may call execute-api:Invoke (the resource policy): account IDs and IAM role/user ARNs. Empty: this account only. IAM authorization still needs an identity policy that allows the call."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.allowed_principals : can(regex("^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+))$", p))])
    error_message = "allowed_principals: each entry is a 12-digit account ID or an IAM role/user/root ARN."
  }
}

variable "stage_throttle" {
  description = "The stage-wide throttle, the API's global cap over all callers (requests/s and burst)."
  type = object({
    rate_limit  = optional(number, 50)
    burst_limit = optional(number, 100)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.stage_throttle.rate_limit > 0 && var.stage_throttle.burst_limit >= 1 && floor(var.stage_throttle.burst_limit) == var.stage_throttle.burst_limit
    error_message = "stage_throttle: rate_limit > 0 and burst_limit a whole number >= 1."
  }
}

variable "consumers" {
  description = "One API key and usage plan per consuming team, by team name: its own throttle (requests/s, burst) and daily quota. Per-caller limits are keyed by API keys (REST API usage plans)."
  type = map(object({
    rate_limit    = number
    burst_limit   = number
    quota_per_day = number
  }))
  default  = {}
  nullable = false

  validation {
    condition = alltrue([for team, c in var.consumers : can(regex("^[a-z0-9][a-z0-9-]{0,62}$", team)) && c.rate_limit > 0 && c.burst_limit >= 1 && floor(c.burst_limit) == c.burst_limit && c.quota_per_day >= 1 && floor(c.quota_per_day) == c.quota_per_day
    ])
    error_message = "consumers: team names are lowercase letters, digits and hyphens; rate_limit > 0; burst_limit and quota_per_day whole numbers >= 1."
  }
}

variable "max_image_base64_chars" {
  description = "Longest `image` (base64) the request model accepts: the workflow's 150 KiB image limit (lambda_common.images.MAX_IMAGE_BYTES) in base64."
  type        = number
  default     = 204800
}

variable "manage_account_cloudwatch_role" {
  description = "Whether this module sets the region's API Gateway account setting (aws_api_gateway_account) to a role that lets API Gateway write access logs. It is one setting per account and region, shared by every API there: turn it on in one stack per account/region only, where nothing else manages it."
  type        = bool
  default     = false
  nullable    = false
}

variable "xray_tracing" {
  description = "X-Ray tracing of the stage."
  type        = bool
  default     = true
  nullable    = false
}

variable "log_retention_days" {
  description = "Retention of the access log group and the Express workflow's execution logs."
  type        = number
  default     = 30
  nullable    = false
}

variable "alarm_topic_arn" {
  description = "SNS topic the API's alarms notify."
  type        = string
}

variable "alarm_thresholds" {
  description = "The API's alarms: 4XXError and 5XXError rates (share of requests, per period) and p95 Latency (ms)."
  type = object({
    client_error_rate  = optional(number, 0.2)
    server_error_rate  = optional(number, 0.05)
    latency_p95_ms     = optional(number, 10000)
    period_seconds     = optional(number, 300)
    evaluation_periods = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.alarm_thresholds.client_error_rate > 0 && var.alarm_thresholds.client_error_rate <= 1 && var.alarm_thresholds.server_error_rate > 0 && var.alarm_thresholds.server_error_rate <= 1 && var.alarm_thresholds.latency_p95_ms > 0
    error_message = "alarm_thresholds: error rates in (0, 1], latency_p95_ms > 0."
  }
}

variable "tags" {
  description = "Tags for every taggable resource."
  type        = map(string)
  default     = {}
}
