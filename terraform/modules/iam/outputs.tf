output "lambda_role_arns" {
  description = "Role ARN per Lambda function key."
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
