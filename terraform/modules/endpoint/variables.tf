variable "endpoint_name" {
  description = "Name of the endpoint (deterministic, so the classify Lambda and its IAM policy can name it before it exists)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "model_data_url" {
  description = "S3 URI of the trained model.tar.gz. null (no model trained yet) creates no model, endpoint config, endpoint or autoscaling."
  type        = string
  default     = null

  validation {
    condition     = var.model_data_url == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+\\.tar\\.gz$", var.model_data_url))
    error_message = "model_data_url must be an s3://bucket/key.tar.gz URI or null."
  }
}

variable "model_image_uri" {
  description = "Inference container image URI (ECR); required when model_data_url is set."
  type        = string
  default     = null

  validation {
    condition     = var.model_image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})$", var.model_image_uri))
    error_message = "model_image_uri must be an ECR image URI: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>."
  }
}

variable "model_package_arn" {
  description = "Versioned model package ARN (a model registry version) to create the model from, instead of model_data_url/model_image_uri (which must then be null); its container's environment applies and model_environment is not used."
  type        = string
  default     = null

  validation {
    condition     = var.model_package_arn == null || can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[a-z0-9](-*[a-z0-9]){0,62}/[0-9]+$", var.model_package_arn))
    error_message = "model_package_arn must be a versioned model package ARN: arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>."
  }
}

variable "model_environment" {
  description = "Environment of the inference container (e.g. SAGEMAKER_PROGRAM for framework images)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for key, value in var.model_environment : can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", key)) && length(value) <= 1024])
    error_message = "model_environment keys must be environment variable names ([A-Za-z_][A-Za-z0-9_]*) and every key and value at most 1024 characters."
  }
}

