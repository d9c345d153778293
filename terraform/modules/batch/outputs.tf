output "state_machine_arn" {
  description = "ARN of the batch state machine; start it with {\"prefix\": \"<input_prefix>/...\"}."
  # Derived, so it is known (and reviewable) at plan time; the e2e test starts the applied machine by it.
  value = local.state_machine_arn
}

output "role_arn" {
  description = "ARN of the batch state machine's role."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "Execution log group of the batch state machine."
  value       = aws_cloudwatch_log_group.this.name
}

output "max_items" {
  description = "The most objects one batch classifies (ReaderConfig.MaxItems)."
  value       = var.max_items
}

output "input_prefix" {
  description = "Key prefix every batch's input prefix must lie under."
  value       = var.input_prefix
}

output "results_prefix" {
  description = "Key prefix the batch's results are written under."
  value       = var.results_prefix
}

output "items_per_chunk" {
  description = "Images per child workflow: 1, the per-item design; more, the chunked variant (classify_chunk)."
  value       = var.items_per_chunk
}
