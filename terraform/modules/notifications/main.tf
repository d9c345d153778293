resource "aws_sns_topic" "this" {
  # checkov:skip=CKV_AWS_26: CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed alias/aws/sns key, and messages carry only S3 keys and scores, no personal data; a customer-managed key is supported through var.kms_master_key_id.
  name              = var.topic_name
  kms_master_key_id = var.kms_master_key_id
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "this" {
  for_each = { for s in var.subscriptions : "${s.protocol}:${s.endpoint}" => s }

  topic_arn = aws_sns_topic.this.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}
