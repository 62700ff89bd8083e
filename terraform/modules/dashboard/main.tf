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
# Alarms
#
# modules/messaging already alarms on every dead-letter queue and on the update queue's age;
# these cover what it cannot see: the update processor failing, the API failing its callers,
# and a pool whose jobs wait too long.
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
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name_prefix}-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_rate_alarm_percent} % of the API's answers in 5 minutes were 5xx: a function is failing or timing out. Read the access log and the functions' logs."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.api_5xx_rate_alarm_percent
  evaluation_periods  = 1
  # No requests: no rate, and nothing is failing.
  treat_missing_data = "notBreaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions

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
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
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

  rows = [
    {
      height = 2
      widgets = [
        {
          type  = "text"
          width = 24
          properties = {
            markdown = "# ${var.name_prefix} operations\nQueues, the update processor, the functions, the HTTP API and the worker pools. Alarms: dead-letter queues and update-queue age (messaging module), update-processor errors, API 5xx rate and job-queue age (this dashboard's module)."
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
            title   = "Worker pools: instances in service"
            stat    = "Maximum"
            metrics = [for pool in local.pool_keys : ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", var.autoscaling_group_names[pool], { label = pool }]]
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
            title  = "Alarms of this dashboard's module"
            alarms = concat([aws_cloudwatch_metric_alarm.update_processor_errors.arn, aws_cloudwatch_metric_alarm.api_5xx_rate.arn], [for pool in sort(keys(var.job_queue_names)) : aws_cloudwatch_metric_alarm.job_queue_age[pool].arn])
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
