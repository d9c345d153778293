locals {
  p = var.name_prefix

  names = {
    data_bucket    = "${local.p}-data-${var.account_id}-${var.region}"
    capture_bucket = "${local.p}-capture-${var.account_id}-${var.region}"
    topic          = "${local.p}-notifications"
    state_machine  = "${local.p}-classify-image"
    endpoint       = "${local.p}-classifier"
    model_group    = "${local.p}-models"
    results_bus    = "${local.p}-results"
    ingest_queue   = "${local.p}-ingest"
    api            = "${local.p}-api"
    api_workflow   = "${local.p}-classify-api"
  }

  # The inference image's own repository, when it is a private ECR image (AWS-owned images need no grant, but one is harmless).
  image_repo = var.model_image_uri == null ? null : try(regex("^(?P<account>[0-9]{12})\\.dkr\\.ecr\\.(?P<region>[a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/(?P<repo>[^:@]+)", var.model_image_uri), null)
  image_repository_arns = concat(
    var.extra_image_repository_arns,
    local.image_repo == null ? [] : ["arn:${var.partition}:ecr:${local.image_repo.region}:${local.image_repo.account}:repository/${local.image_repo.repo}"],
  )
  # The key in use: the stack's own (create_kms_key), the caller's (kms_key_arn) or none. The list's length
  # is known at plan time even while the created key's ARN is not, so the policies built from it plan.
  kms_key_arns = var.create_kms_key ? aws_kms_key.this[*].arn : (var.kms_key_arn == null ? [] : [var.kms_key_arn])
  kms_key_arn  = var.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  # Derived rather than read from the resources, so IAM policies and the state machine definition are
  # fully known at plan time (reviewable, assertable); the depends_on below keep creation order right.
  topic_arn         = "arn:${var.partition}:sns:${var.region}:${var.account_id}:${local.names.topic}"
  state_machine_arn = "arn:${var.partition}:states:${var.region}:${var.account_id}:stateMachine:${local.names.state_machine}"
  data_bucket_arn   = "arn:${var.partition}:s3:::${local.names.data_bucket}"
  endpoint_arn      = "arn:${var.partition}:sagemaker:${var.region}:${var.account_id}:endpoint/${lower(local.names.endpoint)}"
  results_bus_arn   = "arn:${var.partition}:events:${var.region}:${var.account_id}:event-bus/${local.names.results_bus}"
  ingest_queue_arn  = "arn:${var.partition}:sqs:${var.region}:${var.account_id}:${local.names.ingest_queue}"
  api_workflow_arn  = "arn:${var.partition}:states:${var.region}:${var.account_id}:stateMachine:${local.names.api_workflow}"
  # Where the API's thin function stages request images for SerializeImage to read (deleted after the run).
  api_staging_prefix = "api"
  # What serialize_image may read: the prepared data, and the uploads ingestion classifies.
  image_prefixes = concat([var.data_prefix], var.ingestion.enabled ? [trimsuffix(var.ingestion.prefix, "/")] : [], [local.api_staging_prefix])

  # The Lambda functions, by key: the key is the function's folder under lambdas/ (and its zip in
  # lambda_package_dir), names the function <name_prefix>-<key with hyphens>, and its ARN fills the
  # ASL placeholder $${<key>_arn}. Adding a function is its folder, an entry here and its state in the ASL.
  # policy_statements: what the function's role may do beyond writing its own logs and traces.
  # invoked_by_workflow = false: not a step of the workflow (its role may not invoke it). A field left
  # out takes the lambdas (timeout, memory_size, environment) or iam (policy_statements) module's default.
  functions = {
    serialize_image = {
      timeout     = 15
      memory_size = 256
      policy_statements = concat(
        [{ sid = "ReadImages", actions = ["s3:GetObject"], resources = [for prefix in local.image_prefixes : "${local.data_bucket_arn}/${prefix}/*"] }],
        length(local.kms_key_arns) == 0 ? [] : [{ sid = "DecryptImages", actions = ["kms:Decrypt"], resources = local.kms_key_arns }],
      )
    }
    classify_image = {
      timeout           = 30
      memory_size       = 256
      environment       = { ENDPOINT_NAME = local.names.endpoint, ENDPOINT_ACCEPT = local.endpoint_accept }
      policy_statements = [{ sid = "InvokeEndpoint", actions = ["sagemaker:InvokeEndpoint"], resources = [local.endpoint_arn] }]
    }
    filter_low_confidence = {
      timeout     = 10
      memory_size = 128
      environment = { THRESHOLD = tostring(var.threshold) }
    }
    # Starts the workflow for each upload on the ingest queue (module "events"). Deployed with ingestion off
    # too: a function costs nothing idle and a few seconds of apply, and the stack's shape stays the same.
    start_classification = {
      invoked_by_workflow = false
      timeout             = local.starter_timeout
      memory_size         = 128
      environment         = { STATE_MACHINE_ARN = local.state_machine_arn }
      policy_statements = concat([
        { sid = "StartClassification", actions = ["states:StartExecution"], resources = [local.state_machine_arn] },
        {
          sid       = "ConsumeIngestQueue"
          actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
          resources = [local.ingest_queue_arn]
        },
        ], length(local.kms_key_arns) == 0 ? [] : [
        { sid = "DecryptIngestQueue", actions = ["kms:Decrypt"], resources = local.kms_key_arns },
      ])
    }
    # The batch's chunked variant (module "batch", batch_items_per_chunk > 1): reads, classifies (one endpoint request
    # per chunk, the serving code's batch content type) and judges a chunk of images with the three functions' code.
    # Deployed whichever design the batch runs, as start_classification is: the stack's shape stays the same. It
    # reads only the batch's input prefix.
    classify_chunk = {
      invoked_by_workflow = false
      timeout             = 60 # a chunk's S3 reads, then one endpoint call (lambda_common.endpoint's worst case)
      memory_size         = 512
      environment         = { ENDPOINT_NAME = local.names.endpoint, THRESHOLD = tostring(var.threshold) }
      policy_statements = concat(
        [
          { sid = "ReadBatchImages", actions = ["s3:GetObject"], resources = ["${local.data_bucket_arn}/${var.data_prefix}/*"] },
          { sid = "InvokeEndpoint", actions = ["sagemaker:InvokeEndpoint"], resources = [local.endpoint_arn] },
        ],
        length(local.kms_key_arns) == 0 ? [] : [{ sid = "DecryptImages", actions = ["kms:Decrypt"], resources = local.kms_key_arns }],
      )
    }
    # The API's thin function (module "api"): runs the EXPRESS workflow synchronously and shapes its answer.
    classify_api = {
      invoked_by_workflow = false
      timeout             = 29 # API Gateway's default integration timeout
      memory_size         = 256
      environment = {
        STATE_MACHINE_ARN = local.api_workflow_arn
        STAGING_BUCKET    = local.names.data_bucket
        STAGING_PREFIX    = local.api_staging_prefix
      }
      policy_statements = concat([
        { sid = "RunExpressWorkflow", actions = ["states:StartSyncExecution"], resources = [local.api_workflow_arn] },
        { sid = "StageRequestImages", actions = ["s3:PutObject", "s3:DeleteObject"], resources = ["${local.data_bucket_arn}/${local.api_staging_prefix}/*"] },
        ], length(local.kms_key_arns) == 0 ? [] : [
        { sid = "EncryptRequestImages", actions = ["kms:GenerateDataKey"], resources = local.kms_key_arns },
      ])
    }
  }
  starter_timeout = 30
  # The workflow's judging function: its rejections are subtracted from the failure alarms (the share alarms
  # add classify_chunk's judgements to its own).
  confidence_filter = "filter_low_confidence"

  # What ClassifyImage asks the endpoint for. The project's serving code answers the full answer (probabilities
  # and its out-of-distribution verdict); the built-in image-classification algorithm documents only
  # application/json and application/jsonlines responses ("Image Classification - MXNet", Inference,
  # https://docs.aws.amazon.com/sagemaker/latest/dg/image-classification.html) and has no such score, so it is
  # asked for plain JSON and the filter applies the threshold alone. Its images are recognised as
  # scones.training.images recognises them.
  # A registry version (model_package_arn) carries its image inside the package, which Terraform cannot read:
  # model_serving says what serves it (the project's serving code unless told otherwise).
  serves_builtin_algorithm = var.model_image_uri != null ? can(regex("/image-classification:", var.model_image_uri)) : var.model_serving == "image-classification"
  endpoint_accept          = local.serves_builtin_algorithm ? "application/json" : "application/vnd.scones.prediction+json"

  # The endpoint the alarms watch and the dashboard draws; null while none is deployed.
  watched_endpoint = module.endpoint.enabled ? { name = local.names.endpoint, variant_name = module.endpoint.variant_name } : null

  function_names = { for key, _ in local.functions : key => "${local.p}-${replace(key, "_", "-")}" }
  function_arns  = { for key, name in local.function_names : key => "arn:${var.partition}:lambda:${var.region}:${var.account_id}:function:${name}" }
  # The ASL's placeholder values, for the STANDARD workflow and the API's EXPRESS variant alike.
  workflow_definition_variables = merge(
    { for key, arn in local.function_arns : "${key}_arn" => arn },
    { sns_topic_arn = local.topic_arn, results_bus_arn = local.results_bus_arn },
  )
}

