locals {
  arn_prefix   = "arn:${var.partition}"
  log_group    = "/aws/apigateway/${var.name}/${var.stage_name}"
  route        = "classify"
  method       = "POST"
  principals   = length(var.allowed_principals) > 0 ? var.allowed_principals : [var.account_id]
  invoke_arn   = "${local.arn_prefix}:apigateway:${var.region}:lambda:path/2015-03-31/functions/${var.function.arn}/invocations"
  express_arn  = "${local.arn_prefix}:states:${var.region}:${var.account_id}:stateMachine:${var.state_machine.name}"
  api_metric_d = { ApiName = var.name, Stage = var.stage_name }
  # Derived from the account variable rather than read from the provider's execution_arn, which is built from
  # the provider's own account ID (empty where a root skips requesting it, as the emulator's does).
  execution_arn = "${local.arn_prefix}:execute-api:${var.region}:${var.account_id}:${aws_api_gateway_rest_api.this.id}"
}

# The API runs the classification workflow's own ASL as an EXPRESS machine: the same file and placeholder
# values as the STANDARD workflow (terraform/modules/workflow), so a change to the workflow reaches the API too.
# StartSyncExecution exists for Express workflows only, and an Express execution is billed by duration.
module "express" {
  source = "../workflow"

  name                   = var.state_machine.name
  type                   = "EXPRESS"
  definition_file        = var.state_machine.definition_file
  definition_variables   = var.state_machine.definition_variables
  role_arn               = var.state_machine.role_arn
  log_group_name         = "/aws/vendedlogs/states/${var.state_machine.name}"
  log_level              = var.state_machine.log_level
  include_execution_data = var.state_machine.include_execution_data
  log_retention_days     = var.log_retention_days
  tags                   = var.tags
}

resource "aws_api_gateway_rest_api" "this" {
  name           = var.name
  description    = "Classifies a vehicle image synchronously (POST /${local.route}, SigV4 + API key)."
  api_key_source = "HEADER"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# Only the listed accounts/roles may invoke, and only this API. With AWS_IAM authorization a caller of another
# account also needs an identity policy that allows execute-api:Invoke; one of this account needs either
# ("How API Gateway resource policies affect authorization workflow",
# https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html).
data "aws_iam_policy_document" "resource" {
  statement {
    sid       = "InvokeByListedPrincipals"
    actions   = ["execute-api:Invoke"]
    resources = ["${local.execution_arn}/*"]
    principals {
      type        = "AWS"
      identifiers = local.principals
    }
  }
}

resource "aws_api_gateway_rest_api_policy" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  policy      = data.aws_iam_policy_document.resource.json
}

resource "aws_api_gateway_resource" "classify" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = local.route
}

# Either the image's bytes or an S3 location (docs/contracts.md "Classification API"). A body that does not
# match is answered 400 by API Gateway before the function runs.
resource "aws_api_gateway_model" "request" {
  rest_api_id  = aws_api_gateway_rest_api.this.id
  name         = "ClassifyRequest"
  content_type = "application/json"
  schema = jsonencode({
    "$schema" = "http://json-schema.org/draft-04/schema#"
    title     = "ClassifyRequest"
    type      = "object"
    oneOf = [
      {
        required             = ["image"]
        additionalProperties = false
        properties           = { image = { type = "string", minLength = 1, maxLength = var.max_image_base64_chars, pattern = "^[A-Za-z0-9+/]+={0,2}$" } }
      },
      {
        required             = ["s3_uri"]
        additionalProperties = false
        properties           = { s3_uri = { type = "string", pattern = "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$" } }
      },
    ]
  })
}

resource "aws_api_gateway_request_validator" "body" {
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  name                        = "body"
  validate_request_body       = true
  validate_request_parameters = false
}

resource "aws_api_gateway_method" "classify" {
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.classify.id
  http_method          = local.method
  authorization        = "AWS_IAM"
  api_key_required     = true
  request_validator_id = aws_api_gateway_request_validator.body.id
  request_models       = { "application/json" = aws_api_gateway_model.request.name }
}

resource "aws_api_gateway_integration" "classify" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.classify.id
  http_method             = aws_api_gateway_method.classify.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = local.invoke_arn
}

