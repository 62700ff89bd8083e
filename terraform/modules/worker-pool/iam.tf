################################################################################
# Role and instance profile
#
# Least privilege: a worker reads its own job queue, publishes job events, reads the jobs table
# (kill checks) and staged files, and writes only under outputs/ of the results bucket. It sends
# to its own job queue only to requeue a job it hands back without a death (shutdown, transient
# failure, another live attempt): a fresh copy spends none of the deliveries meant for crashes.
################################################################################

data "aws_partition" "current" {}

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

  policies = {
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
    # PutMetricData has no resource-level permissions; the namespace condition narrows it.
    cloudwatch = [
      {
        sid       = "PutWorkerMetrics"
        actions   = ["cloudwatch:PutMetricData"]
        resources = ["*"]
        condition = { test = "StringEquals", variable = "cloudwatch:namespace", values = [var.metrics_namespace] }
      },
    ]
  }
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

# Session Manager access (no SSH keys, no inbound ports).
resource "aws_iam_role_policy_attachment" "ssm" {
  # Emulator gate: moto does not load AWS managed policies by default, so attaching one fails
  # with NoSuchEntity.
  count = var.attach_ssm_managed_policy ? 1 : 0

  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}
