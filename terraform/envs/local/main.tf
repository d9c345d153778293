locals {
  repo_root = abspath("${path.root}/../../..")
}

module "stack" {
  source = "../../modules/stack"

  name_prefix                 = var.name_prefix
  region                      = var.region
  account_id                  = var.account_id
  lambda_package_dir          = coalesce(var.lambda_package_dir, "${local.repo_root}/build/lambdas")
  state_machine_definition    = coalesce(var.state_machine_definition, "${local.repo_root}/asl/classify_image.asl.json")
  state_machine_type          = var.state_machine_type
  threshold                   = var.threshold
  model_data_url              = var.model_data_url
  model_image_uri             = var.model_image_uri
  model_environment           = var.model_environment
  endpoint_instance_type      = var.endpoint_instance_type
  capture_sampling_percentage = var.capture_sampling_percentage
  capture_expiration_days     = var.capture_expiration_days
  autoscaling                 = var.autoscaling
  alarm_thresholds            = var.alarm_thresholds
  log_retention_days          = var.log_retention_days
  force_destroy               = true
}

# A queue subscribed to the topic, so the demo and the tests can count the notifications published.
resource "aws_sqs_queue" "notifications" {
  name                    = "${var.name_prefix}-notifications"
  sqs_managed_sse_enabled = true
}

data "aws_iam_policy_document" "notifications_queue" {
  statement {
    sid       = "TopicDelivers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.notifications.arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [module.stack.sns_topic_arn]
    }
  }
}

resource "aws_sqs_queue_policy" "notifications" {
  queue_url = aws_sqs_queue.notifications.id
  policy    = data.aws_iam_policy_document.notifications_queue.json
}

resource "aws_sns_topic_subscription" "notifications_queue" {
  topic_arn            = module.stack.sns_topic_arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.notifications.arn
  raw_message_delivery = true

  depends_on = [aws_sqs_queue_policy.notifications]
}
