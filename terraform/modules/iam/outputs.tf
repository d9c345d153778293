output "lambda_role_arns" {
  description = "Role ARN per Lambda function key (serialize_image, classify_image, filter_low_confidence)."
  value       = { for key, role in aws_iam_role.lambda : key => role.arn }
}

output "state_machine_role_arn" {
  description = "Role ARN of the state machine."
  value       = aws_iam_role.state_machine.arn
}

output "sagemaker_role_arn" {
  description = "SageMaker execution role ARN (training jobs and the endpoint)."
  value       = aws_iam_role.sagemaker.arn
}

output "endpoint_arn" {
  description = "ARN classify_image is allowed to invoke."
  value       = local.endpoint_arn
}

output "function_arns" {
  description = "Derived ARNs of the three Lambda functions."
  value       = local.function_arns
}
