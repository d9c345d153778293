output "enabled" {
  description = "Whether the model/endpoint exist in this configuration (model_data_url or model_package_arn set)."
  value       = local.enabled
}

output "endpoint_name" {
  description = "Endpoint name (known even before the endpoint exists)."
  value       = var.endpoint_name
}

output "variant_name" {
  description = "Production variant name."
  value       = var.variant_name
}

output "model_name" {
  description = "Name of the deployed SageMaker model, or null."
  value       = one(aws_sagemaker_model.this[*].name)
}

output "endpoint_config_name" {
  description = "Name of the current endpoint configuration, or null."
  value       = one(aws_sagemaker_endpoint_configuration.this[*].name)
}

output "log_group_name" {
  description = "Log group of the endpoint's containers, or null."
  value       = one(aws_cloudwatch_log_group.this[*].name)
}
