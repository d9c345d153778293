# What differs between checkouts of the local environment; its other choices are literals in main.tf.

variable "region" {
  description = "Region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "account_id" {
  description = "Account id the emulator reports (moto's default)."
  type        = string
  default     = "123456789012"
}

variable "emulator_url" {
  description = "URL of the local AWS emulator (`scones local up`)."
  type        = string
  default     = "http://127.0.0.1:4588"

  validation {
    condition     = can(regex("^https?://(127\\.0\\.0\\.1|localhost|\\[::1\\]):[0-9]+/?$", var.emulator_url))
    error_message = "emulator_url must be a loopback URL such as http://127.0.0.1:4588 (this root never talks to real AWS)."
  }
}

variable "threshold" {
  description = "Confidence threshold of filter_low_confidence, in (0, 1] (the end-to-end test sets it from the trained model); null keeps the stack's default, 0.93."
  type        = number
  default     = null
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

variable "model_package_arn" {
  description = "A version of this environment's model registry for the endpoint to serve (written by `scones tfvars --model-package-arn`, which nulls model_data_url and model_image_uri); null: the endpoint serves model_data_url."
  type        = string
  default     = null

  validation {
    condition     = var.model_package_arn == null || can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[a-z0-9](-*[a-z0-9]){0,62}/[0-9]+$", var.model_package_arn))
    error_message = "model_package_arn must be a versioned model package ARN: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."
  }
}

variable "model_serving" {
  description = "What serves a registry version (model_package_arn): \"scones\" (the project's serving code) or \"image-classification\" (the built-in algorithm). Ignored with model_image_uri, whose image says it."
  type        = string
  default     = "scones"

  validation {
    condition     = contains(["scones", "image-classification"], var.model_serving)
    error_message = "model_serving must be \"scones\" or \"image-classification\"."
  }
}

variable "state_machine_type" {
  description = "Workflow type of the state machine: STANDARD (the default; executions are described and polled) or EXPRESS (run with StartSyncExecution; the end-to-end test of that type sets it)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.state_machine_type)
    error_message = "state_machine_type must be STANDARD or EXPRESS."
  }
}

variable "endpoint_autoscaling" {
  description = "Endpoint autoscaling, passed to the stack as `autoscaling` (terraform/modules/endpoint lists the fields); {}: one instance. A canary needs min_capacity >= 2."
  type        = any
  default     = {}
}

variable "endpoint_deployment" {
  description = "How an endpoint update shifts traffic, passed to the stack (terraform/modules/endpoint lists the fields and rules). The default: one emulated instance allows no canary (a step is at most half of the instances), so all at once, the endpoint's alarms checked as the new model takes the traffic, and no baking period, so an apply that deploys a model waits for nothing. The release end-to-end test sets a canary on two instances, its bakes played on the emulator's test clock (docs/emulator.md)."
  type        = any
  default     = { traffic_routing = "ALL_AT_ONCE", wait_interval_seconds = 0, maximum_execution_timeout_seconds = 600 }
}

variable "ingestion_enabled" {
  description = "Whether image uploads under incoming/ of the data bucket start the workflow (the stack's ingestion). Off: the demo uploads nothing there and the queues cost the first apply about 50 s (docs/emulator.md \"Apply speed\")."
  type        = bool
  default     = false
  nullable    = false
}

variable "batch_max_items" {
  description = "The most objects one batch classifies (the stack's batch_max_items); the end-to-end test lowers it to see a prefix refused."
  type        = number
  default     = 10000
}

variable "batch_items_per_chunk" {
  description = "Images per child workflow of the batch (the stack's batch_items_per_chunk; null: the batch module's default, the chunked variant); the end-to-end test sets 1 to compare the per-item design."
  type        = number
  default     = null
}
