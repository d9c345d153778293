output "results_bus_name" {
  description = "The event bus the workflow announces VehicleClassified and VehicleNeedsReview on (docs/contracts.md)."
  value       = aws_cloudwatch_event_bus.results.name
}

output "results_bus_arn" {
  description = "ARN of the results bus, derived from its name (known at plan time)."
  value       = local.results_bus_arn
}

output "ingest_queue_arn" {
  description = "ARN of the ingest queue, derived from its name (known at plan time, for the starter's role); it exists only when ingestion is enabled."
  value       = local.queue_arn
}

output "ingest_queue_url" {
  description = "URL of the ingest queue; null when ingestion is disabled."
  value       = local.enabled ? aws_sqs_queue.ingest[0].url : null
}

output "dead_letter_queue_url" {
  description = "URL of the ingest dead-letter queue; null when ingestion is disabled."
  value       = local.enabled ? aws_sqs_queue.dead_letters[0].url : null
}

output "ingest_prefix" {
  description = "Key prefix of the data bucket whose image uploads are classified; null when ingestion is disabled."
  value       = local.enabled ? var.ingestion.prefix : null
}

output "alarm_names" {
  description = "Names of the alarms this module created (the dead-letter queue's, when ingestion is on)."
  value       = aws_cloudwatch_metric_alarm.dead_letters[*].alarm_name
}
