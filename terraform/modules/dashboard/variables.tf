variable "name" {
  description = "Name of the dashboard."
  type        = string

  # PutDashboard: "Dashboard names can contain only alphanumerics, dash (-), and underscore (_)", up to 255.
  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.name))
    error_message = "name must be 1-255 letters, digits, hyphens or underscores."
  }
}

variable "partition" {
  description = "AWS partition of the account (builds the alarms' ARNs)."
  type        = string
  default     = "aws"
}

variable "region" {
  description = "Region of every metric the dashboard draws (each metric widget names it) and of its console URL."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "account_id" {
  description = "Account of the alarms (builds their ARNs)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "state_machine_arn" {
  description = "The classification workflow whose executions are drawn by outcome."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)."
  }
}

variable "functions" {
  description = "The Lambda functions whose errors and throttles are drawn, one widget each: key -> function name."
  type        = map(string)

  validation {
    condition     = alltrue([for name in values(var.functions) : can(regex("^[A-Za-z0-9_-]{1,64}$", name))])
    error_message = "Function names must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "watched_metrics" {
  description = "The alarms module's watched_metrics output: the confidence filter's namespace and dimensions, its rejection metrics and the expression subtracting them, the alarms' period, and the low-confidence share alarm's queries (query id -> metric and function), share and predictions expressions, threshold, period and minimum predictions."
  type = object({
    namespace         = string
    dimensions        = map(string)
    rejection_metrics = list(object({ id = string, metric = string }))
    rejections_sum    = string
    period_seconds    = number
    low_confidence = object({
      queries         = map(object({ metric = string, function = string }))
      expression      = string
      predictions     = string
      threshold       = number
      period          = number
      min_predictions = number
      label           = string
    })
  })
}

variable "endpoint" {
  description = "Endpoint whose invocations, model latency and errors are drawn; null while no endpoint is deployed (no endpoint widgets)."
  type = object({
    name         = string
    variant_name = string
  })
  default = null
}

variable "api" {
  description = "REST API (API Gateway) whose requests, errors and latency are drawn; null when the stack has none (no API widgets)."
  type = object({
    name  = string
    stage = string
  })
  default = null

  validation {
    condition     = var.api == null || (length(try(var.api.name, "")) > 0 && can(regex("^[A-Za-z0-9_-]{1,128}$", try(var.api.stage, ""))))
    error_message = "api.name must not be empty and api.stage must be 1-128 letters, digits, hyphens or underscores."
  }
}

variable "alarm_names" {
  description = "Every alarm of the stack: the alarm status widget lists them (at most 100, the widget's limit)."
  type        = list(string)

  validation {
    condition     = length(var.alarm_names) >= 1 && length(var.alarm_names) <= 100
    error_message = "alarm_names must name 1-100 alarms (an alarm status widget lists 1-100)."
  }
}
