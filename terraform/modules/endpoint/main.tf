locals {
  enabled      = var.model_data_url != null || var.model_package_arn != null
  from_package = var.model_package_arn != null
  # A new artifact, image or registry version gets a new model name, so create_before_destroy can swap it in.
  # The artifact's form of the hash is the one deployed stacks have (no rename, no replacement on upgrade).
  model_suffix = substr(sha1(local.from_package ? jsonencode([var.model_package_arn]) : jsonencode([var.model_data_url, var.model_image_uri, var.model_environment])), 0, 8)
}

resource "aws_sagemaker_model" "this" {
  count = local.enabled ? 1 : 0

  name               = "${var.endpoint_name}-${local.model_suffix}"
  execution_role_arn = var.execution_role_arn
  # Inference needs no network: SageMaker fetches the artifact; the container only answers requests.
  enable_network_isolation = true
  tags                     = var.tags

  # From a registry version, the container is the version's own (image, artifact, environment): CreateModel
  # takes ModelPackageName instead of Image ("ContainerDefinition",
  # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html), and a version
  # must be Approved to be deployed ("ModelApprovalStatus ... must be set to Approved to deploy the model",
  # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html).
  primary_container {
    image              = var.model_image_uri
    model_data_url     = var.model_data_url
    model_package_name = var.model_package_arn
    environment        = local.from_package ? {} : var.model_environment
  }

  lifecycle {
    create_before_destroy = true

    precondition {
      condition     = local.from_package || var.model_image_uri != null
      error_message = "model_image_uri is required when model_data_url is set (`scones tfvars` writes both)."
    }

    precondition {
      condition     = !local.from_package || (var.model_data_url == null && var.model_image_uri == null)
      error_message = "model_package_arn excludes model_data_url and model_image_uri: the registry version brings its own artifact and image (`scones tfvars --model-package-arn` sets it and nulls the other two)."
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

  # Applies to the next UpdateEndpoint (a new model or configuration): SageMaker brings up the new fleet, shifts
  # traffic to it in steps, bakes wait_interval_seconds after each and rolls everything back to the old fleet
  # when a rollback alarm is in ALARM meanwhile ("Deployment guardrails",
  # https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html).
  deployment_config {
    blue_green_update_policy {
      maximum_execution_timeout_in_seconds = var.deployment.maximum_execution_timeout_seconds
      termination_wait_in_seconds          = var.deployment.termination_wait_seconds

      traffic_routing_configuration {
        type                     = var.deployment.traffic_routing
        wait_interval_in_seconds = var.deployment.wait_interval_seconds

        dynamic "canary_size" {
          for_each = var.deployment.traffic_routing == "CANARY" ? [var.deployment.step] : []
          content {
            type  = canary_size.value.type
            value = canary_size.value.value
          }
        }

        dynamic "linear_step_size" {
          for_each = var.deployment.traffic_routing == "LINEAR" ? [var.deployment.step] : []
          content {
            type  = linear_step_size.value.type
            value = linear_step_size.value.value
          }
        }
      }
    }

    dynamic "auto_rollback_configuration" {
      for_each = length(var.rollback_alarm_names) > 0 ? [var.rollback_alarm_names] : []
      content {
        dynamic "alarms" {
          for_each = toset(auto_rollback_configuration.value)
          content {
            alarm_name = alarms.value
          }
        }
      }
    }
  }

  depends_on = [aws_cloudwatch_log_group.this]

  lifecycle {
    # A step is a share of the variant's instances, which start at min_capacity: "CanarySize ... must be less than
    # or equal to 50% of the variant's total instance count", "LinearStepSize ... must be 10-50%" (TrafficRoutingConfig,
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html). One instance has
    # no half: canary and linear need min_capacity >= 2; with one, use ALL_AT_ONCE and the rollback alarms.
    precondition {
      condition     = var.deployment.traffic_routing == "ALL_AT_ONCE" || var.autoscaling.min_capacity >= 2
      error_message = "deployment.traffic_routing ${var.deployment.traffic_routing} needs autoscaling.min_capacity >= 2 (a step is at most half of the variant's instances); with one instance use ALL_AT_ONCE."
    }

    precondition {
      condition = try(var.deployment.step.type, null) != "INSTANCE_COUNT" ? true : (
        var.deployment.step.value * 2 <= var.autoscaling.min_capacity
        && (var.deployment.traffic_routing != "LINEAR" || var.deployment.step.value * 10 >= var.autoscaling.min_capacity)
      )
      error_message = "An INSTANCE_COUNT step must be at most half of autoscaling.min_capacity (${var.autoscaling.min_capacity}), and a linear one at least a tenth of it."
    }
  }
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
