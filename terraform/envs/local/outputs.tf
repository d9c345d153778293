# What the demo, the benchmark and the end-to-end test read (python/scones/demo.py, bench.py,
# tests/e2e): the stack's outputs under stable top-level names, and what only this root builds.

output "data_bucket_name" {
  description = "Bucket with training data (prefix data/) and model artifacts (prefix models/)."
  value       = module.stack.data_bucket_name
}

output "capture_bucket_name" {
  description = "Bucket receiving the endpoint's data capture."
  value       = module.stack.capture_bucket_name
}

output "capture_s3_uri" {
  description = "Data-capture destination of the endpoint."
  value       = module.stack.capture_s3_uri
}

output "sns_topic_arn" {
  description = "Notification topic (rejections, failures, alarms)."
  value       = module.stack.sns_topic_arn
}

output "state_machine_arn" {
  description = "The classification workflow."
  value       = module.stack.state_machine_arn
}

output "endpoint_name" {
  description = "Endpoint name (exists once model_data_url is set)."
  value       = module.stack.endpoint_name
}

output "endpoint_deployed" {
  description = "Whether the model and endpoint are part of this configuration."
  value       = module.stack.endpoint_deployed
}

output "lambda_function_arns" {
  description = "Lambda ARN per function key."
  value       = module.stack.lambda_function_arns
}

output "stack" {
  description = "Every output of the stack (see terraform/modules/stack/README.md)."
  value       = module.stack
}

output "emulator_url" {
  description = "Emulator this state was applied to."
  value       = var.emulator_url
}

output "results_bus_name" {
  description = "Event bus of the workflow's result events (`scones watch` tails it)."
  value       = module.stack.results_bus_name
}

output "ingest_prefix" {
  description = "Key prefix whose image uploads are classified as they arrive; null with ingestion off."
  value       = module.stack.ingest_prefix
}

output "dashboard_url" {
  description = "The stack's CloudWatch dashboard in the console."
  value       = module.stack.dashboard_url
}

output "api_url" {
  description = "The emulator's invoke URL of the classification API's stage; POST <api_url>/classify."
  value       = "${var.emulator_url}/restapis/${module.stack.api_rest_api_id}/${module.stack.api_stage_name}/_user_request_"
}

output "api_key" {
  description = "API key of the local team (`scones classify` reads it)."
  value       = data.aws_api_gateway_api_key.local.value
  sensitive   = true
}
