output "data_bucket_name" {
  description = "Bucket with training data (data_prefix) and model artifacts (models_prefix)."
  value       = module.storage.data_bucket_name
}

output "capture_bucket_name" {
  description = "Bucket receiving the endpoint's data capture."
  value       = module.storage.capture_bucket_name
}

output "capture_s3_uri" {
  description = "Data-capture destination of the endpoint."
  value       = "s3://${module.storage.capture_bucket_name}/${local.names.endpoint}"
}

output "data_prefix" {
  description = "Key prefix of the prepared data."
  value       = var.data_prefix
}

output "models_prefix" {
  description = "Key prefix of model artifacts."
  value       = var.models_prefix
}

output "sns_topic_arn" {
  description = "Notification topic."
  value       = module.notifications.topic_arn
}

output "state_machine_arn" {
  description = "The classification workflow."
  value       = module.workflow.state_machine_arn
}

output "endpoint_name" {
  description = "Endpoint name (deterministic; the endpoint exists only once model_data_url is set)."
  value       = module.endpoint.endpoint_name
}

output "endpoint_deployed" {
  description = "Whether this configuration deploys the model and endpoint."
  value       = module.endpoint.enabled
}

# The release's verify stage compares it with DescribeEndpoint's EndpointConfigName: the name is generated from a
# prefix, so only the state knows which configuration the last apply deployed (python/scones/release/verify.py).
output "endpoint_config_name" {
  description = "The endpoint configuration the last apply deployed, or null without an endpoint."
  value       = module.endpoint.endpoint_config_name
}

# model.auto.tfvars.json is not committed (docs/model-record.md): after an apply, these outputs in the
# root's state are the record of which model the endpoint serves.
output "model_data_url" {
  description = "The model artifact the endpoint serves (model_data_url as applied), or null without an endpoint."
  value       = var.model_data_url
}

output "model_image_uri" {
  description = "The inference image the endpoint runs (model_image_uri as applied), or null without an endpoint."
  value       = var.model_image_uri
}

output "model_package_arn" {
  description = "The registry version the endpoint serves (model_package_arn as applied), or null when it serves model_data_url or there is no endpoint."
  value       = var.model_package_arn

  # A version of another group (another environment's registry, another account) is not this stack's record.
  precondition {
    condition     = var.model_package_arn == null || startswith(coalesce(var.model_package_arn, "-"), module.registry.versions_arn_prefix)
    error_message = "model_package_arn ${coalesce(var.model_package_arn, "-")} is not a version of this stack's model registry (${module.registry.versions_arn_prefix}<version>)."
  }
}

output "model_package_group_name" {
  description = "The stack's model registry: the model package group the release pipeline registers versions in."
  value       = module.registry.group_name
}

output "model_registry_release_policy_arn" {
  description = "IAM policy to attach to the release pipeline's role: register, read, list and approve versions of this stack's model registry only."
  value       = module.registry.release_policy_arn
}

output "lambda_function_arns" {
  description = "Lambda ARN per function key."
  value       = module.lambdas.function_arns

  precondition {
    condition     = length(setsubtract(keys(var.log_levels), keys(local.functions))) == 0
    error_message = "log_levels names a function the stack does not have: ${join(", ", setsubtract(keys(var.log_levels), keys(local.functions)))}."
  }
}

output "sagemaker_role_arn" {
  description = "Execution role for training jobs and the endpoint."
  value       = module.iam.sagemaker_role_arn
}

output "alarm_names" {
  description = "CloudWatch alarms notifying the topic."
  value       = module.alarms.alarm_names
}

output "region" {
  description = "Region of the stack."
  value       = var.region
}

output "kms_key_arn" {
  description = "The customer-managed KMS key the stack encrypts with: the one it created (create_kms_key), kms_key_arn, or null."
  value       = local.kms_key_arn
}

output "results_bus_name" {
  description = "Event bus of the workflow's VehicleClassified and VehicleNeedsReview events (docs/contracts.md)."
  value       = module.events.results_bus_name
}

output "ingest_prefix" {
  description = "Key prefix of the data bucket whose image uploads are classified as they arrive; null when ingestion is off."
  value       = module.events.ingest_prefix
}

output "ingest_queue_url" {
  description = "The queue between the upload rule and start_classification; null when ingestion is off."
  value       = module.events.ingest_queue_url
}

output "ingest_dead_letter_queue_url" {
  description = "Uploads whose event could not start the workflow; null when ingestion is off."
  value       = module.events.dead_letter_queue_url
}

output "batch_state_machine_arn" {
  description = "The batch classification state machine (start it with {\"prefix\": \"<data_prefix>/...\"})."
  value       = module.batch.state_machine_arn

  precondition {
    # The chunked variant sends the endpoint the project's batch content type, which the built-in
    # image-classification algorithm does not answer (its response types are application/json and jsonlines).
    condition     = !local.serves_builtin_algorithm || coalesce(var.batch_items_per_chunk, 1) == 1
    error_message = "batch_items_per_chunk above 1 needs the project's serving code: the built-in image-classification algorithm does not answer batch requests. Leave it null (one image per child) for this model."
  }
}

output "batch_max_items" {
  description = "The most objects one batch classifies."
  value       = module.batch.max_items
}

output "batch_items_per_chunk" {
  description = "Images per child workflow of the batch: 1, one image per child (three functions); more, the chunked variant (classify_chunk)."
  value       = module.batch.items_per_chunk
}

output "batch_results_prefix" {
  description = "Key prefix of the data bucket the batches write their results under."
  value       = module.batch.results_prefix
}

output "dashboard_url" {
  description = "The stack's CloudWatch dashboard in the console."
  value       = module.dashboard.dashboard_url
}

output "api_rest_api_id" {
  description = "ID of the classification REST API."
  value       = module.api.rest_api_id
}

output "api_stage_name" {
  description = "Stage of the classification API."
  value       = module.api.stage_name
}

output "api_invoke_url" {
  description = "Invoke URL of the classification API's stage; POST <api_invoke_url>/classify."
  value       = module.api.invoke_url
}

output "api_state_machine_arn" {
  description = "The EXPRESS classification workflow the API runs."
  value       = module.api.state_machine_arn
}

output "api_key_ids" {
  description = "API key ID per consuming team (the values are secret: `aws apigateway get-api-key --api-key ID --include-value`, or the local root's api_key output)."
  value       = module.api.api_key_ids
}