module "storage" {
  source = "../storage"

  partition               = var.partition
  data_bucket_name        = local.names.data_bucket
  capture_bucket_name     = local.names.capture_bucket
  kms_key_arn             = local.kms_key_arn
  force_destroy           = var.force_destroy
  capture_expiration_days = var.capture_expiration_days
  lifecycle_rules         = var.lifecycle_rules
  tags                    = var.tags
}

module "notifications" {
  source = "../notifications"

  topic_name        = local.names.topic
  kms_master_key_id = local.kms_key_arn
  subscriptions     = var.notification_subscriptions
  tags              = var.tags
}

module "iam" {
  source = "../iam"

  partition  = var.partition
  region     = var.region
  account_id = var.account_id
  role_names = {
    sagemaker     = "${local.p}-sagemaker"
    state_machine = "${local.p}-state-machine"
  }
  functions = {
    for key, fn in local.functions : key => {
      name                = local.function_names[key]
      policy_statements   = try(fn.policy_statements, null)
      invoked_by_workflow = try(fn.invoked_by_workflow, null)
    }
  }
  endpoint_name         = local.names.endpoint
  topic_arn             = local.topic_arn
  data_bucket_name      = local.names.data_bucket
  data_prefix           = var.data_prefix
  models_prefix         = var.models_prefix
  capture_bucket_name   = local.names.capture_bucket
  image_repository_arns = local.image_repository_arns
  kms_key_arns          = local.kms_key_arns
  rollback_alarm_names  = module.alarms.endpoint_alarm_names
  tags                  = var.tags
}

