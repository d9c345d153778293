locals {
  arn_prefix = "arn:${var.partition}"
  enabled    = var.ingestion.enabled

  results_bus_name = "${var.name_prefix}-results"
  # Derived from names, so policies and the workflow's definition are known at plan time.
  results_bus_arn = "${local.arn_prefix}:events:${var.region}:${var.account_id}:event-bus/${local.results_bus_name}"
  queue_name      = "${var.name_prefix}-ingest"
  dlq_name        = "${var.name_prefix}-ingest-dlq"
  queue_arn       = "${local.arn_prefix}:sqs:${var.region}:${var.account_id}:${local.queue_name}"
  dlq_arn         = "${local.arn_prefix}:sqs:${var.region}:${var.account_id}:${local.dlq_name}"
  rule_name       = "${var.name_prefix}-ingest"
  # A rule on the default bus: its ARN has no bus name.
  rule_arn = "${local.arn_prefix}:events:${var.region}:${var.account_id}:rule/${local.rule_name}"

  # Each queue's policy: only this rule may send (EventBridge as the service), and nothing without TLS. Written
  # with jsonencode, not a policy document data source, so it is known at plan time (the stack's depends_on on
  # this module would defer a data source to apply).
  queue_policies = {
    for key, arn in { ingest = local.queue_arn, dead_letters = local.dlq_arn } : key => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "RuleSends"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sqs:SendMessage"
          Resource  = arn
          Condition = { ArnEquals = { "aws:SourceArn" = local.rule_arn } }
        },
        {
          Sid       = "DenyInsecureTransport"
          Effect    = "Deny"
          Principal = "*"
          Action    = "sqs:*"
          Resource  = arn
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
      ]
    })
  }

  # S3's Object Created events of the data bucket under the prefix with an image suffix ("Amazon S3 event
  # notifications with EventBridge", https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html).
  # A key must match prefix and suffix at once, which two filters on one field cannot say (the values of a
  # field are alternatives): one wildcard per suffix does ("Wildcard matching in event patterns",
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-wildcard-matching).
  ingest_pattern = {
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.data_bucket_name] }
      object = { key = [for suffix in var.ingestion.suffixes : { wildcard = "${var.ingestion.prefix}*${suffix}" }] }
    }
  }
}

# --- The results bus: always on (it costs nothing until a rule is put on it).

resource "aws_cloudwatch_event_bus" "results" {
  name = local.results_bus_name
  tags = var.tags
}

# The workflow announces its results here, and may put events nowhere else.
resource "aws_iam_role_policy" "announce_results" {
  name = "announce-results"
  role = var.state_machine_role_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "AnnounceResults"
      Effect   = "Allow"
      Action   = ["events:PutEvents"]
      Resource = [local.results_bus_arn]
    }]
  })
}

# --- Ingestion: S3 → default bus → rule → queue → starter → workflow. Off, none of it exists.

resource "aws_s3_bucket_notification" "data" {
  count = local.enabled ? 1 : 0

  bucket      = var.data_bucket_name
  eventbridge = true
}

resource "aws_cloudwatch_event_rule" "ingest" {
  count = local.enabled ? 1 : 0

  name          = local.rule_name
  description   = "Images uploaded under ${var.ingestion.prefix} of ${var.data_bucket_name}: classify them."
  event_pattern = jsonencode(local.ingest_pattern)
  tags          = var.tags
}

# An EventBridge rule cannot name the execution it starts, so the event goes through a queue to the starter,
# which names it after the object version (duplicate deliveries start nothing new). An SQS target needs no
# role: the queue policy lets the rule send. Undeliverable events go to the dead-letter queue too.
resource "aws_cloudwatch_event_target" "ingest" {
  count = local.enabled ? 1 : 0

  rule      = aws_cloudwatch_event_rule.ingest[0].name
  target_id = "ingest-queue"
  arn       = aws_sqs_queue.ingest[0].arn

  dead_letter_config {
    arn = aws_sqs_queue.dead_letters[0].arn
  }
}

# Both queues: encrypted with the stack's key (else SSE-SQS), TLS only, and only this rule may send. EventBridge
# sends to a queue encrypted with a customer-managed key only if the key policy lets events.amazonaws.com use it
# ("Amazon SQS permissions", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions).
resource "aws_sqs_queue" "dead_letters" {
  count = local.enabled ? 1 : 0

  name                      = local.dlq_name
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600 # 14 days, SQS's most: time to look at what failed
  # The policy inline, not an aws_sqs_queue_policy: the provider waits ~25 s for each queue resource to
  # settle (docs/emulator.md, "Apply speed").
  policy = local.queue_policies["dead_letters"]
  tags   = var.tags
}

resource "aws_sqs_queue" "ingest" {
  count = local.enabled ? 1 : 0

  name                    = local.queue_name
  sqs_managed_sse_enabled = var.kms_key_arn == null ? true : null
  kms_master_key_id       = var.kms_key_arn
  # Six times the function's timeout, as Lambda recommends for an SQS event source
  # (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
  visibility_timeout_seconds = 6 * var.starter_timeout_seconds
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters[0].arn
    maxReceiveCount     = var.max_receive_count
  })
  policy = local.queue_policies["ingest"]
  tags   = var.tags
}

resource "aws_lambda_event_source_mapping" "ingest" {
  count = local.enabled ? 1 : 0

  event_source_arn = aws_sqs_queue.ingest[0].arn
  function_name    = var.starter_function_arn
  batch_size       = 10
  # Only the records the starter could not start come back (and, after max_receive_count, go to the DLQ).
  function_response_types = ["ReportBatchItemFailures"]

  lifecycle {
    precondition {
      condition     = var.starter_function_arn != null
      error_message = "ingestion.enabled needs starter_function_arn (the stack's start_classification function)."
    }
  }
}

# Anything on the dead-letter queue is an upload that was never classified: notify, as the stack's alarms do.
resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count = local.enabled ? 1 : 0

  alarm_name          = "${var.name_prefix}-ingest-dead-letters"
  alarm_description   = "Uploads under ${var.ingestion.prefix} whose event could not start the classification workflow (see the ${local.dlq_name} queue)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = local.dlq_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.topic_arn]
  ok_actions          = [var.topic_arn]
  tags                = var.tags

  depends_on = [aws_sqs_queue.dead_letters]
}
