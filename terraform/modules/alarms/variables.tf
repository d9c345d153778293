variable "name_prefix" {
  description = "Prefix of every alarm name."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$", var.name_prefix))
    error_message = "name_prefix must be 1-200 letters, digits, hyphens or underscores, starting with a letter or digit."
  }
}

variable "topic_arn" {
  description = "SNS topic every alarm notifies (on ALARM and back to OK)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.topic_arn))
    error_message = "topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)."
  }
}

variable "state_machine_arn" {
  description = "State machine whose failed and timed-out executions are watched."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:states:[a-z0-9-]+:[0-9]{12}:stateMachine:[A-Za-z0-9_-]{1,80}$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)."
  }
}

variable "functions" {
  description = "The Lambda functions whose errors and throttles are watched, by key (the key names the alarms)."
  type = map(object({
    name = string
  }))

  validation {
    condition     = alltrue([for fn in values(var.functions) : can(regex("^[A-Za-z0-9_-]{1,64}$", fn.name))])
    error_message = "Function names must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "confidence_metrics_function_name" {
  description = "The function that emits the LowConfidence, OutOfDistribution and Predictions metrics in the workflow (the confidence filter): the two share alarms watch it (with other_judging_function_names), and the workflow failure alarm and its errors alarm subtract its rejections."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.confidence_metrics_function_name))
    error_message = "confidence_metrics_function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "other_judging_function_names" {
  description = "Functions besides the confidence filter that judge predictions and emit the same LowConfidence, OutOfDistribution and Predictions metrics (the stack: the batch's chunk function). The two share alarms add every judging function's counts up, so predictions made outside the workflow count in the drift signal too; their errors alarms subtract nothing (they do not raise for a rejection)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.other_judging_function_names : can(regex("^[A-Za-z0-9_-]{1,64}$", name))])
    error_message = "other_judging_function_names must each be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "endpoint" {
  description = "Endpoint whose 5XX errors and p95 model latency are watched; null while no endpoint is deployed."
  type = object({
    name         = string
    variant_name = optional(string, "AllTraffic")
  })
  default = null

  validation {
    condition = var.endpoint == null || alltrue([
      for value in [try(var.endpoint.name, ""), try(var.endpoint.variant_name, "")] : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", value))
    ])
    error_message = "endpoint.name and endpoint.variant_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "metrics_namespace" {
  description = "Namespace of the embedded-metric-format metrics the judging functions emit (LowConfidence, OutOfDistribution, Predictions)."
  type        = string
  default     = "SconesUnlimited"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or . _ / # : - characters and must not start with AWS/ (reserved)."
  }
}

variable "thresholds" {
  description = <<-EOT
    Alarm thresholds; an alarm fires when the statistic is above its threshold for evaluation_periods periods.
    execution_failures counts failed executions other than rejections (low confidence, out of distribution),
    which the two share alarms watch instead. low_confidence_share is the share of predictions below the
    filter's threshold over low_confidence_period_seconds, judged only once at least
    low_confidence_min_predictions were made. out_of_distribution_share is the share of images the model's
    guard flagged over out_of_distribution_period_seconds, judged once at least
    out_of_distribution_min_predictions were made; the guard flags a few vehicle photos in a hundred (its
    threshold keeps 99% of held-out ones), so the default 0.2 is several times that: a camera or upload path sending the wrong
    images, not chance.
  EOT
  type = object({
    period_seconds                      = optional(number, 300)
    evaluation_periods                  = optional(number, 1)
    execution_failures                  = optional(number, 0)
    execution_timeouts                  = optional(number, 0)
    lambda_errors                       = optional(number, 0)
    lambda_throttles                    = optional(number, 0)
    endpoint_5xx_errors                 = optional(number, 0)
    model_latency_p95_ms                = optional(number, 500)
    low_confidence_share                = optional(number, 0.3)
    low_confidence_min_predictions      = optional(number, 20)
    low_confidence_period_seconds       = optional(number, 3600)
    out_of_distribution_share           = optional(number, 0.2)
    out_of_distribution_min_predictions = optional(number, 20)
    out_of_distribution_period_seconds  = optional(number, 3600)
  })
  default = {}

  validation {
    condition     = var.thresholds.low_confidence_share > 0 && var.thresholds.low_confidence_share <= 1
    error_message = "thresholds.low_confidence_share must be in (0, 1]."
  }

  # At 1 the alarm could never fire (the share is at most 1 and the comparison is "greater than").
  validation {
    condition     = var.thresholds.out_of_distribution_share > 0 && var.thresholds.out_of_distribution_share < 1
    error_message = "thresholds.out_of_distribution_share must be in (0, 1)."
  }

  validation {
    condition = alltrue([for p in [var.thresholds.period_seconds, var.thresholds.low_confidence_period_seconds, var.thresholds.out_of_distribution_period_seconds] :
    p >= 60 && p % 60 == 0])
    error_message = "Alarm periods must be whole minutes (multiples of 60 seconds)."
  }

  validation {
    condition = alltrue([
      var.thresholds.evaluation_periods >= 1,
      var.thresholds.execution_failures >= 0,
      var.thresholds.execution_timeouts >= 0,
      var.thresholds.lambda_errors >= 0,
      var.thresholds.lambda_throttles >= 0,
      var.thresholds.endpoint_5xx_errors >= 0,
      var.thresholds.model_latency_p95_ms > 0,
      var.thresholds.low_confidence_min_predictions >= 1,
      var.thresholds.out_of_distribution_min_predictions >= 1,
    ])
    error_message = "Counts and latency thresholds must be non-negative (latency positive), evaluation_periods and the min_predictions at least 1."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
