locals {
  arn_prefix        = "arn:${var.partition}"
  state_machine_arn = "${local.arn_prefix}:states:${var.region}:${var.account_id}:stateMachine:${var.name}"
  data_bucket_arn   = "${local.arn_prefix}:s3:::${var.data_bucket_name}"

  # Each item runs the classification workflow's three task states as that ASL defines them (resource,
  # parameters, timeouts, retries), read from the file itself rather than copied, so a change to a retry there
  # reaches the batch too. Only what the batch decides differently is replaced: the function ARN (the
  # FunctionName placeholder $${<key>_arn} names the function's key), the order, and the catches. The file is read
  # with file(), not templatefile(), so placeholders of its other states (topics, buses) need no value here.
  classification = jsondecode(file(var.classification_definition_file)).States
  task_order     = ["SerializeImage", "ClassifyImage", "FilterLowConfidence"]
  task_keys = {
    for name in local.task_order : name => regex("^\\$\\{([a-z_]+)_arn\\}$", local.classification[name].Parameters.FunctionName)[0]
  }
  task_states = {
    for index, name in local.task_order : name => merge(
      { for field, value in local.classification[name] : field => value if !contains(["Catch", "Next", "End"], field) },
      { Parameters = merge(local.classification[name].Parameters, { FunctionName = var.function_arns[local.task_keys[name]] }) },
      index + 1 < length(local.task_order) ? { Next = local.task_order[index + 1] } : { Next = "Classified" },
    )
  }

  # What one item's result says (the ResultWriter's Output of a succeeded child): its key, the verdict and the
  # model's answer. A rejection by the filter is a result a person reviews, not a failure of the batch, so it
  # is caught and ends the item successfully; any other error fails the item with its error name (the
  # child's Error), which the tolerated failure percentage counts.
  verdict = { for state, verdict in { Classified = "classified", LowConfidence = "low_confidence", OutOfDistribution = "out_of_distribution" } : state => {
    Type = "Pass"
    Parameters = {
      "s3_key.$"     = "$.body.s3_key"
      "verdict"      = verdict
      "inferences.$" = "$.body.inferences"
      "ood.$"        = "$.body.ood"
    }
    End = true
  } }
  rejections = {
    LowConfidence     = "ThresholdConfidenceNotMetError"
    OutOfDistribution = "OutOfDistributionError"
  }
  item_states = merge(
    local.task_states,
    {
      FilterLowConfidence = merge(local.task_states.FilterLowConfidence, {
        Catch = [for state, error in local.rejections : { ErrorEquals = [error], ResultPath = "$.error", Next = state }]
      })
    },
    local.verdict,
  )

  # The chunked variant (items_per_chunk > 1): the Map's ItemBatcher hands each child a chunk of that many objects,
  # {"Items": [{"s3_key"}, ...], "BatchInput": {"s3_bucket"}} ("ItemBatcher (Map)",
  # https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html), and the child is one task:
  # classify_chunk reads, classifies (one endpoint request for the chunk) and judges each image with the three
  # functions' code, answering a result or an error name per image. Its state takes ClassifyImage's resource and
  # retries (the same Lambda transient errors), its own function and timeout.
  chunked = var.items_per_chunk > 1
  chunk_states = {
    ClassifyChunk = merge(
      { for field, value in local.classification["ClassifyImage"] : field => value if contains(["Type", "Resource", "Retry"], field) },
      {
        Parameters     = { FunctionName = lookup(var.function_arns, "classify_chunk", ""), "Payload.$" = "$" }
        OutputPath     = "$.Payload"
        TimeoutSeconds = var.chunk_timeout_seconds
        End            = true
      },
    )
  }
  # Objects of different shapes cannot be the two results of one conditional; their JSON can.
  item_processor_states = jsondecode(local.chunked ? jsonencode(local.chunk_states) : jsonencode(local.item_states))
  item_selector = jsondecode(local.chunked ? jsonencode({ "s3_key.$" = "$$.Map.Item.Value.Key" }) : jsonencode({
    s3_bucket    = var.data_bucket_name
    "s3_key.$"   = "$$.Map.Item.Value.Key"
    "image_data" = ""
  }))
  item_batcher = {
    for field, value in {
      ItemBatcher = { MaxItemsPerBatch = var.items_per_chunk, BatchInput = { s3_bucket = var.data_bucket_name } }
    } : field => value if local.chunked
  }
  invoked_keys = local.chunked ? ["classify_chunk"] : distinct(values(local.task_keys))

  definition = {
    Comment = "Scones Unlimited: classify every image under an S3 prefix (execution input {\"prefix\": \"data/...\"}) with a Distributed Map whose items run the classification workflow's three functions; per-item results are written under ${var.results_prefix}/."
    StartAt = "ClassifyPrefix"
    States = {
      ClassifyPrefix = merge(local.item_batcher, {
        Type = "Map"
        ItemReader = {
          Resource = "arn:aws:states:::s3:listObjectsV2"
          Parameters = {
            Bucket     = var.data_bucket_name
            "Prefix.$" = "$.prefix"
          }
          ReaderConfig = { MaxItems = var.max_items }
        }
        # Per item: the workflow's event, as the classification state machine receives it; chunked: the key,
        # the bucket coming once per chunk in the ItemBatcher's BatchInput.
        ItemSelector = local.item_selector
        ItemProcessor = {
          # EXPRESS children: an item (or a chunk) is seconds of Lambda calls, within Express's five minutes, and
          # Express bills duration instead of every state transition (README "Batch").
          ProcessorConfig = { Mode = "DISTRIBUTED", ExecutionType = "EXPRESS" }
          StartAt         = local.chunked ? "ClassifyChunk" : local.task_order[0]
          States          = local.item_processor_states
        }
        MaxConcurrency             = var.max_concurrency
        ToleratedFailurePercentage = var.tolerated_failure_percentage
        ResultWriter = {
          Resource   = "arn:aws:states:::s3:putObject"
          Parameters = { Bucket = var.data_bucket_name, Prefix = var.results_prefix }
        }
        End = true
      })
    }
  }
}

