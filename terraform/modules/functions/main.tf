################################################################################
# Image repository
#
# One image holds every handler; each function picks its handler with image_config.command.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

resource "aws_ecr_repository" "this" {
  name                 = "${var.name_prefix}-lambda"
  image_tag_mutability = "MUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }
}

# Functions run an image by digest, so old images are only needed to roll back: keep the newest
# `keep_images`, and drop untagged ones (a re-pushed tag's previous image) after a week.
resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Untagged images older than ${var.untagged_image_expiry_days} days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = var.untagged_image_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Only the newest ${var.keep_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# Lambda pulls the image with its service principal. Granting it here, scoped to this stack's
# functions, keeps Lambda from editing the repository policy behind Terraform's back.
resource "aws_ecr_repository_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy     = data.aws_iam_policy_document.ecr_pull.json
}

data "aws_iam_policy_document" "ecr_pull" {
  statement {
    sid     = "LambdaPullsThisStacksImage"
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    condition {
      test     = "StringLike"
      variable = "aws:sourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${var.name_prefix}-*"]
    }
  }
}

################################################################################
# Functions
################################################################################

locals {
  function_names = setunion(var.http_function_names, ["authorizer", "update-processor", "submit-publisher", "archiver", "restorer", "fan-out"])

  # An archive unit is up to 1,000 outputs (64 MB before compression): more time and memory.
  # A fan-out page changes up to FANOUT_PAGE_JOBS (1,000) jobs: a few seconds, with room to spare.
  default_function_settings = {
    archiver  = { memory_size = 1024, timeout = 120 }
    restorer  = { memory_size = 1024, timeout = 120 }
    "fan-out" = { memory_size = 512, timeout = 60 }
  }

  # By digest when one is given: a new build is a new URI, so every function really redeploys.
  image_uri = (
    var.image_uri != "" ? var.image_uri :
    var.image_digest != "" ? "${aws_ecr_repository.this.repository_url}@${var.image_digest}" :
    "${aws_ecr_repository.this.repository_url}:${var.image_tag}"
  )

  function_settings = {
    for name in local.function_names : name => merge(
      try(local.default_function_settings[name], { memory_size = 512, timeout = 29 }),
      try(var.function_settings[name], {}),
    )
  }
}

# Created before its function, so that Terraform (not Lambda) owns it and its retention.
resource "aws_cloudwatch_log_group" "this" {
  for_each = local.function_names

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "this" {
  for_each = local.function_names

  function_name = "${var.name_prefix}-${each.key}"
  role          = aws_iam_role.this[each.key].arn
  package_type  = "Image"
  image_uri     = local.image_uri
  architectures = var.architectures
  memory_size   = local.function_settings[each.key].memory_size
  timeout       = local.function_settings[each.key].timeout
  # Only the update processor reserves concurrency: a flood of API calls must not starve the
  # single writer of job state. null leaves the others on the account's unreserved pool.
  reserved_concurrent_executions = each.key == "update-processor" ? var.update_processor_reserved_concurrency : null

  image_config {
    command = ["${each.key}.handler"]
  }

  tracing_config {
    mode = "Active"
  }

  environment {
    variables = merge(var.environment, local.own_environment)
  }

  depends_on = [
    aws_cloudwatch_log_group.this,
    aws_iam_role_policy.this,
  ]
}

################################################################################
# Update processor trigger
################################################################################

resource "aws_lambda_event_source_mapping" "update" {
  event_source_arn                   = var.update_queue_arn
  function_name                      = aws_lambda_function.this["update-processor"].arn
  batch_size                         = var.update_batch_size
  maximum_batching_window_in_seconds = var.update_maximum_batching_window_seconds
  # The handler reports failed messages; only those are retried.
  function_response_types = ["ReportBatchItemFailures"]
  enabled                 = var.update_event_source_enabled

  scaling_config {
    maximum_concurrency = var.update_maximum_concurrency
  }
}

# Each pool's job dead-letter queue also feeds the update processor, which ends the jobs there
# as `error` (worker-lost): a job whose workers kept dying must not stay `running` forever.
resource "aws_lambda_event_source_mapping" "job_dead_letters" {
  for_each = var.job_dead_letter_queue_arns

  event_source_arn        = each.value
  function_name           = aws_lambda_function.this["update-processor"].arn
  batch_size              = var.update_batch_size
  function_response_types = ["ReportBatchItemFailures"]
  enabled                 = var.update_event_source_enabled
}

################################################################################
# Submit publisher trigger
#
# The jobs table's stream feeds the submit publisher (core/jobs/submit-outbox.ts). Records are
# retried until they are published (they live 24 h), from the first one the handler reports.
# A DynamoDB-stream mapping ignores `enabled` on the emulator, where it is left out entirely
# (local/runtime/stream-trigger.ts polls the stream there).
################################################################################

resource "aws_lambda_event_source_mapping" "submits" {
  count = var.update_event_source_enabled ? 1 : 0

  event_source_arn                   = var.jobs_stream_arn
  function_name                      = aws_lambda_function.this["submit-publisher"].arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = -1
  function_response_types            = ["ReportBatchItemFailures"]
}

################################################################################
# Result tier triggers
#
# The archive queue feeds the archiver, the restore queue the restorer (docs/result-tiers.md).
# Disabled on the emulator like the update trigger; local/runtime polls those queues there.
################################################################################

resource "aws_lambda_event_source_mapping" "tiers" {
  for_each = { archive = "archiver", restore = "restorer" }

  event_source_arn        = var.tier_queues_ready[each.key]
  function_name           = aws_lambda_function.this[each.value].arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]
  enabled                 = var.update_event_source_enabled
}

