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

variable "batch_max_items" {
  description = "The most objects one batch classifies (the stack's batch_max_items); the end-to-end test lowers it to see a prefix refused."
  type        = number
  default     = 10000
}