resource "aws_cloudwatch_log_group" "this" {
  # checkov:skip=CKV_AWS_338: execution logs hold object keys and error names for debugging; retention is a variable (default 30 days) rather than a mandatory year.
  # checkov:skip=CKV_AWS_158: CloudWatch Logs encrypts log data at rest by default; the batch logs keys and scores, never images.
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  # checkov:skip=CKV_AWS_285: execution data (keys, scores, error names) is logged when the root asks (include_execution_data); execution logging itself is always on.
  name       = var.name
  type       = "STANDARD" # a Distributed Map runs only in a STANDARD parent
  role_arn   = aws_iam_role.this.arn
  definition = jsonencode(local.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.include_execution_data
    level                  = var.log_level
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}

# --- The batch's own role: exactly what a Distributed Map over this bucket needs, per "IAM policies for using
# Distributed Map states" (https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html):
# start its own child workflows and describe/stop them, list the input prefix, write the results prefix;
# and invoke the three functions.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }
  }
}

data "aws_iam_policy_document" "this" {
  # Execution log delivery and traces, as the workflow's role has them (terraform/modules/iam).
  source_policy_documents = [var.logging_policy_json]

  statement {
    sid       = "StartChildWorkflows"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  statement {
    sid     = "ManageChildWorkflows"
    actions = ["states:DescribeExecution", "states:StopExecution"]
    # The child workflows: execution:<machine>/* as the guide writes it, and express:<machine>/*, the ARNs of
    # EXPRESS children (the Service Authorization Reference's "express" resource type, which DescribeExecution
    # also names).
    resources = [
      "${local.arn_prefix}:states:${var.region}:${var.account_id}:execution:${var.name}/*",
      "${local.arn_prefix}:states:${var.region}:${var.account_id}:express:${var.name}/*",
    ]
  }

  statement {
    sid       = "ListInputPrefix"
    actions   = ["s3:ListBucket"]
    resources = [local.data_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.input_prefix}/*"]
    }
  }

  statement {
    sid       = "WriteResults"
    actions   = ["s3:PutObject"]
    resources = ["${local.data_bucket_arn}/${var.results_prefix}/*"]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [1] : []
    content {
      sid       = "EncryptResults"
      actions   = ["kms:GenerateDataKey"]
      resources = var.kms_key_arns
    }
  }

  statement {
    sid     = "InvokeClassificationFunctions"
    actions = ["lambda:InvokeFunction"]
    # The ":*" forms allow invoking a published version or alias of the same functions.
    # The design's functions only: the three, or classify_chunk.
    resources = flatten([for key in local.invoked_keys : [var.function_arns[key], "${var.function_arns[key]}:*"]])
  }

}

resource "aws_iam_role" "this" {
  name               = var.name
  description        = "Runs the batch classification state machine ${var.name}."
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}
