################################################################################
# Naming
#
# Every queue's name, ARN and URL is built here from the name prefix, at plan time. Creating a
# queue takes at least 25 s whatever the backend (the provider polls it until six reads in a row,
# 5 s apart, show the attributes it set: see ../../README.md), so nothing that only has to *name*
# a queue (IAM policies, alarms, the dashboard, the worker user data) should wait for that:
# consumers take the planned_* outputs and are created while the queues wait. The queues check
# that these are what SQS returned (postconditions below). What needs the queue itself (its
# redrive target, subscriptions, event source mappings) still references the resource.
#
# Queue policies are set inline, at creation, so that no delivery ever meets a queue without
# one (AWS drops those silently). The policy names the queue's own ARN, hence built here. A
# separate aws_sqs_queue_policy would also cost 25 s more to create and 25 s to destroy.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  queue_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${local.account_id}"
  # What SQS returns from CreateQueue: <endpoint>/<account id>/<queue name>.
  queue_url_prefix = "${var.sqs_endpoint != "" ? trimsuffix(var.sqs_endpoint, "/") : "https://sqs.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"}/${local.account_id}"

  update_queue_name             = "${var.name_prefix}-updates"
  update_dead_letter_queue_name = "${var.name_prefix}-updates-dlq"
  job_queue_names               = { for pool in keys(var.worker_pools) : pool => "${var.name_prefix}-jobs-${pool}" }
  job_dead_letter_queue_names   = { for pool in keys(var.worker_pools) : pool => "${var.name_prefix}-jobs-${pool}-dlq" }

  update_queue_arn = "${local.queue_arn_prefix}:${local.update_queue_name}"
  update_queue_url = "${local.queue_url_prefix}/${local.update_queue_name}"
  job_queue_arns   = { for pool, name in local.job_queue_names : pool => "${local.queue_arn_prefix}:${name}" }
  job_queue_urls   = { for pool, name in local.job_queue_names : pool => "${local.queue_url_prefix}/${name}" }
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
  # Active: SNS records its own segment of each traced publish and passes the trace header on
  # to the queues (SQS's AWSTraceHeader), so a job's trace reaches the worker.
  tracing_config = var.topic_tracing_config
}

################################################################################
# Update queue
#
# All events, consumed by the update processor (the single writer of job state).
################################################################################

resource "aws_sqs_queue" "update_dlq" {
  name                      = local.update_dead_letter_queue_name
  message_retention_seconds = var.dead_letter_message_retention_seconds
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "update" {
  name                       = local.update_queue_name
  visibility_timeout_seconds = var.update_queue_visibility_timeout_seconds
  sqs_managed_sse_enabled    = true
  policy                     = data.aws_iam_policy_document.update_queue.json

  # A reference, not the planned ARN: SQS rejects a redrive policy whose target does not exist
  # yet ("Dead letter target does not exist"), so this queue has to wait for its DLQ.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.update_dlq.arn
    maxReceiveCount     = var.update_queue_max_receive_count
  })

  lifecycle {
    postcondition {
      condition     = self.arn == local.update_queue_arn && self.url == local.update_queue_url
      error_message = "SQS returned ARN ${self.arn} and URL ${self.url} for the update queue, not the planned ${local.update_queue_arn} and ${local.update_queue_url} that IAM policies and alarms were given. The planned values come from the region, partition, account and sqs_endpoint (modules/messaging, locals)."
    }
  }
}

# No aws_sqs_queue_redrive_allow_policy on the DLQs: moto lacks RedriveAllowPolicy and the
# resource waits for it until it times out (5 minutes).

data "aws_iam_policy_document" "update_queue" {
  statement {
    sid       = "TopicSendsOnly"
    actions   = ["sqs:SendMessage"]
    resources = [local.update_queue_arn]

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

  name                      = local.job_dead_letter_queue_names[each.key]
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

  # A reference, not a planned ARN: the DLQ must exist first (see the update queue).
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.job_dlq[each.key].arn
    maxReceiveCount     = var.job_queue_max_receive_count
  })

  lifecycle {
    postcondition {
      condition     = self.arn == local.job_queue_arns[each.key] && self.url == local.job_queue_urls[each.key]
      error_message = "SQS returned ARN ${self.arn} and URL ${self.url} for the ${each.key} job queue, not the planned ${local.job_queue_arns[each.key]} and ${local.job_queue_urls[each.key]} that the pool's IAM policy and user data were given. The planned values come from the region, partition, account and sqs_endpoint (modules/messaging, locals)."
    }
  }
}

data "aws_iam_policy_document" "job_queue" {
  for_each = var.worker_pools

  statement {
    sid       = "TopicSendsOnly"
    actions   = ["sqs:SendMessage"]
    resources = [local.job_queue_arns[each.key]]

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
  # A pool restricted to some users takes only their jobs; an open pool that shares one of its
  # applications takes everybody else's, so each job reaches exactly one pool.
  restricted_users = {
    for pool, config in var.worker_pools : pool => distinct(flatten([
      for other, other_config in var.worker_pools : other_config.usernames
      if other != pool && length(setintersection(config.applications, other_config.applications)) > 0
    ]))
  }
  job_filter_policies = {
    for pool, config in var.worker_pools : pool => merge(
      {
        event       = ["job.submit"]
        application = config.applications
      },
      length(config.usernames) > 0 ? { username = config.usernames } : {},
      length(config.usernames) == 0 && length(local.restricted_users[pool]) > 0 ? { username = [{ "anything-but" = local.restricted_users[pool] }] } : {},
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
# Any message in the update dead-letter queue needs a person; so does an update queue that falls
# behind. The job dead-letter queues get no depth alarm: the update processor drains them at once
# (ending those jobs worker-lost), so their depth never shows. The WorkerLostJobs metric alarm
# (modules/dashboard) covers them.
################################################################################

locals {
  dead_letter_queue_names = {
    (local.update_dead_letter_queue_name) = "update events the update processor failed to apply"
  }
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
  alarm_name          = "${local.update_queue_name}-oldest-message-age"
  alarm_description   = "The oldest message in ${local.update_queue_name} is older than ${var.update_queue_oldest_message_alarm_seconds} s: the update processor is behind or failing, so job states are stale."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = local.update_queue_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.update_queue_oldest_message_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}
