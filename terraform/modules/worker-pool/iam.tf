################################################################################
# Role and instance profile
#
# Least privilege: a worker reads its own job queue, publishes job events, reads the jobs table
# (kill checks) and staged files, and writes only under outputs/ of the results bucket. It sends
# to its own job queue only to requeue a job it hands back without a death (shutdown, transient
# failure, another live attempt): a fresh copy spends none of the deliveries meant for crashes.
# It protects its own instance from scale-in while it holds jobs and answers its group's
# termination hook; Session Manager gets its exact actions, not the broad managed policy. Its
# CloudWatch agent writes the pool's own log group and sends X-Ray segments: the actions it
# needs, not the CloudWatchAgentServerPolicy managed policy (which has wildcards).
################################################################################

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = local.name
  description        = "FOQUS workers of pool ${var.pool_name}."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

resource "aws_iam_instance_profile" "this" {
  name = local.name
  role = aws_iam_role.this.name
}

################################################################################
# Inline policies, one per concern
################################################################################

locals {
  # A pool restricted to some users reads and writes only under their prefixes (staged files
  # <user>/…, outputs outputs/<user>/…); an open pool under every user's.
  staged_objects = length(var.usernames) == 0 ? ["${var.simulations_bucket_arn}/*"] : [for user in var.usernames : "${var.simulations_bucket_arn}/${user}/*"]
  output_objects = length(var.usernames) == 0 ? ["${var.results_bucket_arn}/outputs/*"] : [for user in var.usernames : "${var.results_bucket_arn}/outputs/${user}/*"]
  staged_listing = length(var.usernames) == 0 ? null : { test = "StringLike", variable = "s3:prefix", values = [for user in var.usernames : "${user}/*"] }

  # This pool's own group; the group id in its ARN is not known before the group exists.
  autoscaling_group_arn = "arn:${data.aws_partition.current.partition}:autoscaling:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:autoScalingGroup:*:autoScalingGroupName/${local.name}"

  session_manager = [
    {
      sid       = "RegisterWithSystemsManager"
      actions   = ["ssm:UpdateInstanceInformation"]
      resources = ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:instance/*"]
      condition = null
    },
    {
      # Resource "*": the Session Manager channel actions have no resource-level permissions.
      sid       = "SessionManagerChannels"
      actions   = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]
      resources = ["*"]
      condition = null
    },
  ]

  policies = merge(var.session_manager_enabled ? { ssm = local.session_manager } : {}, {
    # Scale-in protection while the worker holds jobs, and the termination hook's answer.
    autoscaling = [
      {
        sid       = "OwnGroupOnly"
        actions   = ["autoscaling:SetInstanceProtection", "autoscaling:CompleteLifecycleAction", "autoscaling:RecordLifecycleActionHeartbeat"]
        resources = [local.autoscaling_group_arn]
        condition = null
      },
    ]
    sqs = [
      {
        sid       = "ConsumeOwnJobQueue"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:SendMessage"]
        resources = [var.job_queue_arn]
        condition = null
      },
    ]
    sns = [
      {
        sid       = "PublishJobEvents"
        actions   = ["sns:Publish"]
        resources = [var.topic_arn]
        condition = null
      },
    ]
    dynamodb = [
      {
        sid       = "KillChecks"
        actions   = ["dynamodb:GetItem", "dynamodb:BatchGetItem"]
        resources = [var.jobs_table_arn]
        condition = null
      },
    ]
    s3 = [
      {
        sid       = "ReadStagedFiles"
        actions   = ["s3:GetObject"]
        resources = local.staged_objects
        condition = null
      },
      {
        sid       = "ListStagedFiles"
        actions   = ["s3:ListBucket"]
        resources = [var.simulations_bucket_arn]
        condition = local.staged_listing
      },
      {
        sid       = "WriteOutputs"
        actions   = ["s3:PutObject"]
        resources = local.output_objects
        condition = null
      },
    ]
    cloudwatch = [
      {
        # Resource "*": PutMetricData has no resource-level permissions; the namespace condition narrows it.
        sid       = "PutWorkerMetrics"
        actions   = ["cloudwatch:PutMetricData"]
        resources = ["*"]
        condition = { test = "StringEquals", variable = "cloudwatch:namespace", values = [var.metrics_namespace] }
      },
    ]
    # The CloudWatch agent: the worker's log into this pool's group (its streams, ":*"), never
    # another group, and no CreateLogGroup (Terraform owns the group and its retention).
    logs = [
      {
        sid       = "ShipWorkerLog"
        actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        resources = [aws_cloudwatch_log_group.worker.arn, "${aws_cloudwatch_log_group.worker.arn}:*"]
        condition = null
      },
    ]
    # The CloudWatch agent's X-Ray listener relays the worker's segments.
    xray = [
      {
        # Resource "*": PutTraceSegments and PutTelemetryRecords have no resource-level permissions.
        sid       = "SendWorkerTraces"
        actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        resources = ["*"]
        condition = null
      },
    ]
  })
}

data "aws_iam_policy_document" "this" {
  for_each = local.policies

  dynamic "statement" {
    for_each = each.value

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.condition == null ? [] : [statement.value.condition]

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = each.key
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this[each.key].json
}
