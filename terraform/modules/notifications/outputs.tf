output "topic_arn" {
  description = "ARN of the SNS topic."
  value       = aws_sns_topic.this.arn
}

output "subscription_arns" {
  description = "Subscription ARNs by \"protocol:endpoint\" (\"pending confirmation\" until an email/SMS owner confirms)."
  value       = { for k, s in aws_sns_topic_subscription.this : k => s.arn }
}
