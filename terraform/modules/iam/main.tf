locals {
  arn_prefix = "arn:${var.partition}"

  data_bucket_arn    = "${local.arn_prefix}:s3:::${var.data_bucket_name}"
  capture_bucket_arn = "${local.arn_prefix}:s3:::${var.capture_bucket_name}"
  function_arns = [
    for fn in values(var.functions) : "${local.arn_prefix}:lambda:${var.region}:${var.account_id}:function:${fn.name}" if fn.invoked_by_workflow
  ]
  log_group_arn_prefix = "${local.arn_prefix}:logs:${var.region}:${var.account_id}:log-group:"
}

data "aws_iam_policy_document" "assume" {
  for_each = {
    lambda    = "lambda.amazonaws.com"
    states    = "states.amazonaws.com"
    sagemaker = "sagemaker.amazonaws.com"
  }

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value]
    }
    # Step Functions passes the calling account, so only this account's state machines can assume the role.
    dynamic "condition" {
      for_each = each.key == "states" ? [1] : []
      content {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [var.account_id]
      }
    }
  }
}

# --- Lambda roles: each writes only its own log group and traces; what else it may do comes in as data.

data "aws_iam_policy_document" "lambda" {
  for_each = var.functions

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn_prefix}/aws/lambda/${each.value.name}:*"]
  }

  statement {
    sid = "XRayTraces"
    # X-Ray trace ingestion has no resource-level permissions: "*" is the only valid resource.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = each.value.policy_statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role" "lambda" {
  for_each = var.functions

  # Each Lambda's role is named after its function.
  name               = each.value.name
  description        = "Runs the ${each.value.name} Lambda function."
  assume_role_policy = data.aws_iam_policy_document.assume["lambda"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "lambda" {
  for_each = var.functions

  name   = "least-privilege"
  role   = aws_iam_role.lambda[each.key].id
  policy = data.aws_iam_policy_document.lambda[each.key].json
}

# --- State machine role: invoke exactly these functions, publish to this topic, deliver logs, trace.

# What every state machine of the stack needs whatever it runs (the batch's role takes it too, output
# state_machine_logging_policy_json): deliver its execution logs, send traces.
data "aws_iam_policy_document" "state_machine_logging" {
  statement {
    sid = "DeliverExecutionLogs"
    # CloudWatch Logs vended delivery APIs do not support resource-level permissions (AWS Step Functions
    # documentation, "IAM policies for logging to CloudWatch Logs"): "*" is the only valid resource.
    actions = [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ]
    resources = ["*"]
  }

  statement {
    sid = "XRayTraces"
    # X-Ray has no resource-level permissions for these actions: "*" is the only valid resource.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"]
  }
}

# Its own tasks' statements first, then the logging ones: the order the policy has always had.
data "aws_iam_policy_document" "state_machine" {
  source_policy_documents = [data.aws_iam_policy_document.state_machine_tasks.json, data.aws_iam_policy_document.state_machine_logging.json]
}

data "aws_iam_policy_document" "state_machine_tasks" {
  statement {
    sid     = "InvokeWorkflowFunctions"
    actions = ["lambda:InvokeFunction"]
    # The ":*" forms allow invoking a published version or alias of the same functions.
    resources = flatten([for arn in local.function_arns : [arn, "${arn}:*"]])
  }

  statement {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [var.topic_arn]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "EncryptNotifications"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = var.kms_key_arns
    }
  }

}

resource "aws_iam_role" "state_machine" {
  name               = var.role_names.state_machine
  description        = "Runs the image classification state machine."
  assume_role_policy = data.aws_iam_policy_document.assume["states"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "least-privilege"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

# --- SageMaker execution role: training jobs and the endpoint.

data "aws_iam_policy_document" "sagemaker" {
  statement {
    sid       = "ListData"
    actions   = ["s3:ListBucket"]
    resources = [local.data_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = [
        var.data_prefix, "${var.data_prefix}/*",
        var.models_prefix, "${var.models_prefix}/*",
        var.training_code_prefix, "${var.training_code_prefix}/*",
      ]
    }
  }

  statement {
    sid       = "ReadTrainingDataAndArtifacts"
    actions   = ["s3:GetObject"]
    resources = ["${local.data_bucket_arn}/${var.data_prefix}/*", "${local.data_bucket_arn}/${var.models_prefix}/*"]
  }

  statement {
    # Script-mode training (scones train --algorithm pytorch) stages its source code and SageMaker's
    # drivers in one of two places (SageMaker SDK v3 ModelTrainer._resolve_staging_bucket): under this
    # prefix (STAGING_PREFIX in python/scones/training/sagemaker_job.py) when the caller may not run
    # iam:SimulatePrincipalPolicy (and in the emulator, which lacks it); under the job's output path
    # (models/..., read through ReadTrainingDataAndArtifacts) when the simulation says this role may not
    # s3:PutObject anywhere in the bucket, which is what it says on AWS for these grants.
    sid       = "ReadTrainingCode"
    actions   = ["s3:GetObject"]
    resources = ["${local.data_bucket_arn}/${var.training_code_prefix}/*"]
  }

  statement {
    sid       = "WriteArtifacts"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${local.data_bucket_arn}/${var.models_prefix}/*"]
  }

  statement {
    sid       = "WriteCapture"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${local.capture_bucket_arn}/*"]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "UseBucketKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.image_repository_arns) > 0 ? [1] : []
    content {
      sid       = "PullImages"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      resources = var.image_repository_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.image_repository_arns) > 0 ? [1] : []
    content {
      sid = "EcrLogin"
      # ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
  }

  statement {
    sid     = "WriteSageMakerLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "${local.log_group_arn_prefix}/aws/sagemaker/TrainingJobs",
      "${local.log_group_arn_prefix}/aws/sagemaker/TrainingJobs:*",
      "${local.log_group_arn_prefix}/aws/sagemaker/Endpoints/${var.endpoint_name}",
      "${local.log_group_arn_prefix}/aws/sagemaker/Endpoints/${var.endpoint_name}:*",
    ]
  }

  # Deployment guardrails: "Ensure that your IAM execution role has permission to perform the
  # cloudwatch:DescribeAlarms action on the auto-rollback alarms you specify"
  # (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html).
  dynamic "statement" {
    for_each = length(var.rollback_alarm_names) > 0 ? [1] : []
    content {
      sid       = "ReadRollbackAlarms"
      actions   = ["cloudwatch:DescribeAlarms"]
      resources = [for name in var.rollback_alarm_names : "arn:${var.partition}:cloudwatch:${var.region}:${var.account_id}:alarm:${name}"]
    }
  }

  statement {
    sid = "PublishSageMakerMetrics"
    # cloudwatch:PutMetricData has no resource-level permissions; the namespace condition scopes it instead.
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*"]
    }
  }
}

resource "aws_iam_role" "sagemaker" {
  name               = var.role_names.sagemaker
  description        = "SageMaker execution role for training jobs and the inference endpoint."
  assume_role_policy = data.aws_iam_policy_document.assume["sagemaker"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "sagemaker" {
  name   = "least-privilege"
  role   = aws_iam_role.sagemaker.id
  policy = data.aws_iam_policy_document.sagemaker.json
}