module "lambdas" {
  source = "../lambdas"

  functions = {
    for key, fn in local.functions : key => {
      name        = local.function_names[key]
      role_arn    = module.iam.lambda_role_arns[key]
      package     = "${var.lambda_package_dir}/${key}.zip"
      timeout     = try(fn.timeout, null)
      memory_size = try(fn.memory_size, null)
      environment = try(fn.environment, null)
      log_level   = lookup(var.log_levels, key, null)
    }
  }
  package_bucket      = module.storage.data_bucket_name
  package_kms_key_arn = local.kms_key_arn
  log_retention_days  = var.log_retention_days
  tags                = var.tags
}

module "workflow" {
  source = "../workflow"

  name                   = local.names.state_machine
  type                   = var.state_machine_type
  definition_file        = var.state_machine_definition
  definition_variables   = local.workflow_definition_variables
  role_arn               = module.iam.state_machine_role_arn
  log_group_name         = "/aws/vendedlogs/states/${local.names.state_machine}"
  log_level              = var.execution_log.level
  include_execution_data = var.execution_log.include_execution_data
  log_retention_days     = var.log_retention_days
  tags                   = var.tags

  depends_on = [module.lambdas, module.notifications]
}

module "endpoint" {
  source = "../endpoint"

  endpoint_name      = local.names.endpoint
  model_data_url     = var.model_data_url
  model_image_uri    = var.model_image_uri
  model_environment  = var.model_environment
  model_package_arn  = var.model_package_arn
  execution_role_arn = module.iam.sagemaker_role_arn
  instance_type      = var.endpoint_instance_type
  data_capture = {
    # The capture bucket is named, not referenced, so the URI is known at plan time; the dependency keeps order.
    destination_s3_uri  = "s3://${module.storage.capture_bucket_name}/${local.names.endpoint}"
    sampling_percentage = var.capture_sampling_percentage
    kms_key_arn         = local.kms_key_arn
  }
  autoscaling = var.autoscaling
  deployment  = var.endpoint_deployment
  # The alarms name the endpoint, not the reverse: no cycle, and the alarms exist before the endpoint uses them.
  rollback_alarm_names = module.alarms.endpoint_alarm_names
  kms_key_arn          = local.kms_key_arn
  log_retention_days   = var.log_retention_days
  tags                 = var.tags
}

