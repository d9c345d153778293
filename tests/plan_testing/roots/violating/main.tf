# A root that breaks every rule the assertion helpers check: tests/plan_testing/test_helpers_on_roots.py.
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
}

variable "capacity" {
  type    = number
  default = 1
  validation {
    condition     = var.capacity >= 1 && var.capacity <= 4
    error_message = "capacity must be between 1 and 4."
  }
}

# No server-side encryption configuration.
resource "aws_s3_bucket" "images" {
  bucket = "violating-images"
}

resource "aws_iam_role" "worker" {
  name = "violating-worker"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

# A wildcard action on every resource, and a misspelled action.
resource "aws_iam_role_policy" "worker" {
  name = "worker"
  role = aws_iam_role.worker.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "Everything", Effect = "Allow", Action = "s3:*", Resource = "*" },
      { Sid = "Typo", Effect = "Allow", Action = "sns:Publsh", Resource = "arn:aws:sns:eu-west-1:111111111111:alerts" },
    ]
  })
}

resource "aws_sns_topic" "alerts" {
  name = "violating-alerts-${var.capacity}"
}
