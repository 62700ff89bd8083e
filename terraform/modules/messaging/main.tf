################################################################################
# Naming
#
# Queue policies are set inline, at creation, so that no delivery ever meets a queue without
# one (AWS drops those silently). The policy names the queue's own ARN, hence built here. A
# separate aws_sqs_queue_policy would also cost 25 s to create and 25 s to destroy on moto.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  queue_arn_prefix  = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  update_queue_name = "${var.name_prefix}-updates"
  job_queue_names   = { for pool in keys(var.worker_pools) : pool => "${var.name_prefix}-jobs-${pool}" }
}

################################################################################
# Topic
#
# Every state change is published once, with message attributes `event`, `username`, `session`,
# `job` and `application`; subscribers choose what they receive with filter policies.
################################################################################

resource "aws_sns_topic" "this" {
  name              = "${var.name_prefix}-updates"
  kms_master_key_id = var.topic_kms_master_key_id
}

################################################################################
# Update queue
#
# All events, consumed by the update processor (the single writer of job state).
################################################################################

resource "aws_sqs_queue" "update_dlq" {
  name                      = "${var.name_prefix}-updates-dlq"
  message_retention_seconds = var.dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "update" {
  name                       = local.update_queue_name
  visibility_timeout_seconds = var.update_queue_visibility_timeout_seconds
  sqs_managed_sse_enabled    = true
  policy                     = data.aws_iam_policy_document.update_queue.json

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.update_dlq.arn
    maxReceiveCount     = var.update_queue_max_receive_count
  })
}

# No aws_sqs_queue_redrive_allow_policy on the DLQs: moto lacks RedriveAllowPolicy and the
# resource waits for it until it times out (5 minutes).

data "aws_iam_policy_document" "update_queue" {
  statement {
    sid       = "TopicSendsOnly"
    actions   = ["sqs:SendMessage"]
    resources = ["${local.queue_arn_prefix}:${local.update_queue_name}"]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this.arn]
    }
  }
}

resource "aws_sns_topic_subscription" "update" {
  topic_arn            = aws_sns_topic.this.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.update.arn
  raw_message_delivery = true
}

################################################################################
# Job queues (one per worker pool)
#
# Only `job.submit` events of the pool's applications (and users, when listed) reach a pool.
################################################################################

resource "aws_sqs_queue" "job_dlq" {
  for_each = var.worker_pools

  name                      = "${var.name_prefix}-jobs-${each.key}-dlq"
  message_retention_seconds = var.dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "job" {
  for_each = var.worker_pools

  name                       = local.job_queue_names[each.key]
  visibility_timeout_seconds = var.job_queue_visibility_timeout_seconds
  receive_wait_time_seconds  = var.job_queue_receive_wait_time_seconds
  sqs_managed_sse_enabled    = true
  policy                     = data.aws_iam_policy_document.job_queue[each.key].json

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.job_dlq[each.key].arn
    maxReceiveCount     = var.job_queue_max_receive_count
  })
}

data "aws_iam_policy_document" "job_queue" {
  for_each = var.worker_pools

  statement {
    sid       = "TopicSendsOnly"
    actions   = ["sqs:SendMessage"]
    resources = ["${local.queue_arn_prefix}:${local.job_queue_names[each.key]}"]

    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this.arn]
    }
  }
}

locals {
  # `username` is only constrained when the pool lists users: an empty list in a filter policy
  # is invalid, and leaving the key out means "any user".
  job_filter_policies = {
    for pool, config in var.worker_pools : pool => merge(
      {
        event       = ["job.submit"]
        application = config.applications
      },
      { for key, values in { username = config.usernames } : key => values if length(values) > 0 },
    )
  }
}

resource "aws_sns_topic_subscription" "job" {
  for_each = var.worker_pools

  topic_arn            = aws_sns_topic.this.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.job[each.key].arn
  raw_message_delivery = true
  filter_policy_scope  = "MessageAttributes"
  filter_policy        = jsonencode(local.job_filter_policies[each.key])
}

################################################################################
# Alarms
#
# Any message in a dead-letter queue needs a person; so does an update queue that falls behind.
################################################################################

locals {
  dead_letter_queue_names = merge(
    { (aws_sqs_queue.update_dlq.name) = "update events the update processor failed to apply" },
    { for pool, queue in aws_sqs_queue.job_dlq : queue.name => "jobs of pool ${pool} whose lease expired too often" },
  )
}

resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  for_each = local.dead_letter_queue_names

  alarm_name          = "${each.key}-not-empty"
  alarm_description   = "Dead-letter queue ${each.key} holds ${each.value}. Inspect them, fix the cause, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.key }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "update_queue_age" {
  alarm_name          = "${aws_sqs_queue.update.name}-oldest-message-age"
  alarm_description   = "The oldest message in ${aws_sqs_queue.update.name} is older than ${var.update_queue_oldest_message_alarm_seconds} s: the update processor is behind or failing, so job states are stale."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.update.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.update_queue_oldest_message_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
