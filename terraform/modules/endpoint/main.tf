locals {
  enabled = var.model_data_url != null
  # A new artifact or image gets a new model name, so create_before_destroy can swap it in.
  model_suffix = substr(sha1(jsonencode([var.model_data_url, var.model_image_uri, var.model_environment])), 0, 8)
}

resource "aws_sagemaker_model" "this" {
  count = local.enabled ? 1 : 0

  name               = "${var.endpoint_name}-${local.model_suffix}"
  execution_role_arn = var.execution_role_arn
  # Inference needs no network: SageMaker fetches the artifact; the container only answers requests.
  enable_network_isolation = true
  tags                     = var.tags

  primary_container {
    image          = var.model_image_uri
    model_data_url = var.model_data_url
    environment    = var.model_environment
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = var.model_image_uri != null
      error_message = "model_image_uri is required when model_data_url is set (`scones tfvars` writes both)."
    }
  }
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  # checkov:skip=CKV_AWS_98: SageMaker encrypts the instances' storage volumes with an AWS-managed key by default; a customer-managed key is supported through var.kms_key_arn.
  count = local.enabled ? 1 : 0

  name_prefix = "${var.endpoint_name}-"
  kms_key_arn = var.kms_key_arn
  tags        = var.tags

  production_variants {
    variant_name           = var.variant_name
    model_name             = aws_sagemaker_model.this[0].name
    instance_type          = var.instance_type
    initial_instance_count = var.autoscaling.min_capacity
    initial_variant_weight = 1
  }

  data_capture_config {
    enable_capture              = true
    initial_sampling_percentage = var.data_capture.sampling_percentage
    destination_s3_uri          = var.data_capture.destination_s3_uri
    kms_key_id                  = var.data_capture.kms_key_arn

    capture_options {
      capture_mode = "Input"
    }
    capture_options {
      capture_mode = "Output"
    }

    # Answers of these types are captured as JSON text, anything else base64. ClassifyImage's full answer
    # (application/vnd.scones.prediction+json) cannot be listed: the API's pattern for these types allows no
    # "+" and is matched against the whole value (API_CaptureContentTypeHeader; the provider only checks the
    # start), so adding it would fail CreateEndpointConfig, and changing this list replaces the config. The
    # full answers are captured base64 under their media type, which `scones monitor` decodes.
    capture_content_type_header {
      json_content_types = ["application/json"]
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}

# The group SageMaker writes the endpoint's container logs to, created before the endpoint so retention
# applies from the first line (SageMaker would otherwise create it itself, with infinite retention).
resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: endpoint logs hold model-server diagnostics for debugging; retention is a variable (default 30 days) rather than a mandatory year.
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts log data at rest by default; a customer-managed key is supported through var.logs_kms_key_arn.
  count = local.enabled ? 1 : 0

  name              = "/aws/sagemaker/Endpoints/${var.endpoint_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_sagemaker_endpoint" "this" {
  count = local.enabled ? 1 : 0

  name                 = var.endpoint_name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this[0].name
  tags                 = var.tags

  depends_on = [aws_cloudwatch_log_group.this]
}

resource "aws_appautoscaling_target" "this" {
  count = local.enabled ? 1 : 0

  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this[0].name}/variant/${var.variant_name}"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = var.autoscaling.min_capacity
  max_capacity       = var.autoscaling.max_capacity

  # SageMaker refuses an UpdateEndpoint that changes the instance type of a variant registered as a
  # scalable target: deregister, update, register again ("Update endpoints that use auto scaling",
  # https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html). Replacing the target
  # when the instance type changes gives that order in one apply: the target depends on the endpoint,
  # so Terraform destroys it before it updates the endpoint and creates it again after.
  lifecycle {
    replace_triggered_by = [aws_sagemaker_endpoint_configuration.this[0].production_variants[0].instance_type]
  }
}

resource "aws_appautoscaling_policy" "this" {
  count = local.enabled ? 1 : 0

  name               = "${var.endpoint_name}-invocations-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[0].service_namespace
  resource_id        = aws_appautoscaling_target.this[0].resource_id
  scalable_dimension = aws_appautoscaling_target.this[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling.target_invocations_per_instance
    scale_in_cooldown  = var.autoscaling.scale_in_cooldown
    scale_out_cooldown = var.autoscaling.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }

  # Deregistering the target deletes its policies (API_DeregisterScalableTarget): the policy goes and
  # comes back with it.
  lifecycle {
    replace_triggered_by = [aws_appautoscaling_target.this[0]]
  }
}
