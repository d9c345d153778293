output "endpoint_name" {
  description = "The classifier endpoint the team's applications call."
  value       = module.stack.endpoint_name
}

output "sns_topic_arn" {
  description = "Topic the alarms and failed classifications notify (the on-call e-mail subscribes to it)."
  value       = module.stack.sns_topic_arn
}

output "state_machine_arn" {
  description = "The classification workflow."
  value       = module.stack.state_machine_arn
}

output "data_bucket_name" {
  description = "Bucket for training data and model artifacts."
  value       = module.stack.data_bucket_name
}
