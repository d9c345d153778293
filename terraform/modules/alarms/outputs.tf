output "alarm_names" {
  description = "Names of all alarms this module created."
  value = concat(
    [
      aws_cloudwatch_metric_alarm.execution_failures.alarm_name,
      aws_cloudwatch_metric_alarm.execution_timeouts.alarm_name,
    ],
    [for alarm in aws_cloudwatch_metric_alarm.share : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.lambda : alarm.alarm_name],
    aws_cloudwatch_metric_alarm.endpoint_5xx[*].alarm_name,
    aws_cloudwatch_metric_alarm.model_latency_p95[*].alarm_name,
  )
}

output "endpoint_alarm_names" {
  description = "Names of the endpoint's own alarms (5XX errors, p95 model latency): the ones that roll back an endpoint update."
  value = concat(
    aws_cloudwatch_metric_alarm.endpoint_5xx[*].alarm_name,
    aws_cloudwatch_metric_alarm.model_latency_p95[*].alarm_name,
  )
}
