################################################################################
# Naming
################################################################################

data "aws_region" "current" {}

locals {
  region         = data.aws_region.current.name
  dashboard_name = "${var.name_prefix}-operations"

  # Every queue the service reads (the update queue first, then the job queues by pool) and
  # every dead-letter queue, by name: SQS metrics are keyed by QueueName.
  queue_names             = concat([var.update_queue_name], [for pool in sort(keys(var.job_queue_names)) : var.job_queue_names[pool]])
  dead_letter_queue_names = concat([var.update_dead_letter_queue_name], [for pool in sort(keys(var.job_dead_letter_queue_names)) : var.job_dead_letter_queue_names[pool]])

  function_keys = sort(keys(var.function_names))
  pool_keys     = sort(keys(var.autoscaling_group_names))

  # The update processor's outcome per event (handlers/update-processor.ts: `event-<outcome>`).
  event_outcomes = ["applied", "stale", "superseded", "ignored"]
}

################################################################################
# Alarm topic
#
# Every alarm of the stack notifies this topic (and var.alarm_actions); people subscribe to it
# (alarm_email, or a chat or paging integration). CloudWatch cannot publish to a topic under the
# AWS managed SNS key, so it gets a key of its own that lets CloudWatch use it.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  alarm_actions = concat([aws_sns_topic.alarms.arn], var.alarm_actions)
}