module "registry" {
  source = "../registry"

  partition           = var.partition
  region              = var.region
  account_id          = var.account_id
  group_name          = local.names.model_group
  release_policy_name = "${local.p}-model-registry-release"
  tags                = var.tags
}

module "alarms" {
  source = "../alarms"

  name_prefix = local.p
  topic_arn   = local.topic_arn
  # Derived (like topic_arn), so the alarms' StateMachineArn dimension is reviewable in the plan; an alarm
  # may name a state machine that does not exist yet. tests/terraform checks it equals the applied ARN.
  state_machine_arn                = local.state_machine_arn
  functions                        = { for key, name in local.function_names : key => { name = name } }
  confidence_metrics_function_name = local.function_names[local.confidence_filter]
  # The batch's chunk function judges with the filter's code and publishes the same metrics under its own name.
  other_judging_function_names = [local.function_names["classify_chunk"]]
  endpoint                     = local.watched_endpoint
  thresholds                   = var.alarm_thresholds
  tags                         = var.tags

  depends_on = [module.notifications]
}

# create_kms_key: the stack's own customer-managed key, with the key policy docs/kms.md derives. The roles
# (Lambdas, state machine, SageMaker) use the key with their own credentials, so the key policy only lets
# the account's IAM policies grant it, and the iam module's policies grant each role what it needs on this
# key ("Default key policy", https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
# CloudWatch alarms publish to the encrypted topic as the service, which needs a statement of its own
# ("Amazon SNS topic encryption" in https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
data "aws_iam_policy_document" "kms" {
  count = var.create_kms_key ? 1 : 0

  statement {
    sid       = "EnableIAMPolicies"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${var.partition}:iam::${var.account_id}:root"]
    }
  }

  # EventBridge sends the upload events to the ingest queues, encrypted with this key, as the service
  # ("Amazon SQS permissions", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions).
  dynamic "statement" {
    for_each = var.ingestion.enabled ? [1] : []
    content {
      sid       = "EventBridgeSendsToEncryptedQueues"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [var.account_id]
      }
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    # Only alarms of this account. aws:SourceArn is left out: AWS documents no source ARN on the KMS
    # requests an alarm's SNS action makes, and a condition the request does not carry would silently
    # drop every alarm notification.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  count = var.create_kms_key ? 1 : 0

  description             = "${local.p}: buckets, notification topic, endpoint volumes and data capture"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms[0].json
  tags                    = var.tags

  lifecycle {
    precondition {
      condition     = var.kms_key_arn == null
      error_message = "create_kms_key and kms_key_arn are mutually exclusive: set create_kms_key = true to let the stack create its key, or kms_key_arn to use yours."
    }
  }
}

resource "aws_kms_alias" "this" {
  count = var.create_kms_key ? 1 : 0

  name          = "alias/${local.p}"
  target_key_id = aws_kms_key.this[0].key_id
}

# The results bus the workflow announces on (always), and the upload entry point (var.ingestion).
module "events" {
  source = "../events"

  name_prefix             = local.p
  partition               = var.partition
  region                  = var.region
  account_id              = var.account_id
  state_machine_role_name = regex("[^/]+$", module.iam.state_machine_role_arn)
  ingestion               = var.ingestion
  data_bucket_name        = module.storage.data_bucket_name
  starter_function_arn    = module.lambdas.function_arns["start_classification"]
  starter_timeout_seconds = local.starter_timeout
  kms_key_arn             = local.kms_key_arn
  topic_arn               = local.topic_arn
  tags                    = var.tags

  depends_on = [module.notifications]
}

