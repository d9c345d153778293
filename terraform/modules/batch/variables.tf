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
  description = "Region of the state machine, e.g. us-east-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like us-east-1."
  }
}

variable "account_id" {
  description = "12-digit id of the AWS account of the state machine."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "name" {
  description = "Name of the batch state machine (<name_prefix>-classify-batch); its role and log group are named after it."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 letters, digits, hyphens or underscores (the role is named <name>, at most 64 characters)."
  }
}

variable "classification_definition_file" {
  description = "Path of the classification workflow's ASL (asl/classify_image.asl.json). Each item runs its SerializeImage, ClassifyImage and FilterLowConfidence states as they are there (resource, parameters, timeouts, retries); the batch supplies the function ARNs, the states' order and what ends an item."
  type        = string

  validation {
    condition     = fileexists(var.classification_definition_file)
    error_message = "classification_definition_file must be the path of an existing file (asl/classify_image.asl.json)."
  }
}

variable "function_arns" {
  description = "ARN of each function the classification states invoke, by the key their FunctionName placeholder names ($${<key>_arn}): serialize_image, classify_image, filter_low_confidence."
  type        = map(string)

  validation {
    condition     = alltrue([for key in ["serialize_image", "classify_image", "filter_low_confidence"] : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.function_arns[key]))])
    error_message = "function_arns must give the Lambda function ARN of serialize_image, classify_image and filter_low_confidence."
  }
}

variable "items_per_chunk" {
  description = "Images per child workflow. 1: each image is its own child running SerializeImage, ClassifyImage and FilterLowConfidence (three Lambda calls and one endpoint request per image). More: the chunked variant, whose ItemBatcher hands each child that many images, classified by function_arns.classify_chunk in one Lambda call and one endpoint request (the serving code's batch content type, which the built-in algorithm does not answer)."
  type        = number
  default     = 10 # docs/batch-chunked.md: 10 per chunk 162-198 images/s, 25 per chunk 147-166, one per child 41-44
  nullable    = false

  validation {
    # A chunk's images go to the endpoint in one request: InvokeEndpoint takes at most 6 MB, about 30 images of
    # the 150 KiB the workflow accepts once base64-encoded.
    condition     = var.items_per_chunk >= 1 && var.items_per_chunk <= 25 && floor(var.items_per_chunk) == var.items_per_chunk
    error_message = "items_per_chunk must be a whole number from 1 to 25."
  }

  validation {
    condition     = var.items_per_chunk == 1 || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$", var.function_arns["classify_chunk"]))
    error_message = "items_per_chunk above 1 needs the classify_chunk function's ARN in function_arns."
  }
}

variable "chunk_timeout_seconds" {
  description = "TimeoutSeconds of the chunked variant's task state: the classify_chunk function's own timeout."
  type        = number
  nullable    = false

  validation {
    condition     = var.chunk_timeout_seconds >= 1 && var.chunk_timeout_seconds <= 900 && floor(var.chunk_timeout_seconds) == var.chunk_timeout_seconds
    error_message = "chunk_timeout_seconds must be a whole number of seconds from 1 to 900 (Lambda's limit)."
  }
}

variable "data_bucket_name" {
  description = "Bucket whose objects the batch lists and classifies, and where it writes its results."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "data_bucket_name must be a valid S3 bucket name."
  }
}

variable "input_prefix" {
  description = "Key prefix (no trailing slash) the batch may list: an execution's input prefix must lie under it. SerializeImage may read only there, so a wider listing would only produce failed items."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.input_prefix))
    error_message = "input_prefix must be a key prefix without leading or trailing slash, e.g. data."
  }
}

variable "results_prefix" {
  description = "Key prefix (no trailing slash) the Map's ResultWriter writes under: <results_prefix>/<map run id>/manifest.json and its result files."
  type        = string
  default     = "batch-results"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.results_prefix))
    error_message = "results_prefix must be a key prefix without leading or trailing slash, e.g. batch-results."
  }
}

variable "max_items" {
  description = "ReaderConfig.MaxItems: the most objects one batch classifies; `scones batch` refuses a larger prefix before starting."
  type        = number
  default     = 10000

  validation {
    # Step Functions' limit for MaxItems ("ItemReader (Map)", ReaderConfig).
    condition     = var.max_items >= 1 && var.max_items <= 100000000 && floor(var.max_items) == var.max_items
    error_message = "max_items must be a whole number from 1 to 100000000."
  }
}

variable "max_concurrency" {
  description = "MaxConcurrency of the Map: child workflows running at once, i.e. the most requests the batch keeps in flight on the endpoint."
  type        = number

  validation {
    # A Distributed Map runs at most 10,000 child workflows in parallel ("Map state in Distributed mode").
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 10000 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number from 1 to 10000."
  }
}

variable "tolerated_failure_percentage" {
  description = "ToleratedFailurePercentage of the Map: the batch fails (States.ExceedToleratedFailureThreshold) once more than this percentage of its items failed. Low-confidence and out-of-distribution images are results, not failures."
  type        = number
  default     = 10

  validation {
    condition     = var.tolerated_failure_percentage >= 0 && var.tolerated_failure_percentage <= 100
    error_message = "tolerated_failure_percentage must be from 0 to 100."
  }
}

variable "logging_policy_json" {
  description = "A policy document with the statements every state machine's role needs (execution log delivery, X-Ray traces): the iam module's state_machine_logging_policy_json."
  type        = string
  nullable    = false
}

variable "kms_key_arns" {
  description = "Customer-managed KMS keys of the data bucket (zero or one), which the ResultWriter's writes encrypt with."
  type        = list(string)
  default     = []
}

variable "log_level" {
  description = "Execution log level: ALL, ERROR or FATAL."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be ALL, ERROR or FATAL."
  }
}

variable "include_execution_data" {
  description = "Log execution data (object keys and scores; the child workflows' base64 images are not logged by the parent)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the execution log group, in days (a value CloudWatch Logs accepts)."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "tags" {
  description = "Tags for every resource of this module."
  type        = map(string)
  default     = {}
}
