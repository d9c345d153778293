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

# What the dashboard module draws, from the same locals the alarms are built from: a renamed metric or a new
# kind of rejection changes the alarms and the dashboard together.
output "watched_metrics" {
  description = "The metrics the alarms watch beyond the AWS ones, for a dashboard: the confidence filter's namespace and dimensions, its rejection metrics (query id and name) and the expression subtracting them, and the low-confidence share alarm's queries (one per judging function and metric), expressions, threshold, period and minimum predictions."
  value = {
    namespace         = var.metrics_namespace
    dimensions        = { FunctionName = var.confidence_metrics_function_name }
    rejection_metrics = local.rejection_metrics
    rejections_sum    = local.rejections_sum
    period_seconds    = local.t.period_seconds
    low_confidence = {
      queries         = local.share_queries["low-confidence"]
      expression      = local.share_expressions["low-confidence"]
      predictions     = local.share_sums["low-confidence"].predictions
      threshold       = local.share_alarms["low-confidence"].share
      period          = local.share_alarms["low-confidence"].period
      min_predictions = local.share_alarms["low-confidence"].min_predictions
      label           = local.share_alarms["low-confidence"].label
    }
  }
}
