output "lambda_role_arns" {
  description = "Role ARN per Lambda function key, once each role's policy is in place."
  value       = { for key, role in aws_iam_role.lambda : key => role.arn }
  # What is built from these roles waits for their policies: a function's first invocation may need them, and
  # Lambda refuses an SQS event source mapping whose function's role may not poll the queue yet ("The provided
  # execution role does not have permissions to call ReceiveMessage on SQS"; the events module's ingest mapping).
  depends_on = [aws_iam_role_policy.lambda]
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