data "aws_iam_policy_document" "alarm_key" {
  statement {
    sid = "AccountAdministersTheKey"
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateGrant", "kms:DescribeKey", "kms:DisableKey",
      "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus", "kms:ListGrants", "kms:ListResourceTags", "kms:PutKeyPolicy",
      "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource",
      "kms:UpdateKeyDescription",
    ]
    # Resource "*": in a key policy it means the key itself, and AWS accepts nothing else.
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid     = "CloudWatchPublishesAlarms"
    actions = ["kms:Decrypt", "kms:GenerateDataKey"]
    # Resource "*": in a key policy it means the key itself, and AWS accepts nothing else.
    resources = ["*"]

    # No source condition: CloudWatch does not promise one on these calls, and only this
    # account's alarms may publish to the topic anyway (its default policy).
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "alarms" {
  description             = "Encrypts the ${var.name_prefix}-alarms topic; CloudWatch may use it to publish."
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.alarm_key.json
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

################################################################################
# Alarms
#
# modules/messaging alarms on the update dead-letter queue and on the update queue's age (and
# notifies the same topic); these cover the rest: functions failing or throttled, the API failing
# its callers, pools whose jobs wait too long or that cannot grow, and jobs lost with workers.
# Each alarm's description says what it means; the runbook (../../../README.md, "Operations
# runbook") says what to do.
################################################################################

resource "aws_cloudwatch_metric_alarm" "update_processor_errors" {
  alarm_name          = "${var.update_processor_function_name}-errors"
  alarm_description   = "${var.update_processor_function_name} failed at least once in 5 minutes. Failed events are retried and then dead-lettered; read its logs for the cause."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.update_processor_function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name_prefix}-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_rate_alarm_percent} % of the API's answers in 5 minutes were 5xx: a function is failing or timing out. Read the access log and the functions' logs."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_rate_alarm_percent
  evaluation_periods  = 1
  # No requests: no rate, and nothing is failing.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions

  metric_query {
    id          = "rate"
    label       = "5xx answers (% of requests)"
    expression  = "100 * errors / requests"
    return_data = true
  }

  metric_query {
    id = "errors"

    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = { ApiId = var.api_id }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "requests"

    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiId = var.api_id }
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "job_queue_age" {
  for_each = var.job_queue_names

  alarm_name          = "${each.value}-oldest-message-age"
  alarm_description   = "A job in ${each.value} has waited more than ${var.job_queue_oldest_message_alarm_seconds} s: pool ${each.key} is not taking jobs (no instances in service, workers failing, or more backlog than max_size can absorb)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.job_queue_oldest_message_alarm_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = { for key, name in var.function_names : key => name if key != "update-processor" }

  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.value} failed (an unhandled error or a timeout, not a 4xx/5xx answer) at least once in 5 minutes. Read its log group /aws/lambda/${each.value}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = var.function_names

  alarm_name          = "${each.value}-throttles"
  alarm_description   = "Lambda refused to run ${each.value} for lack of concurrency at least once in 5 minutes (the account's limit, or this function's reserved concurrency)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "pool_at_maximum" {
  # A pool that may not grow at all has nothing to alarm on.
  for_each = { for pool, size in var.pool_max_sizes : pool => size if size > 0 && contains(keys(var.autoscaling_group_names), pool) }

  alarm_name          = "${var.autoscaling_group_names[each.key]}-at-maximum"
  alarm_description   = "Pool ${each.key} has wanted its maximum of ${each.value} instances for 15 minutes: jobs arrive faster than it can run them at that size."
  namespace           = "AWS/AutoScaling"
  metric_name         = "GroupDesiredCapacity"
  dimensions          = { AutoScalingGroupName = var.autoscaling_group_names[each.key] }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 15
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = each.value
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "worker_lost_jobs" {
  alarm_name          = "${var.name_prefix}-worker-lost-jobs"
  alarm_description   = "At least one job ended worker-lost in 5 minutes: its lease expired job_queue_max_receive_count times (workers crashed, were killed, or lost the network while running it). Shutdowns and scale-ins release jobs and never count here."
  namespace           = var.metrics_namespace
  metric_name         = "WorkerLostJobs"
  dimensions          = { service = var.metrics_service }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

################################################################################
# Dashboard widgets
#
# Rows of widgets; each widget shows one measure for every queue, function or pool, so the
# layout stays the same whatever the number of pools. Positions are computed below.
################################################################################

locals {
  # Properties every graph shares.
  graph = {
    region  = local.region
    view    = "timeSeries"
    stacked = false
    period  = var.period_seconds
  }

  # Job durations, one graph per phase, p50/p90/p99 of the update processor's JobDuration.
  duration_widgets = {
    for phase in var.duration_phases : phase => {
      type  = "metric"
      width = floor(24 / length(var.duration_phases))
      properties = merge(local.graph, {
        title   = "Job duration: ${phase} (s)"
        metrics = [for stat in ["p50", "p90", "p99"] : [var.metrics_namespace, "JobDuration", "service", var.metrics_service, "Phase", phase, { stat = stat, label = stat }]]
        yAxis   = { left = { min = 0 } }
      })
    }
  }

  # Metric math per pool: metric ids must start with a lowercase letter and hold only letters,
  # digits and underscores, hence the pool name with "-" replaced.
  backlog_metrics = flatten([
    for pool in local.pool_keys : [
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.job_queue_names[pool], { id = "visible_${replace(pool, "-", "_")}", stat = "Maximum", visible = false }],
      ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", var.autoscaling_group_names[pool], { id = "in_service_${replace(pool, "-", "_")}", stat = "Average", visible = false }],
      [{
        id         = "backlog_${replace(pool, "-", "_")}"
        label      = "${pool} backlog per instance"
        expression = "IF(in_service_${replace(pool, "-", "_")} > 0, visible_${replace(pool, "-", "_")} / in_service_${replace(pool, "-", "_")}, visible_${replace(pool, "-", "_")})"
      }],
    ] if contains(keys(var.job_queue_names), pool)
  ])

  rows = [
    {
      height = 2
      widgets = [
        {
          type  = "text"
          width = 24
          properties = {
            markdown = "# ${var.name_prefix} operations\nJobs, queues, the update processor, the functions, the HTTP API and the worker pools. Every alarm notifies the topic ${var.name_prefix}-alarms; what each means and what to do: the README's Operations runbook."
          }
        },
      ]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title   = "Queues: messages waiting"
            stat    = "Maximum"
            metrics = [for name in local.queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name, { label = name }]]
            yAxis   = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title   = "Queues: age of oldest message (s)"
            stat    = "Maximum"
            metrics = [for name in local.queue_names : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name, { label = name }]]
            yAxis   = { left = { min = 0 } }
            annotations = {
              horizontal = [{ label = "job-queue age alarm", value = var.job_queue_oldest_message_alarm_seconds }]
            }
          })
        },
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title   = "Dead-letter queues: messages (should be 0)"
            stat    = "Maximum"
            metrics = [for name in local.dead_letter_queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name, { label = name }]]
            yAxis   = { left = { min = 0 } }
          })
        },
      ]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Update processor: events by outcome"
            stat    = "Sum"
            metrics = [for outcome in local.event_outcomes : [var.metrics_namespace, "event-${outcome}", "service", var.metrics_service, { label = outcome }]]
            yAxis   = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Queues: messages in flight (jobs being run, events being applied)"
            stat    = "Maximum"
            metrics = [for name in local.queue_names : ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", name, { label = name }]]
            yAxis   = { left = { min = 0 } }
          })
        },
      ]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Jobs entering each state (per minute)"
            stat    = "Sum"
            period  = 60
            metrics = [for state in var.job_states : [var.metrics_namespace, "JobsEnteredState", "service", var.metrics_service, "State", state, { label = state }]]
            yAxis   = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Jobs lost with their workers"
            stat    = "Sum"
            metrics = [[var.metrics_namespace, "WorkerLostJobs", "service", var.metrics_service, { label = "worker-lost" }]]
            yAxis   = { left = { min = 0 } }
          })
        },
      ]
    },
    {
      height  = 6
      widgets = [for phase in var.duration_phases : local.duration_widgets[phase]]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Worker pools: backlog per instance (waiting jobs / in service) against its target"
            metrics = local.backlog_metrics
            yAxis   = { left = { min = 0 } }
            annotations = {
              horizontal = [for pool in local.pool_keys : { label = "${pool} target", value = var.pool_backlog_targets[pool] } if contains(keys(var.pool_backlog_targets), pool)]
            }
          })
        },
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title = "Worker pools: desired and in-service instances"
            stat  = "Maximum"
            metrics = flatten([for pool in local.pool_keys : [
              ["AWS/AutoScaling", "GroupDesiredCapacity", "AutoScalingGroupName", var.autoscaling_group_names[pool], { label = "${pool} desired" }],
              ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", var.autoscaling_group_names[pool], { label = "${pool} in service" }],
            ]])
            yAxis = { left = { min = 0 } }
          })
        },
      ]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title   = "Functions: errors"
            stat    = "Sum"
            metrics = [for key in local.function_keys : ["AWS/Lambda", "Errors", "FunctionName", var.function_names[key], { label = key }]]
            yAxis   = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title   = "Functions: throttles"
            stat    = "Sum"
            metrics = [for key in local.function_keys : ["AWS/Lambda", "Throttles", "FunctionName", var.function_names[key], { label = key }]]
            yAxis   = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title   = "Functions: concurrent executions"
            stat    = "Maximum"
            metrics = [for key in local.function_keys : ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", var.function_names[key], { label = key }]]
            yAxis   = { left = { min = 0 } }
          })
        },
      ]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Functions: duration p50 (ms)"
            stat    = "p50"
            metrics = [for key in local.function_keys : ["AWS/Lambda", "Duration", "FunctionName", var.function_names[key], { label = key }]]
            yAxis   = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 12
          properties = merge(local.graph, {
            title   = "Functions: duration p99 (ms)"
            stat    = "p99"
            metrics = [for key in local.function_keys : ["AWS/Lambda", "Duration", "FunctionName", var.function_names[key], { label = key }]]
            yAxis   = { left = { min = 0 } }
          })
        },
      ]
    },
    {
      height = 6
      widgets = [
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title = "HTTP API: requests and errors"
            stat  = "Sum"
            metrics = [
              ["AWS/ApiGateway", "Count", "ApiId", var.api_id, { label = "requests" }],
              ["AWS/ApiGateway", "4xx", "ApiId", var.api_id, { label = "4xx" }],
              ["AWS/ApiGateway", "5xx", "ApiId", var.api_id, { label = "5xx" }],
            ]
            yAxis = { left = { min = 0 } }
          })
        },
        {
          type  = "metric"
          width = 8
          properties = merge(local.graph, {
            title = "HTTP API: latency (ms)"
            metrics = [
              ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p50", label = "latency p50" }],
              ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p99", label = "latency p99" }],
              ["AWS/ApiGateway", "IntegrationLatency", "ApiId", var.api_id, { stat = "p99", label = "integration p99" }],
            ]
            yAxis = { left = { min = 0 } }
          })
        },
        {
          type  = "alarm"
          width = 8
          properties = {
            title = "Service alarms"
            alarms = concat(
              [aws_cloudwatch_metric_alarm.update_processor_errors.arn, aws_cloudwatch_metric_alarm.api_5xx_rate.arn, aws_cloudwatch_metric_alarm.worker_lost_jobs.arn],
              [for pool in sort(keys(var.job_queue_names)) : aws_cloudwatch_metric_alarm.job_queue_age[pool].arn],
              [for pool in sort(keys(aws_cloudwatch_metric_alarm.pool_at_maximum)) : aws_cloudwatch_metric_alarm.pool_at_maximum[pool].arn],
              var.extra_alarm_arns,
            )
          }
        },
      ]
    },
  ]

  # A graph with no metric (e.g. no worker pools) is left out rather than drawn empty.
  shown_rows = [
    for row in local.rows : {
      height  = row.height
      widgets = [for widget in row.widgets : widget if widget.type != "metric" || length(try(widget.properties.metrics, [])) > 0]
    }
  ]
  row_heights = [for row in local.shown_rows : row.height]

  # x: the widths of the widgets before it in its row; y: the heights of the rows above.
  widgets = flatten([
    for i, row in local.shown_rows : [
      for j, widget in row.widgets : merge(widget, {
        x      = sum(concat([0], slice([for w in row.widgets : w.width], 0, j)))
        y      = sum(concat([0], slice(local.row_heights, 0, i)))
        height = row.height
      })
    ]
  ])
}

################################################################################
# Dashboard
################################################################################

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = local.dashboard_name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
