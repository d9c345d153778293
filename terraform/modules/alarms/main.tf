locals {
  t       = var.thresholds
  actions = [var.topic_arn]

  # The filter's embedded metrics that count rejections, one kind each (query id, metric): both alarms that
  # are about breakage subtract them all, in this order.
  rejection_metrics = [
    { id = "rejected", metric = "LowConfidence" },
    { id = "out_of_distribution", metric = "OutOfDistribution" },
  ]
  rejection_queries = { for r in local.rejection_metrics : r.id => r.metric }
  rejections_sum    = join(" - ", [for r in local.rejection_metrics : "FILL(${r.id}, 0)"])

  # The confidence filter raises for every rejection (ThresholdConfidenceNotMetError, the original design's
  # contract, and OutOfDistributionError), and Lambda counts every exception a function raises in AWS/Lambda
  # Errors ("Function errors include exceptions that your code throws",
  # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html). Its errors alarm subtracts its
  # own rejections (LowConfidence + OutOfDistribution: each rejection is 1 in exactly one of them), as the
  # workflow alarm does, so it is about breakage, not rejections.
  lambda_alarms = merge([
    for key, fn in var.functions : {
      "${key}-errors" = {
        function         = fn.name, metric = "Errors", threshold = local.t.lambda_errors
        minus_rejections = fn.name == var.confidence_metrics_function_name
      }
      "${key}-throttles" = {
        function = fn.name, metric = "Throttles", threshold = local.t.lambda_throttles, minus_rejections = false
      }
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "execution_failures" {
  alarm_name          = "${var.name_prefix}-workflow-failures"
  alarm_description   = "Executions of the classification workflow failed for a reason other than a rejection (low confidence or out of distribution): a Lambda error, an endpoint error, bad input."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = local.t.evaluation_periods
  threshold           = local.t.execution_failures
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  # Rejections end in a Fail state too; subtracting them keeps this alarm about breakage, not model doubt.
  metric_query {
    id          = "failures"
    expression  = "failed - ${local.rejections_sum}"
    label       = "Failed executions other than rejections"
    return_data = true
  }

  metric_query {
    id = "failed"
    metric {
      namespace   = "AWS/States"
      metric_name = "ExecutionsFailed"
      period      = local.t.period_seconds
      stat        = "Sum"
      dimensions  = { StateMachineArn = var.state_machine_arn }
    }
  }

  dynamic "metric_query" {
    for_each = local.rejection_queries
    content {
      id = metric_query.key
      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value
        period      = local.t.period_seconds
        stat        = "Sum"
        dimensions  = { FunctionName = var.confidence_metrics_function_name }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "execution_timeouts" {
  alarm_name          = "${var.name_prefix}-workflow-timeouts"
  alarm_description   = "Executions of the classification workflow timed out."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = local.t.period_seconds
  evaluation_periods  = local.t.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.execution_timeouts
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda" {
  for_each = local.lambda_alarms

  alarm_name        = "${var.name_prefix}-${replace(each.key, "_", "-")}"
  alarm_description = each.value.minus_rejections ? "Errors of the ${each.value.function} Lambda function other than its rejections (low confidence, out of distribution)." : "${each.value.metric} of the ${each.value.function} Lambda function."
  # A plain metric, or (minus_rejections) metric math over the same metric and the filter's rejections.
  namespace           = each.value.minus_rejections ? null : "AWS/Lambda"
  metric_name         = each.value.minus_rejections ? null : each.value.metric
  dimensions          = each.value.minus_rejections ? null : { FunctionName = each.value.function }
  statistic           = each.value.minus_rejections ? null : "Sum"
  period              = each.value.minus_rejections ? null : local.t.period_seconds
  evaluation_periods  = local.t.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  dynamic "metric_query" {
    for_each = each.value.minus_rejections ? [1] : []
    content {
      id          = "unexpected"
      expression  = "FILL(errors, 0) - ${local.rejections_sum}"
      label       = "Errors other than rejections"
      return_data = true
    }
  }

  dynamic "metric_query" {
    for_each = each.value.minus_rejections ? [1] : []
    content {
      id = "errors"
      metric {
        namespace   = "AWS/Lambda"
        metric_name = each.value.metric
        period      = local.t.period_seconds
        stat        = "Sum"
        dimensions  = { FunctionName = each.value.function }
      }
    }
  }

  dynamic "metric_query" {
    for_each = each.value.minus_rejections ? local.rejection_queries : {}
    content {
      id = metric_query.key
      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value
        period      = local.t.period_seconds
        stat        = "Sum"
        dimensions  = { FunctionName = var.confidence_metrics_function_name }
      }
    }
  }
}

locals {
  # The two safeguards on what is judged: each metric is 0 or 1 per prediction, and Predictions 1, so the sum of
  # one over the sum of Predictions is the share; judged only once enough predictions were made. Every judging
  # function's counts are added up (the confidence filter's in the workflow, the batch's chunk function's), so
  # a batch of photos from a broken camera shows in the drift signal as the same photos sent one by one would.
  judging_functions = distinct(concat([var.confidence_metrics_function_name], var.other_judging_function_names))
  share_alarms = {
    "low-confidence" = {
      metric          = "LowConfidence"
      query_id        = "low_confidence"
      share           = local.t.low_confidence_share
      period          = local.t.low_confidence_period_seconds
      min_predictions = local.t.low_confidence_min_predictions
      label           = "Share of predictions below the confidence threshold"
      description     = "More than ${format("%.4g", local.t.low_confidence_share * 100)}% of predictions fell below the confidence threshold: the input distribution may have drifted away from what the model was trained on."
    }
    # 0 when the endpoint gave no score (the built-in algorithm): such images are never counted as flagged.
    "out-of-distribution" = {
      metric          = "OutOfDistribution"
      query_id        = "out_of_distribution"
      share           = local.t.out_of_distribution_share
      period          = local.t.out_of_distribution_period_seconds
      min_predictions = local.t.out_of_distribution_min_predictions
      label           = "Share of images flagged as out of distribution"
      description     = "More than ${format("%.4g", local.t.out_of_distribution_share * 100)}% of images were flagged as unlike the training images (not a bicycle or motorcycle photo, a blank or broken-camera frame): a camera or upload path may have gone wrong."
    }
  }
  # Per alarm: one query per judging function and metric (id <query_id>_<n>, predictions_<n>), and the sums.
  share_queries = {
    for key, alarm in local.share_alarms : key => merge([
      for n, fn in local.judging_functions : {
        "${alarm.query_id}_${n}" = { metric = alarm.metric, function = fn }
        "predictions_${n}"       = { metric = "Predictions", function = fn }
      }
    ]...)
  }
  share_sums = {
    for key, alarm in local.share_alarms : key => {
      counted     = join(" + ", [for n, _ in local.judging_functions : "FILL(${alarm.query_id}_${n}, 0)"])
      predictions = join(" + ", [for n, _ in local.judging_functions : "FILL(predictions_${n}, 0)"])
    }
  }
  share_expressions = {
    for key, alarm in local.share_alarms : key =>
    "IF((${local.share_sums[key].predictions}) >= ${alarm.min_predictions}, (${local.share_sums[key].counted}) / (${local.share_sums[key].predictions}), 0)"
  }
}

resource "aws_cloudwatch_metric_alarm" "share" {
  for_each = local.share_alarms

  alarm_name          = "${var.name_prefix}-${each.key}-share"
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = local.t.evaluation_periods
  threshold           = each.value.share
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  # Where fewer predictions than the minimum were made (none included) the share is 0, whatever the division gives.
  metric_query {
    id          = "share"
    expression  = local.share_expressions[each.key]
    label       = each.value.label
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.share_queries[each.key]
    content {
      id = metric_query.key
      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value.metric
        period      = each.value.period
        stat        = "Sum"
        dimensions  = { FunctionName = metric_query.value.function }
      }
    }
  }
}

moved {
  from = aws_cloudwatch_metric_alarm.low_confidence_share
  to   = aws_cloudwatch_metric_alarm.share["low-confidence"]
}

resource "aws_cloudwatch_metric_alarm" "endpoint_5xx" {
  count = var.endpoint == null ? 0 : 1

  alarm_name          = "${var.name_prefix}-endpoint-5xx"
  alarm_description   = "The model container answered with 5XX errors."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = { EndpointName = var.endpoint.name, VariantName = var.endpoint.variant_name }
  statistic           = "Sum"
  period              = local.t.period_seconds
  evaluation_periods  = local.t.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.endpoint_5xx_errors
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "model_latency_p95" {
  count = var.endpoint == null ? 0 : 1

  alarm_name          = "${var.name_prefix}-endpoint-latency-p95"
  alarm_description   = "p95 model latency above ${local.t.model_latency_p95_ms} ms."
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  dimensions          = { EndpointName = var.endpoint.name, VariantName = var.endpoint.variant_name }
  extended_statistic  = "p95"
  period              = local.t.period_seconds
  evaluation_periods  = local.t.evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  # ModelLatency is reported in microseconds.
  threshold          = local.t.model_latency_p95_ms * 1000
  treat_missing_data = "notBreaching"
  alarm_actions      = local.actions
  ok_actions         = local.actions
  tags               = var.tags
}
