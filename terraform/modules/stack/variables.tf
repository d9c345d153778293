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
  description = "Directory with one zip per function key, <key>.zip (build/lambdas)."
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

variable "execution_log" {
  description = "The state machine's execution logging, passed to the workflow module (its README has the defaults, ERROR without execution data, and why): level ALL, ERROR or FATAL, and include_execution_data, which logs the base64 image at every transition."
  type = object({
    level                  = optional(string)
    include_execution_data = optional(bool)
  })
  default  = {}
  nullable = false
}

variable "threshold" {
  description = "Lowest top-class probability filter_low_confidence accepts (its THRESHOLD), in (0, 1]."
  type        = number
  default     = 0.93
  nullable    = false

  validation {
    condition     = var.threshold > 0 && var.threshold <= 1
    error_message = "threshold must be in (0, 1]."
  }
}

variable "log_levels" {
  description = "LOG_LEVEL per function key (DEBUG, INFO, WARNING or ERROR); a function not named here logs at INFO."
  type        = map(string)
  default     = {}
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

variable "model_package_arn" {
  description = "A version of this stack's model registry (model-package/<name_prefix>-models/<version>) for the endpoint to serve, instead of model_data_url/model_image_uri (which must then be null); null: the endpoint serves model_data_url."
  type        = string
  default     = null
}

variable "model_serving" {
  description = "What serves a registry version (model_package_arn), whose image Terraform cannot read: \"scones\" (the project's serving code; ClassifyImage asks for its full answer) or \"image-classification\" (the built-in algorithm; plain JSON). With model_image_uri, the image says it and this is ignored."
  type        = string
  default     = "scones"

  validation {
    condition     = contains(["scones", "image-classification"], var.model_serving)
    error_message = "model_serving must be \"scones\" or \"image-classification\"."
  }
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

variable "lifecycle_rules" {
  description = "Whether the buckets get their lifecycle rules (passed to the storage module, whose README says which)."
  type        = bool
  default     = true
}

variable "autoscaling" {
  description = "Endpoint autoscaling, passed to the endpoint module (its README lists the fields and defaults)."
  type        = any
  default     = {}
}

variable "endpoint_deployment" {
  description = "How an endpoint update shifts traffic (blue/green: ALL_AT_ONCE, CANARY or LINEAR, baking periods), passed to the endpoint module as `deployment` (its README lists the fields, defaults and rules); the endpoint's alarms roll it back."
  type        = any
  default     = {}
}

variable "alarm_thresholds" {
  description = "Alarm thresholds, passed to the alarms module (its README lists the fields and defaults)."
  type        = any
  default     = {}
}

variable "notification_subscriptions" {
  description = "Subscribers of the notification topic, passed to the notifications module (its README lists the fields)."
  type        = any
  default     = []
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for buckets, topic, capture and endpoint volumes; null uses AWS-managed encryption (or the stack's own key, create_kms_key). Excludes create_kms_key."
  type        = string
  default     = null
}

variable "create_kms_key" {
  description = "Create the stack's own customer-managed KMS key (rotation on, alias alias/<name_prefix>) for what kms_key_arn would encrypt, with a key policy that enables the account's IAM policies and lets CloudWatch alarms publish to the encrypted topic (docs/kms.md). Excludes kms_key_arn."
  type        = bool
  default     = false
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

variable "ingestion" {
  description = "The upload entry point (module events): image uploads under prefix of the data bucket (with one of suffixes) start the classification workflow through EventBridge, an SQS queue and the start_classification function. On by default; the local root turns it off (its queues cost the first apply ~50 s of provider waits, docs/emulator.md \"Apply speed\"). A prefix or suffixes left out takes the events module's default (\"incoming/\"; .jpg, .jpeg, .png)."
  type = object({
    enabled  = optional(bool, true)
    prefix   = optional(string, "incoming/")
    suffixes = optional(list(string), [".jpg", ".jpeg", ".png"])
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.'()/-]{1,200}/$", var.ingestion.prefix)) && !startswith(var.ingestion.prefix, "/")
    error_message = "ingestion.prefix must be 1-200 characters of letters, digits and !_.'()/- (no * or \\), end with \"/\" and not start with it, e.g. \"incoming/\"."
  }
}

variable "batch_max_items" {
  description = "The most objects one batch (`scones batch`) classifies: the batch Map's ReaderConfig.MaxItems; a larger prefix is refused before starting."
  type        = number
  default     = 10000
  nullable    = false

  validation {
    condition     = var.batch_max_items >= 1 && var.batch_max_items <= 100000000 && floor(var.batch_max_items) == var.batch_max_items
    error_message = "batch_max_items must be a whole number from 1 to 100000000."
  }
}

variable "batch_max_concurrency" {
  description = "Child workflows a batch runs at once (the Map's MaxConcurrency); null: 20 per instance of the endpoint's autoscaling max_capacity."
  type        = number
  default     = null

  validation {
    condition     = var.batch_max_concurrency == null || try(var.batch_max_concurrency >= 1 && var.batch_max_concurrency <= 10000 && floor(var.batch_max_concurrency) == var.batch_max_concurrency, false)
    error_message = "batch_max_concurrency must be a whole number from 1 to 10000, or null."
  }
}

variable "batch_items_per_chunk" {
  description = "Images per child workflow of the batch (the batch module's items_per_chunk, validated there): 1, each image runs the workflow's three functions; more, the chunked variant, one classify_chunk call and one endpoint request per chunk. Null: the batch module's default."
  type        = number
  default     = null
}

variable "batch_tolerated_failure_percentage" {
  description = "A batch fails once more than this percentage of its items failed (unreadable objects, non-images); low-confidence and out-of-distribution images are results, not failures."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.batch_tolerated_failure_percentage >= 0 && var.batch_tolerated_failure_percentage <= 100
    error_message = "batch_tolerated_failure_percentage must be from 0 to 100."
  }
}

variable "batch_results_prefix" {
  description = "Key prefix of the data bucket the batches write their results under."
  type        = string
  default     = "batch-results"
  nullable    = false
}

variable "api" {
  description = "The classification API (terraform/modules/api): stage_name, allowed_principals, stage_throttle, consumers (one API key and usage plan per team), manage_account_cloudwatch_role, xray_tracing, alarm_thresholds. A field left out (null) takes the api module's default and is validated there (its README)."
  type = object({
    stage_name         = optional(string)
    allowed_principals = optional(list(string))
    stage_throttle = optional(object({
      rate_limit  = optional(number)
      burst_limit = optional(number)
    }))
    consumers = optional(map(object({
      rate_limit    = number
      burst_limit   = number
      quota_per_day = number
    })))
    manage_account_cloudwatch_role = optional(bool)
    xray_tracing                   = optional(bool)
    alarm_thresholds = optional(object({
      client_error_rate  = optional(number)
      server_error_rate  = optional(number)
      latency_p95_ms     = optional(number)
      period_seconds     = optional(number)
      evaluation_periods = optional(number)
    }))
  })
  default  = {}
  nullable = false
}
