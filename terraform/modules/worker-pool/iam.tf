################################################################################
# Role and instance profile
#
# Least privilege: a worker reads its own job queue, publishes job events, reads the jobs table
# (kill checks) and staged files, and writes only under outputs/ of the results bucket.
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
  policies = {
    sqs = [
      {
        sid       = "ConsumeOwnJobQueue"
        actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
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
        resources = ["${var.simulations_bucket_arn}/*"]
        condition = null
      },
      {
        sid       = "ListStagedFiles"
        actions   = ["s3:ListBucket"]
        resources = [var.simulations_bucket_arn]
        condition = null
      },
      {
        sid       = "WriteOutputs"
        actions   = ["s3:PutObject"]
        resources = ["${var.results_bucket_arn}/outputs/*"]
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
