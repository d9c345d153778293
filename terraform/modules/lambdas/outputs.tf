output "function_arns" {
  description = "ARN per function key, read back from the functions (for consumers outside the stack; the stack's own policies and definition derive ARNs from names)."
  value       = { for key, fn in aws_lambda_function.this : key => fn.arn }
}

output "function_names" {
  description = "Name per function key."
  value       = { for key, fn in aws_lambda_function.this : key => fn.function_name }
}

output "log_group_names" {
  description = "Log group per function key."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}
