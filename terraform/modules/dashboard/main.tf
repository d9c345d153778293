# The body follows "Dashboard Body Structure and Syntax"
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
# a metric is [namespace, name, dimension name, dimension value, ..., {rendering options}], a math expression
# [{expression, id, label}] over metrics given an id; an alarm status widget lists 1-100 alarm ARNs.
locals {
  w      = var.watched_metrics
  period = local.w.period_seconds
  # The filter's own dimensions, flattened into a metric array's name/value pairs.
  filter_dims = flatten([for k, v in local.w.dimensions : [k, v]])
  machine     = ["StateMachineArn", var.state_machine_arn]

  # Alarm ARNs from their names, so the body is known at plan time (reviewable, and no diff on every plan).
  alarm_arns = [for name in var.alarm_names : "arn:${var.partition}:cloudwatch:${var.region}:${var.account_id}:alarm:${name}"]

  executions = {
    title = "Workflow executions by outcome (count per ${local.period / 60} min)"
    stat  = "Sum"
    metrics = concat(
      [
        concat(["AWS/States", "ExecutionsStarted"], local.machine, [{ label = "Started" }]),
        concat(["AWS/States", "ExecutionsSucceeded"], local.machine, [{ label = "Succeeded" }]),
        concat(["AWS/States", "ExecutionsFailed"], local.machine, [{ id = "failed", label = "Failed (all)" }]),
        concat(["AWS/States", "ExecutionsTimedOut"], local.machine, [{ label = "Timed out" }]),
      ],
      # Rejections end in a Fail state too: drawn apart, and subtracted as the workflow-failures alarm does.
      [for r in local.w.rejection_metrics : concat([local.w.namespace, r.metric], local.filter_dims, [{ id = r.id, label = "Rejected: ${r.metric}" }])],
      [[{ expression = "failed - ${local.w.rejections_sum}", id = "breakage", label = "Failed other than rejections (the workflow-failures alarm)" }]],
    )
  }

  low_confidence = {
    title  = "Low-confidence share (drift signal; alarm above ${format("%.4g", local.w.low_confidence.threshold * 100)}% with at least ${local.w.low_confidence.min_predictions} predictions per ${local.w.low_confidence.period / 60} min)"
    stat   = "Sum"
    period = local.w.low_confidence.period
    # The alarm's own queries (every judging function's counts, hidden) and expressions, drawn as it sees them.
    metrics = concat(
      [for id, q in local.w.low_confidence.queries : [local.w.namespace, q.metric, "FunctionName", q.function, { id = id, visible = false }]],
      [
        [{ expression = local.w.low_confidence.expression, id = "share", label = local.w.low_confidence.label }],
        [{ expression = local.w.low_confidence.predictions, id = "predictions", yAxis = "right", label = "Predictions" }],
      ],
    )
    yAxis       = { left = { min = 0, max = 1, label = "Share" }, right = { min = 0, label = "Predictions" } }
    annotations = { horizontal = [{ value = local.w.low_confidence.threshold, label = "Low-confidence share alarm threshold" }] }
  }

  endpoint_dims = var.endpoint == null ? [] : ["EndpointName", var.endpoint.name, "VariantName", var.endpoint.variant_name]
  # A for over the optional endpoint: a conditional needs both branches of one type, these widgets differ.
  endpoint_widgets = flatten([for endpoint in(var.endpoint == null ? [] : [var.endpoint]) : [
    {
      title = "Endpoint ${var.endpoint.name}: invocations and errors (count per ${local.period / 60} min)"
      stat  = "Sum"
      metrics = [
        concat(["AWS/SageMaker", "Invocations"], local.endpoint_dims, [{ label = "Invocations" }]),
        concat(["AWS/SageMaker", "Invocation4XXErrors"], local.endpoint_dims, [{ label = "4XX errors" }]),
        concat(["AWS/SageMaker", "Invocation5XXErrors"], local.endpoint_dims, [{ label = "5XX errors" }]),
      ]
    },
    {
      # ModelLatency is in microseconds ("Monitor Amazon SageMaker AI with Amazon CloudWatch",
      # https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html).
      title = "Endpoint ${var.endpoint.name}: model latency (microseconds)"
      stat  = "p50"
      metrics = [
        concat(["AWS/SageMaker", "ModelLatency"], local.endpoint_dims, [{ stat = "p50", label = "p50 (µs)" }]),
        concat(["AWS/SageMaker", "ModelLatency"], local.endpoint_dims, [{ stat = "p95", label = "p95 (µs)" }]),
      ]
      yAxis = { left = { min = 0, label = "Microseconds", showUnits = false } }
    },
  ]])

  # One widget per function: a function added to the stack appears without an edit here.
  lambda_widgets = [
    for key in sort(keys(var.functions)) : {
      title = "Lambda ${var.functions[key]}: errors and throttles (count per ${local.period / 60} min)"
      stat  = "Sum"
      metrics = [
        ["AWS/Lambda", "Errors", "FunctionName", var.functions[key], { label = "Errors" }],
        ["AWS/Lambda", "Throttles", "FunctionName", var.functions[key], { label = "Throttles" }],
      ]
    }
  ]

  api_dims = var.api == null ? [] : ["ApiName", var.api.name, "Stage", var.api.stage]
  api_widgets = flatten([for api in(var.api == null ? [] : [var.api]) : [
    {
      title = "API ${var.api.name} (${var.api.stage}): requests and errors (count per ${local.period / 60} min)"
      stat  = "Sum"
      metrics = [
        concat(["AWS/ApiGateway", "Count"], local.api_dims, [{ label = "Requests" }]),
        concat(["AWS/ApiGateway", "4XXError"], local.api_dims, [{ label = "4XX errors" }]),
        concat(["AWS/ApiGateway", "5XXError"], local.api_dims, [{ label = "5XX errors" }]),
      ]
    },
    {
      title   = "API ${var.api.name} (${var.api.stage}): latency (milliseconds)"
      stat    = "p95"
      metrics = [concat(["AWS/ApiGateway", "Latency"], local.api_dims, [{ stat = "p50", label = "p50 (ms)" }]), concat(["AWS/ApiGateway", "Latency"], local.api_dims, [{ stat = "p95", label = "p95 (ms)" }])]
    },
  ]])

  graphs = concat([local.executions, local.low_confidence], local.endpoint_widgets, local.lambda_widgets, local.api_widgets)

  alarm_rows = ceil(length(local.alarm_arns) / 4) + 1
  widgets = concat(
    [{
      type       = "alarm", x = 0, y = 0, width = 24, height = local.alarm_rows
      properties = { title = "Every alarm of the stack", alarms = local.alarm_arns, sortBy = "stateUpdatedTimestamp" }
    }],
    [
      for index, graph in local.graphs : {
        type       = "metric"
        x          = (index % 2) * 12
        y          = local.alarm_rows + floor(index / 2) * 6
        width      = 12
        height     = 6
        properties = merge({ view = "timeSeries", region = var.region, period = local.period }, graph)
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
