variable "name_prefix" {
  description = "Prefix of every resource name, e.g. scones-dev. Keeps environments apart in one account."
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
  description = "Region of the stack (given, not looked up, so plans work offline)."
  type        = string
}

variable "account_id" {
  description = "12-digit AWS account id (given, not looked up, so plans work offline)."
  type        = string
}

variable "lambda_package_dir" {
  description = "Directory with the three Lambda zips (build/lambdas)."
  type        = string
}

variable "state_machine_definition" {
  description = "Path of the ASL template (asl/classify_image.asl.json)."
  type        = string
}

variable "state_machine_type" {
  description = "STANDARD or EXPRESS."
  type        = string
  default     = "STANDARD"
}

variable "threshold" {
  description = "Confidence threshold of filter_low_confidence, in (0, 1]."
  type        = number
  default     = 0.93
}

variable "data_prefix" {
  description = "Key prefix of the prepared data in the data bucket."
  type        = string
  default     = "data"
}

variable "models_prefix" {
  description = "Key prefix of model artifacts in the data bucket."
  type        = string
  default     = "models"
}

variable "model_data_url" {
  description = "S3 URI of the trained model.tar.gz; null deploys everything except the model and endpoint."
  type        = string
  default     = null
}

variable "model_image_uri" {
  description = "Inference image URI; required with model_data_url."
  type        = string
  default     = null
}

variable "model_environment" {
  description = "Environment of the inference container."
  type        = map(string)
  default     = {}
}

variable "endpoint_instance_type" {
  description = "Instance type of the endpoint (ml.*)."
  type        = string
  default     = "ml.m5.large"
}

variable "capture_sampling_percentage" {
  description = "Percentage (0-100) of endpoint requests captured."
  type        = number
  default     = 100
}

variable "capture_expiration_days" {
  description = "Days captured data is kept."
  type        = number
  default     = 30
}

variable "autoscaling" {
  description = "Endpoint autoscaling (min_capacity, max_capacity, target_invocations_per_instance, cooldowns)."
  type = object({
    min_capacity                    = optional(number, 1)
    max_capacity                    = optional(number, 2)
    target_invocations_per_instance = optional(number, 100)
    scale_in_cooldown               = optional(number, 300)
    scale_out_cooldown              = optional(number, 60)
  })
  default = {}
}

variable "alarm_thresholds" {
  description = "Alarm thresholds; see the alarms module."
  type = object({
    period_seconds                 = optional(number, 300)
    evaluation_periods             = optional(number, 1)
    execution_failures             = optional(number, 0)
    execution_timeouts             = optional(number, 0)
    lambda_errors                  = optional(number, 0)
    lambda_throttles               = optional(number, 0)
    endpoint_5xx_errors            = optional(number, 0)
    model_latency_p95_ms           = optional(number, 500)
    low_confidence_share           = optional(number, 0.3)
    low_confidence_min_predictions = optional(number, 20)
    low_confidence_period_seconds  = optional(number, 3600)
  })
  default = {}
}

variable "notification_subscriptions" {
  description = "Subscribers of the notification topic: list of {protocol (email, sms, https, sqs), endpoint}."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for buckets, topic, capture and endpoint volumes; null uses AWS-managed encryption."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow destroying non-empty buckets (throwaway environments only)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the Lambda, state machine and endpoint log groups, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30
}

variable "extra_image_repository_arns" {
  description = "More ECR repositories the SageMaker role may pull from (e.g. a private training image)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
