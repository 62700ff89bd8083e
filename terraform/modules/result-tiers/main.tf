################################################################################
# Naming
#
# As in modules/messaging: queue names, ARNs and URLs are built at plan time, so that IAM
# grants and the functions' environment need not wait the provider's 25 s per queue.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  queue_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${local.account_id}"
  queue_url_prefix = "${var.sqs_endpoint != "" ? trimsuffix(var.sqs_endpoint, "/") : "https://sqs.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"}/${local.account_id}"

  queue_names = {
    archive = "${var.name_prefix}-archive"
    restore = "${var.name_prefix}-restore"
  }
  queue_arns = { for kind, name in local.queue_names : kind => "${local.queue_arn_prefix}:${name}" }
  queue_urls = { for kind, name in local.queue_names : kind => "${local.queue_url_prefix}/${name}" }
}

################################################################################
# Queues
#
# archive: delayed archive requests (SQS delay up to 900 s, EventBridge Scheduler beyond), sent
#          by the update processor and the archiver itself; consumed by the archiver.
# restore: restore requests (an upgrade, sent by the user function and foqus-admin) and the
#          results bucket's s3:ObjectRestore:Completed notifications; consumed by the restorer.
# Each has a dead-letter queue: a request that keeps failing stops there for an operator.
################################################################################

resource "aws_sqs_queue" "dlq" {
  for_each = local.queue_names

  name                      = "${each.value}-dlq"
  message_retention_seconds = var.dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "this" {
  for_each = local.queue_names

  name                       = each.value
  visibility_timeout_seconds = var.visibility_timeout_seconds
  sqs_managed_sse_enabled    = true
  policy                     = each.key == "restore" ? data.aws_iam_policy_document.restore_queue.json : null

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })

  lifecycle {
    postcondition {
      condition     = self.arn == local.queue_arns[each.key] && self.url == local.queue_urls[each.key]
      error_message = "SQS returned ARN ${self.arn} and URL ${self.url} for the ${each.key} queue, not the planned ${local.queue_arns[each.key]} and ${local.queue_urls[each.key]} (modules/result-tiers, locals)."
    }
  }
}

# Only the results bucket may send to the restore queue without a grant (its restore
# notifications); the functions and the scheduler's role send with their IAM grants.
data "aws_iam_policy_document" "restore_queue" {
  statement {
    sid       = "ResultsBucketRestoreNotifications"
    actions   = ["sqs:SendMessage"]
    resources = [local.queue_arns["restore"]]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [var.results_bucket_arn]
    }
  }
}

################################################################################
# Restore notifications
#
# A restored archive unit (archives/…) is announced to the restore queue; the restorer puts its
# outputs back into the hot store.
################################################################################

resource "aws_s3_bucket_notification" "restores" {
  bucket = var.results_bucket_name

  queue {
    id            = "archive-restore-completed"
    queue_arn     = aws_sqs_queue.this["restore"].arn
    events        = ["s3:ObjectRestore:Completed"]
    filter_prefix = "archives/"
  }
}

################################################################################
# Archive schedules
#
# Grace periods beyond SQS's 900 s delay: one-time schedules in this group, which deliver the
# request to the archive queue with this role and delete themselves once fired.
################################################################################

resource "aws_scheduler_schedule_group" "archive" {
  count = var.scheduler_enabled ? 1 : 0

  name = "${var.name_prefix}-archive"
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name_prefix}-archive-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_trust.json
}

data "aws_iam_policy_document" "scheduler_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "send-archive-requests"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "SendArchiveRequests"
    actions   = ["sqs:SendMessage"]
    resources = [local.queue_arns["archive"]]
  }
}

################################################################################
# Notifications
#
# "Your session finished", with the user's name as message attribute `username`: an email
# subscription with a filter policy on it (foqus-admin email) reaches only that user.
################################################################################

resource "aws_sns_topic" "notifications" {
  name              = "${var.name_prefix}-notifications"
  kms_master_key_id = var.topic_kms_master_key_id
}

################################################################################
# Alarms
#
# An archive or restore request that failed max_receive_count times waits in its DLQ: a free
# user's results stay hot (archive), or an upgraded user's stay archived (restore).
################################################################################

resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  for_each = local.queue_names

  alarm_name          = "${each.value}-dlq-not-empty"
  alarm_description   = "Dead-letter queue ${each.value}-dlq holds ${each.key} requests that kept failing. Read the ${each.key == "archive" ? "archiver" : "restorer"}'s log, fix the cause, then redrive (README, runbook)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = "${each.value}-dlq" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
