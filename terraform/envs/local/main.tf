locals {
  repo_root   = abspath("${path.root}/../../..")
  name_prefix = "scones-local"
}

# This environment's choices, as literals; only what differs between checkouts is a variable.
module "stack" {
  source = "../../modules/stack"

  name_prefix              = local.name_prefix
  region                   = var.region
  account_id               = var.account_id
  lambda_package_dir       = "${local.repo_root}/build/lambdas"
  state_machine_definition = "${local.repo_root}/asl/classify_image.asl.json"
  state_machine_type       = var.state_machine_type
  threshold                = var.threshold
  model_data_url           = var.model_data_url
  model_image_uri          = var.model_image_uri
  capture_expiration_days  = 7
  log_retention_days       = 7
  force_destroy            = true

  # The demo's images are public CIFAR-100 and the emulator is throwaway: every transition, with its data.
  execution_log = { level = "ALL", include_execution_data = true }
}

# A queue subscribed to the topic, so the demo and the tests can count the notifications published.
resource "aws_sqs_queue" "notifications" {
  name                    = "${local.name_prefix}-notifications"
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
