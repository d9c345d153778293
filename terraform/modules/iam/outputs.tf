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

output "state_machine_logging_policy_json" {
  description = "The statements every state machine's role needs whatever it runs (execution log delivery, X-Ray traces), as a policy document for source_policy_documents."
  value       = data.aws_iam_policy_document.state_machine_logging.json
}
