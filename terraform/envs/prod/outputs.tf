output "stack" {
  description = "Every output of the stack: bucket names, topic, state machine, endpoint, function and role ARNs, alarms, region (see terraform/modules/stack/README.md)."
  value       = module.stack
}

output "dashboard_url" {
  description = "The stack's CloudWatch dashboard in the console."
  value       = module.stack.dashboard_url
}

output "api_invoke_url" {
  description = "Invoke URL of the classification API; POST <api_invoke_url>/classify (`scones classify`)."
  value       = module.stack.api_invoke_url
}