variable "execution_role_arn" {
  description = "SageMaker execution role (from the iam module)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "variant_name" {
  description = "Name of the production variant."
  type        = string
  default     = "AllTraffic"

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.variant_name))
    error_message = "variant_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "instance_type" {
  description = "Instance type of the endpoint."
  type        = string
  default     = "ml.m5.large"

  validation {
    condition     = can(regex("^ml\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a SageMaker instance type such as ml.m5.large."
  }
}

variable "data_capture" {
  description = "Data capture of requests and responses into the capture bucket."
  type = object({
    destination_s3_uri  = string
    sampling_percentage = optional(number, 100)
    kms_key_arn         = optional(string)
  })

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.data_capture.destination_s3_uri))
    error_message = "data_capture.destination_s3_uri must be an s3:// URI."
  }

  validation {
    condition     = var.data_capture.sampling_percentage >= 0 && var.data_capture.sampling_percentage <= 100 && floor(var.data_capture.sampling_percentage) == var.data_capture.sampling_percentage
    error_message = "data_capture.sampling_percentage must be a whole number from 0 to 100."
  }

  validation {
    condition     = var.data_capture.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.data_capture.kms_key_arn))
    error_message = "data_capture.kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "autoscaling" {
  description = "Target-tracking autoscaling of the variant on SageMakerVariantInvocationsPerInstance."
  type = object({
    min_capacity                    = optional(number, 1)
    max_capacity                    = optional(number, 2)
    target_invocations_per_instance = optional(number, 100)
    scale_in_cooldown               = optional(number, 300)
    scale_out_cooldown              = optional(number, 60)
  })
  default = {}

  validation {
    condition     = var.autoscaling.min_capacity >= 1 && var.autoscaling.min_capacity <= var.autoscaling.max_capacity
    error_message = "autoscaling needs 1 <= min_capacity <= max_capacity."
  }

  validation {
    condition     = var.autoscaling.target_invocations_per_instance > 0 && var.autoscaling.scale_in_cooldown >= 0 && var.autoscaling.scale_out_cooldown >= 0
    error_message = "autoscaling.target_invocations_per_instance must be positive and cooldowns non-negative."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN for the endpoint instances' storage volumes; null uses SageMaker's AWS-managed key."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "log_retention_days" {
  description = "Retention of the endpoint's log group /aws/sagemaker/Endpoints/<endpoint_name>, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "logs_kms_key_arn" {
  description = "KMS key ARN for the endpoint's log group; null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.logs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}

# SageMaker deployment guardrails, blue/green ("Blue/Green Deployments",
# https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html). The ranges are the API's:
# TrafficRoutingConfig (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html),
# CapacitySize (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CapacitySize.html) and
# BlueGreenUpdatePolicy (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_BlueGreenUpdatePolicy.html).
# The rules that also need the instance count (a canary or linear step is at most half of the variant's instances)
# are preconditions on the endpoint: a validation block can only read its own variable in Terraform < 1.9.
variable "deployment" {
  description = "How an update of the endpoint (a new model or configuration) shifts traffic from the old fleet to the new one: SageMaker's blue/green update policy, rolled back when a rollback alarm fires during a baking period."
  type = object({
    traffic_routing                   = optional(string, "ALL_AT_ONCE")
    step                              = optional(object({ type = string, value = number }))
    wait_interval_seconds             = optional(number, 300)
    maximum_execution_timeout_seconds = optional(number, 1800)
    termination_wait_seconds          = optional(number, 0)
  })
  default = {}

  validation {
    condition     = contains(["ALL_AT_ONCE", "CANARY", "LINEAR"], var.deployment.traffic_routing)
    error_message = "deployment.traffic_routing must be ALL_AT_ONCE, CANARY or LINEAR."
  }

  validation {
    condition     = (var.deployment.traffic_routing == "ALL_AT_ONCE") == (var.deployment.step == null)
    error_message = "deployment.step (the canary size or the linear step) is required for CANARY and LINEAR and not allowed for ALL_AT_ONCE."
  }

  validation {
    condition = var.deployment.step == null ? true : (
      contains(["INSTANCE_COUNT", "CAPACITY_PERCENT"], var.deployment.step.type)
      && var.deployment.step.value >= 1 && floor(var.deployment.step.value) == var.deployment.step.value
    )
    error_message = "deployment.step needs type INSTANCE_COUNT or CAPACITY_PERCENT and a whole value of at least 1."
  }

  # "CanarySize ... must be less than or equal to 50% of the variant's total instance count"; "LinearStepSize ...
  # must be 10-50% of the variant's total instance count" (TrafficRoutingConfig).
  validation {
    condition = try(var.deployment.step.type, null) != "CAPACITY_PERCENT" ? true : (
      var.deployment.step.value <= 50 && (var.deployment.traffic_routing != "LINEAR" || var.deployment.step.value >= 10)
    )
    error_message = "A CAPACITY_PERCENT step is at most 50 (a canary) or 10 to 50 (a linear step)."
  }

  validation {
    condition     = var.deployment.wait_interval_seconds >= 0 && var.deployment.wait_interval_seconds <= 3600 && floor(var.deployment.wait_interval_seconds) == var.deployment.wait_interval_seconds
    error_message = "deployment.wait_interval_seconds must be whole seconds from 0 to 3600."
  }

  validation {
    condition     = var.deployment.maximum_execution_timeout_seconds >= 600 && var.deployment.maximum_execution_timeout_seconds <= 28800 && floor(var.deployment.maximum_execution_timeout_seconds) == var.deployment.maximum_execution_timeout_seconds
    error_message = "deployment.maximum_execution_timeout_seconds must be whole seconds from 600 to 28800."
  }

  validation {
    condition     = var.deployment.termination_wait_seconds >= 0 && var.deployment.termination_wait_seconds <= 3600 && floor(var.deployment.termination_wait_seconds) == var.deployment.termination_wait_seconds
    error_message = "deployment.termination_wait_seconds must be whole seconds from 0 to 3600."
  }

  # "the timeout value should be larger than the total waiting time specified in TerminationWaitInSeconds and
  # WaitIntervalInSeconds" (BlueGreenUpdatePolicy). A canary bakes twice (after the canary, after the rest).
  validation {
    condition = var.deployment.maximum_execution_timeout_seconds > (
      var.deployment.termination_wait_seconds + var.deployment.wait_interval_seconds * (var.deployment.traffic_routing == "CANARY" ? 2 : 1)
    )
    error_message = "deployment.maximum_execution_timeout_seconds must be larger than the baking periods (wait_interval_seconds, twice for a canary) plus termination_wait_seconds."
  }
}

variable "rollback_alarm_names" {
  description = "CloudWatch alarms on the endpoint that roll an update back when one is in ALARM during a baking period (the alarms module's endpoint alarms)."
  type        = list(string)
  default     = []

  # AutoRollbackConfig: "Array Members: Minimum number of 1 item. Maximum number of 10 items."
  # (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AutoRollbackConfig.html); none: no auto-rollback.
  validation {
    condition     = length(var.rollback_alarm_names) <= 10 && alltrue([for name in var.rollback_alarm_names : length(name) >= 1 && length(name) <= 255])
    error_message = "rollback_alarm_names takes at most 10 alarm names of 1-255 characters."
  }
}
