output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "stage_name" {
  description = "The API's stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "invoke_url" {
  description = "The stage's invoke URL on AWS; POST <invoke_url>/classify."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "execution_arn" {
  description = "execute-api ARN prefix of the API (for callers' identity policies: <execution_arn>/<stage>/POST/classify)."
  value       = local.execution_arn
}

output "state_machine_arn" {
  description = "ARN of the EXPRESS classification workflow the API runs."
  value       = local.express_arn
}

output "api_key_ids" {
  description = "API key ID per consuming team. The values are secret and not output here: a root that outputs the whole stack would have to mark it all sensitive."
  value       = { for team, key in aws_api_gateway_api_key.team : team => key.id }
}

output "alarm_names" {
  description = "The API's alarms (4xx rate, 5xx rate, p95 latency)."
  value       = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name]
}