# API Gateway may invoke the function for this method of this API only.
resource "aws_lambda_permission" "api" {
  statement_id  = "AllowApiGatewayClassify"
  action        = "lambda:InvokeFunction"
  function_name = var.function.name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${local.execution_arn}/*/${local.method}/${local.route}"
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id

  # A new deployment whenever what the API serves changes.
  triggers = {
    # The settings themselves, not the resource objects: a refresh fills optional attributes in (empty lists and
    # maps for nulls), which would change a hash of the objects and redeploy at every plan.
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.classify.id,
      aws_api_gateway_method.classify.id,
      aws_api_gateway_method.classify.authorization,
      aws_api_gateway_method.classify.api_key_required,
      aws_api_gateway_method.classify.request_models,
      aws_api_gateway_method.classify.request_validator_id,
      aws_api_gateway_integration.classify.id,
      aws_api_gateway_integration.classify.type,
      aws_api_gateway_integration.classify.uri,
      aws_api_gateway_model.request.schema,
      aws_api_gateway_request_validator.body.validate_request_body,
      data.aws_iam_policy_document.resource.json,
    ]))
  }

  # A resource policy takes effect when the API is deployed.
  depends_on = [aws_api_gateway_rest_api_policy.this]

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  # checkov:skip=CKV_AWS_338: access logs hold request IDs, callers and statuses for debugging; retention is the stack's log_retention_days rather than a mandatory year.
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts log data at rest by default; access logs carry no image data.
  name              = local.log_group
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

# Access logs (and execution logs) need the region's API Gateway account setting to name a role API Gateway
# may write CloudWatch Logs with; it is one setting per account and region ("Set up CloudWatch logging for REST
# APIs in API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html), so
# the module sets it only when asked (var.manage_account_cloudwatch_role).
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name               = "${var.name}-apigateway-cloudwatch"
  description        = "Lets API Gateway write access and execution logs in this account and region."
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
  tags               = var.tags
}

# What the managed AmazonAPIGatewayPushToCloudWatchLogs grants, on this account's and region's log groups only
# rather than "*" (the setting serves every API of the region, so not only this API's group).
data "aws_iam_policy_document" "cloudwatch" {
  statement {
    sid = "WriteApiGatewayLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
    ]
    resources = ["${local.arn_prefix}:logs:${var.region}:${var.account_id}:log-group:*"]
  }

  statement {
    sid = "ListLogGroups"
    # DescribeLogGroups has no resource-level permissions: "*" is its only resource.
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "cloudwatch" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  name   = "push-to-cloudwatch-logs"
  role   = aws_iam_role.cloudwatch[0].id
  policy = data.aws_iam_policy_document.cloudwatch.json
}

resource "aws_api_gateway_account" "this" {
  count = var.manage_account_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.cloudwatch[0].arn
  depends_on          = [aws_iam_role_policy.cloudwatch]
}

resource "aws_api_gateway_stage" "this" {
  # checkov:skip=CKV_AWS_120: responses are per image and per caller; a cache would serve one caller's verdict to another's identical body and is billed per hour.
  # checkov:skip=CKV2_AWS_51: callers authenticate with SigV4 and an API key; the integration is a Lambda proxy, not an HTTP backend that would check a client certificate.
  # checkov:skip=CKV2_AWS_4: execution logging (logging_level) is off: access logs record every request, and execution logs would hold request bodies (images).
  # checkov:skip=CKV2_AWS_29: WAF is an account decision (a web ACL costs per month); SigV4, the resource policy and usage-plan throttles bound who can call and how often.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  deployment_id        = aws_api_gateway_deployment.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = var.xray_tracing

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      caller         = "$context.identity.caller"
      userArn        = "$context.identity.userArn"
      apiKeyId       = "$context.identity.apiKeyId"
      sourceIp       = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      httpMethod     = "$context.httpMethod"
      resourcePath   = "$context.resourcePath"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latency        = "$context.responseLatency"
      errorMessage   = "$context.error.message"
    })
  }

  tags       = var.tags
  depends_on = [aws_api_gateway_account.this]
}

# The stage-wide throttle is the global cap; the usage plans below cap each team.
resource "aws_api_gateway_method_settings" "all" {
  # checkov:skip=CKV_AWS_225: no cache: responses are per image and per caller (see the stage), so a cache could serve one caller's verdict to another.
  # checkov:skip=CKV_AWS_308: caching is off on this stage (see the stage), so there is no cache to encrypt.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    throttling_rate_limit  = var.stage_throttle.rate_limit
    throttling_burst_limit = var.stage_throttle.burst_limit
  }
}

resource "aws_api_gateway_usage_plan" "team" {
  for_each = var.consumers

  name        = "${var.name}-${each.key}"
  description = "Team ${each.key}: its own throttle and daily quota on ${var.name}."

  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }

  throttle_settings {
    rate_limit  = each.value.rate_limit
    burst_limit = each.value.burst_limit
  }

  quota_settings {
    limit  = each.value.quota_per_day
    period = "DAY"
  }

  tags = var.tags
}

resource "aws_api_gateway_api_key" "team" {
  for_each = var.consumers

  name        = "${var.name}-${each.key}"
  description = "API key of team ${each.key}."
  enabled     = true
  tags        = var.tags
}

resource "aws_api_gateway_usage_plan_key" "team" {
  for_each = var.consumers

  key_id        = aws_api_gateway_api_key.team[each.key].id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.team[each.key].id
}

# The Average of 4XXError/5XXError is the share of requests that ended so ("Amazon API Gateway dimensions and
# metrics", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html).
resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = {
    "4xx-rate"    = { metric = "4XXError", statistic = "Average", threshold = var.alarm_thresholds.client_error_rate, what = "share of requests answered 4xx (bad input, denied, throttled)" }
    "5xx-rate"    = { metric = "5XXError", statistic = "Average", threshold = var.alarm_thresholds.server_error_rate, what = "share of requests answered 5xx (workflow or endpoint failures)" }
    "latency-p95" = { metric = "Latency", statistic = null, threshold = var.alarm_thresholds.latency_p95_ms, what = "p95 latency (ms)" }
  }

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = "${var.name} ${var.stage_name}: ${each.value.what} above ${each.value.threshold}."
  namespace           = "AWS/ApiGateway"
  metric_name         = each.value.metric
  dimensions          = local.api_metric_d
  statistic           = each.value.statistic
  extended_statistic  = each.value.statistic == null ? "p95" : null
  period              = var.alarm_thresholds.period_seconds
  evaluation_periods  = var.alarm_thresholds.evaluation_periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}