################################################################################
# Fan-out queue and trigger
#
# Pages of the starts, stops, kills and deletes too large for one API call
# (core/sessions/fan-out.ts): the session function sends a fan-out's first page, the fan-out
# function runs each page and sends the next. A page that keeps failing stops in the DLQ (the
# fan-out then waits until the client repeats its call). The name, ARN and URL are planned, as in
# modules/messaging, so that the grants and the environment need not wait for the queue.
################################################################################

locals {
  fanout_queue_name = "${var.name_prefix}-fanout"
  fanout_queue_arn  = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${local.fanout_queue_name}"
  fanout_queue_url  = "${var.sqs_endpoint != "" ? trimsuffix(var.sqs_endpoint, "/") : "https://sqs.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"}/${data.aws_caller_identity.current.account_id}/${local.fanout_queue_name}"

  # What this module adds to every function's environment (core/config.ts reads it).
  own_environment = { FANOUT_QUEUE_URL = local.fanout_queue_url }
}

resource "aws_sqs_queue" "fanout_dlq" {
  name                      = "${local.fanout_queue_name}-dlq"
  message_retention_seconds = var.fanout_dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "fanout" {
  name                       = local.fanout_queue_name
  visibility_timeout_seconds = var.fanout_visibility_timeout_seconds
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.fanout_dlq.arn
    maxReceiveCount     = var.fanout_max_receive_count
  })

  lifecycle {
    precondition {
      condition     = var.fanout_visibility_timeout_seconds >= 6 * local.function_settings["fan-out"].timeout
      error_message = "fanout_visibility_timeout_seconds must be at least 6 times the fan-out function's timeout (function_settings), as AWS advises for an SQS event source."
    }
    postcondition {
      condition     = self.arn == local.fanout_queue_arn && self.url == local.fanout_queue_url
      error_message = "SQS returned ARN ${self.arn} and URL ${self.url} for the fan-out queue, not the planned ${local.fanout_queue_arn} and ${local.fanout_queue_url} (modules/functions, locals)."
    }
  }
}

# Disabled on the emulator like the other triggers; local/runtime polls the queue there.
resource "aws_lambda_event_source_mapping" "fanout" {
  event_source_arn        = aws_sqs_queue.fanout.arn
  function_name           = aws_lambda_function.this["fan-out"].arn
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]
  enabled                 = var.update_event_source_enabled
}

# A page that failed fanout_max_receive_count times waits in the DLQ: its session's start, stop,
# kill or delete stopped half-way.
resource "aws_cloudwatch_metric_alarm" "fanout_dead_letter" {
  alarm_name          = "${local.fanout_queue_name}-dlq-not-empty"
  alarm_description   = "Dead-letter queue ${local.fanout_queue_name}-dlq holds fan-out pages that kept failing: a session's start, stop, kill or delete stopped half-way. Read the fan-out function's log, fix the cause, then redrive (README, runbook); repeating the client's call also resumes it."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = "${local.fanout_queue_name}-dlq" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
