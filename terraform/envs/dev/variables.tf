variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "scones-dev"
}

variable "region" {
  description = "Region of the stack."
  type        = string
}

variable "account_id" {
  description = "12-digit id of the AWS account to deploy to (given so plans need no STS call)."
  type        = string
}

variable "lambda_package_dir" {
  description = "Directory with the Lambda zips; null means build/lambdas of this checkout."
  type        = string
  default     = null
}

variable "state_machine_definition" {
  description = "ASL template path; null means asl/classify_image.asl.json of this checkout."
  type        = string
  default     = null
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

variable "model_data_url" {
  description = "S3 URI of the trained model.tar.gz (written by `scones tfvars` into model.auto.tfvars.json); null: no endpoint yet."
  type        = string
  default     = null
}

variable "model_image_uri" {
  description = "Inference image URI (written by `scones tfvars`)."
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
  description = "Endpoint autoscaling: min_capacity, max_capacity, target_invocations_per_instance, scale_in_cooldown, scale_out_cooldown."
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
  description = "Alarm thresholds (see terraform/modules/alarms/README.md)."
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

variable "log_retention_days" {
  description = "Retention of the Lambda, state machine and endpoint log groups, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30
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
  description = "Customer-managed KMS key for buckets, topic, data capture and endpoint volumes; null uses AWS-managed encryption. Its key policy must allow cloudwatch.amazonaws.com, states.amazonaws.com and sagemaker.amazonaws.com."
  type        = string
  default     = null
}

variable "extra_image_repository_arns" {
  description = "Private ECR repositories the SageMaker role may pull training images from."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource (also applied as provider default tags)."
  type        = map(string)
  default     = {}
}