# Batch entry point: a Distributed Map over a prefix of the data bucket whose items run the workflow's three
# functions (terraform/modules/batch). MaxConcurrency defaults to 20 child workflows per instance the endpoint
# may scale to: a child spends about a tenth of its time waiting on the endpoint, so 20 keeps an instance at
# about two requests in flight.
module "batch" {
  source = "../batch"

  partition                      = var.partition
  region                         = var.region
  account_id                     = var.account_id
  name                           = "${local.p}-classify-batch"
  classification_definition_file = var.state_machine_definition
  function_arns                  = local.function_arns
  data_bucket_name               = local.names.data_bucket
  input_prefix                   = var.data_prefix
  results_prefix                 = var.batch_results_prefix
  max_items                      = var.batch_max_items
  # Unset: the batch module's default (the chunked variant), or one image per child for the built-in algorithm,
  # which does not answer the chunk's batch requests (an explicit chunk size for it is refused: outputs.tf).
  items_per_chunk              = var.batch_items_per_chunk == null && local.serves_builtin_algorithm ? 1 : var.batch_items_per_chunk
  chunk_timeout_seconds        = local.functions.classify_chunk.timeout
  max_concurrency              = coalesce(var.batch_max_concurrency, 20 * try(var.autoscaling.max_capacity, 2))
  tolerated_failure_percentage = var.batch_tolerated_failure_percentage
  kms_key_arns                 = local.kms_key_arns
  logging_policy_json          = module.iam.state_machine_logging_policy_json
  log_level                    = var.execution_log.level == null ? "ERROR" : var.execution_log.level
  include_execution_data       = coalesce(var.execution_log.include_execution_data, false)
  log_retention_days           = var.log_retention_days
  tags                         = var.tags
  # No depends_on: it would defer the role's policy document to apply time; nothing of the batch is used
  # before an execution starts, and creating the state machine needs neither the functions nor the bucket.
}

# One dashboard per stack (terraform/modules/dashboard): the workflow's outcomes, the drift signal against its
# alarm's threshold, the endpoint, every function's errors and throttles, and the state of every alarm.
module "dashboard" {
  source = "../dashboard"

  name              = local.p
  partition         = var.partition
  region            = var.region
  account_id        = var.account_id
  state_machine_arn = local.state_machine_arn
  functions         = local.function_names
  watched_metrics   = module.alarms.watched_metrics
  endpoint          = local.watched_endpoint
  api               = { name = local.names.api, stage = module.api.stage_name }
  alarm_names       = concat(module.alarms.alarm_names, module.events.alarm_names, module.api.alarm_names)
}

# The classification API (terraform/modules/api): a REST API whose POST /classify runs the workflow's EXPRESS
# variant through the thin function classify_api. The Express machine runs with the workflow's own role: it
# invokes exactly the workflow's three functions, publishes to the topic, announces on the results bus and
# delivers its logs, which is what the same ASL needs, and nothing more.
module "api" {
  source = "../api"

  partition  = var.partition
  region     = var.region
  account_id = var.account_id
  name       = local.names.api
  function   = { name = local.function_names["classify_api"], arn = module.lambdas.function_arns["classify_api"] }
  state_machine = {
    name                   = local.names.api_workflow
    definition_file        = var.state_machine_definition
    definition_variables   = local.workflow_definition_variables
    role_arn               = module.iam.state_machine_role_arn
    log_level              = var.execution_log.level
    include_execution_data = var.execution_log.include_execution_data
  }
  stage_name                     = var.api.stage_name
  allowed_principals             = var.api.allowed_principals
  stage_throttle                 = var.api.stage_throttle
  consumers                      = var.api.consumers
  manage_account_cloudwatch_role = var.api.manage_account_cloudwatch_role
  xray_tracing                   = var.api.xray_tracing
  alarm_thresholds               = var.api.alarm_thresholds
  # Derived, as the alarms module's, so each alarm's action is known and reviewable in the plan (a team's
  # plan test checks every alarm notifies its topic: examples/team-root). A module-wide depends_on would defer
  # the API's policy documents to apply time; the alarms need none: a new alarm starts in INSUFFICIENT_DATA,
  # which notifies nobody, and first changes state a period later, when the topic of the same apply exists.
  alarm_topic_arn    = local.topic_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags
}
