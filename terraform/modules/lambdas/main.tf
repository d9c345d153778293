locals {
  # Where in package_bucket the zips go: lambda-packages/<function key>.zip.
  package_prefix = "lambda-packages"
}

# Created before the functions so retention applies from the first invocation
# (Lambda would otherwise create the group itself, with infinite retention).
resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: logs hold request ids and S3 keys for debugging; retention is a variable (default 30 days) rather than a mandatory year.
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts log data at rest by default; a customer-managed key is supported through var.logs_kms_key_arn.
  for_each = var.functions

  name              = "/aws/lambda/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

# Each zip goes to the package bucket first and the function deploys from there. With a local `filename`
# the provider creates functions one at a time (it holds a global lock around reading a zip into memory,
# hashicorp/terraform#9364; internal/service/lambda/function.go), 5 s or more each; from S3 they are created
# side by side. The key carries no hash: the function's source_code_hash makes a changed zip an
# UpdateFunctionCode, which reads the object's latest version, uploaded first (the reference below).
resource "aws_s3_object" "package" {
  for_each = var.functions

  bucket      = var.package_bucket
  key         = "${local.package_prefix}/${each.key}.zip"
  source      = each.value.package
  source_hash = filemd5(each.value.package)
  kms_key_id  = var.package_kms_key_arn
  tags        = var.tags
}

resource "aws_lambda_function" "this" {
  # checkov:skip=CKV_AWS_116: the functions are invoked synchronously by Step Functions, which retries and catches failures; a DLQ only applies to asynchronous invocations.
  # checkov:skip=CKV_AWS_117: the functions reach only S3 and SageMaker public endpoints; a VPC would add NAT or endpoint cost without reducing exposure.
  # checkov:skip=CKV_AWS_115: reserved concurrency below the account limit fails on new accounts (minimum 10 unreserved); Step Functions throttling is the effective limit.
  # checkov:skip=CKV_AWS_173: the environment holds only names, thresholds and a log level, no secrets; Lambda encrypts it at rest with an AWS-managed key.
  # checkov:skip=CKV_AWS_272: code signing needs a Signer profile; zips are built reproducibly from this repository and deployed by its pipeline with a source_code_hash.
  for_each = var.functions

  function_name    = each.value.name
  description      = "Scones Unlimited ${each.key}"
  role             = each.value.role_arn
  runtime          = "python3.12"
  handler          = "app.handler"
  s3_bucket        = aws_s3_object.package[each.key].bucket
  s3_key           = aws_s3_object.package[each.key].key
  source_code_hash = filebase64sha256(each.value.package)
  timeout          = each.value.timeout
  memory_size      = each.value.memory_size
  architectures    = ["x86_64"]
  tags             = var.tags

  environment {
    variables = merge(each.value.environment, { LOG_LEVEL = each.value.log_level })
  }

  tracing_config {
    mode = var.tracing_mode
  }

  depends_on = [aws_cloudwatch_log_group.this]
}
