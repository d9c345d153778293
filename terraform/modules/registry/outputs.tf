output "group_name" {
  description = "Name of the model package group."
  value       = aws_sagemaker_model_package_group.this.model_package_group_name
}

output "group_arn" {
  description = "ARN of the model package group."
  value       = aws_sagemaker_model_package_group.this.arn
}

output "versions_arn_prefix" {
  description = "What every version's ARN of this group starts with (arn:…:model-package/<group>/)."
  value       = trimsuffix(local.versions_arn, "*")
}

output "release_policy_arn" {
  description = "ARN of the IAM policy to attach to the release pipeline's role."
  value       = aws_iam_policy.release.arn
}
