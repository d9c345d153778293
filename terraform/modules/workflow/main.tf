resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: execution logs hold image keys and scores for debugging; retention is a variable (default 30 days) rather than a mandatory year.
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts log data at rest by default; a customer-managed key is supported through var.logs_kms_key_arn.
  name              = var.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  # checkov:skip=CKV_AWS_285: execution data here is the base64 image at every transition, so logging it is the root's choice (var.include_execution_data, on for the throwaway local stack); execution logging itself is always on, and STANDARD executions keep their input in the execution history.
  name     = var.name
  type     = var.type
  role_arn = var.role_arn
  # The caller passes ARNs derived from names, so the definition is known (and reviewable) at plan time.
  definition = templatefile(var.definition_file, var.definition_variables)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags
}
