# The violating root with every rule kept: the helpers pass it (tests/plan_testing/test_helpers_on_roots.py).
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { Team = "vision", CostCenter = "cc-42" }
  }
}

# A second configuration of the provider: the offline override redirects it too.
provider "aws" {
  alias  = "east"
  region = "us-east-1"
  default_tags {
    tags = { Team = "vision", CostCenter = "cc-42" }
  }
}

resource "aws_s3_bucket" "images" {
  bucket = "compliant-images"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "images" {
  bucket = aws_s3_bucket.images.bucket
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_iam_role" "worker" {
  name = "compliant-worker"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

# ARNs written from names, not read from resources, so the policy is known at plan time and can be checked.
resource "aws_iam_role_policy" "worker" {
  name = "worker"
  role = aws_iam_role.worker.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "ReadImages", Effect = "Allow", Action = ["s3:GetObject"], Resource = "arn:aws:s3:::compliant-images/*" },
      # X-Ray has no resource-level permissions: "*" is the only resource it can be granted on.
      { Sid = "Traces", Effect = "Allow", Action = ["xray:PutTraceSegments"], Resource = "*" },
    ]
  })
}

resource "aws_sns_topic" "alerts" {
  provider = aws.east
  name     = "compliant-alerts"
}
