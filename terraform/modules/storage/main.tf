locals {
  buckets = {
    data    = var.data_bucket_name
    capture = var.capture_bucket_name
  }
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144: cross-region replication is a business-continuity choice; training data is re-creatable from the public CIFAR-100 archive, models can be retrained, capture data is short-lived.
  # checkov:skip=CKV2_AWS_62: nothing in this system reacts to object events; workflows are started explicitly by `scones invoke`.
  # checkov:skip=CKV_AWS_145: SSE-S3 is the default on purpose (no per-request KMS cost or key policy to manage for public CIFAR images); SSE-KMS is one variable away (var.kms_key_arn).
  # checkov:skip=CKV2_AWS_6: false positive of the graph check with for_each: aws_s3_bucket_public_access_block.this blocks all four settings on every bucket (asserted by tests/terraform).
  # checkov:skip=CKV2_AWS_61: false positive of the graph check with for_each: both buckets have an aws_s3_bucket_lifecycle_configuration below (asserted by tests/terraform).
  # checkov:skip=CKV_AWS_21: false positive with for_each: aws_s3_bucket_versioning.this enables versioning on every bucket (asserted by tests/terraform).
  # checkov:skip=CKV_AWS_18: server access logs need a separate log bucket per account that this stack does not own; object-level audit is CloudTrail data events, configured account-wide.
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.bucket
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  count = var.lifecycle_rules ? 1 : 0

  bucket = aws_s3_bucket.this["data"].bucket

  rule {
    id     = "expire-superseded-versions"
    status = "Enabled"
    filter {
      prefix = ""
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "capture" {
  count = var.lifecycle_rules ? 1 : 0

  bucket = aws_s3_bucket.this["capture"].bucket

  rule {
    id     = "expire-captured-data"
    status = "Enabled"
    filter {
      prefix = ""
    }
    expiration {
      days = var.capture_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# count (var.lifecycle_rules) gave the configurations an index: existing states keep theirs.
moved {
  from = aws_s3_bucket_lifecycle_configuration.data
  to   = aws_s3_bucket_lifecycle_configuration.data[0]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.capture
  to   = aws_s3_bucket_lifecycle_configuration.capture[0]
}

data "aws_iam_policy_document" "tls_only" {
  # Keyed by name, not by the bucket resources, so the document is read (and reviewable) at plan time.
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    # Built from the name (not the computed arn) so the policy is reviewable in the plan.
    resources = [
      "arn:${var.partition}:s3:::${each.value}",
      "arn:${var.partition}:s3:::${each.value}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.this

  bucket = each.value.bucket
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # A policy put before the public access block could be judged public by S3.
  depends_on = [aws_s3_bucket_public_access_block.this]
}
