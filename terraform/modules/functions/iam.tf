################################################################################
# Grants
#
# Least privilege: every function gets its own role and only the actions its handler calls, on
# exact resource ARNs. One inline policy per concern (logs, xray, dynamodb, s3, sns, sqs).
# When a handler starts calling something new, add it here in the same change.
# Index queries need the index ARN: "index:<table>" resolves to "<table arn>/index/*".
################################################################################

locals {
  # Statements name their resources symbolically ("table:jobs", "objects:results", ...) and
  # `resource_arns` resolves them: that keeps the policy keys known at plan time while the ARNs
  # are not yet.
  resource_arns = merge(
    { for key, arn in var.table_arns : "table:${key}" => arn },
    { for key, arn in var.table_arns : "index:${key}" => "${arn}/index/*" },
    { for key, arn in var.bucket_arns : "bucket:${key}" => arn },
    { for key, arn in var.bucket_arns : "objects:${key}" => "${arn}/*" },
    { for name, group in aws_cloudwatch_log_group.this : "log-group:${name}" => "${group.arn}:*" },
    { for pool, arn in var.job_dead_letter_queue_arns : "job-dlq:${pool}" => arn },
    # Planned, not the queue's own attribute: a grant only names the queue (see var docs).
    { topic = var.topic_arn, "update-queue" = var.planned_update_queue_arn, "jobs-stream" = var.jobs_stream_arn, "*" = "*" },
    {
      "archive-queue"     = var.archive_queue_arn
      "fanout-queue"      = local.fanout_queue_arn
      "restore-queue"     = var.restore_queue_arn
      notifications       = var.notification_topic_arn
      "scheduler-role"    = var.archive_scheduler_role_arn
      "archive-schedules" = "arn:${data.aws_partition.current.partition}:scheduler:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:schedule/${var.archive_schedule_group_name}/*"
    },
  )

  # Result tiers (core/tiers): what creating and withdrawing an archive schedule takes.
  schedule_archive_requests = [
    { sid = "CreateArchiveSchedules", actions = ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"], resources = ["archive-schedules"] },
    { sid = "PassSchedulerRole", actions = ["iam:PassRole"], resources = ["scheduler-role"] },
  ]
  consume_queue = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]

  # function name => concern => statements
  grants = {
    authorizer = {
      dynamodb = [
        { sid = "ReadUsers", actions = ["dynamodb:GetItem"], resources = ["table:users"] },
      ]
    }

    application = {}

    # The web console's static files (handlers/http/console.ts): logs and traces only.
    console = {}

    user = {
      dynamodb = [
        { sid = "ReadAndUpdateUsers", actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources = ["table:users"] },
      ]
      # An upgrade to premium queues the restore of the user's archived results.
      sqs = [
        { sid = "QueueRestores", actions = ["sqs:SendMessage"], resources = ["restore-queue"] },
      ]
    }

    session = {
      dynamodb = [
        {
          # Start's and stop's claim transactions check the session (ConditionCheckItem); the
          # record's FanOut is written as a large call hands over (sessions/fan-out.ts).
          sid       = "Sessions"
          actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
          resources = ["table:sessions"]
        },
        {
          # Append (BatchWriteItem, BatchGetItem of client ids), list (Query), start/stop
          # (UpdateItem, inside transactions), delete (BatchWriteItem of deletes), a page of jobs
          # (BatchGetItem).
          sid       = "Jobs"
          actions   = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
          resources = ["table:jobs"]
        },
        {
          # start, stop and kill read the ByState index; so do the summary (COUNT per state) and
          # a page of jobs in one state.
          sid       = "JobsByState"
          actions   = ["dynamodb:Query"]
          resources = ["index:jobs"]
        },
        {
          # The claimed count, ADDed in start's claim transactions (UpdateItem); an append's
          # record of the jobs it created (PutItem in its transaction, GetItem on a retry).
          sid       = "Results"
          actions   = ["dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem"]
          resources = ["table:results"]
        },
        {
          sid       = "Simulations"
          actions   = ["dynamodb:BatchGetItem"]
          resources = ["table:simulations"]
        },
        {
          sid       = "Idempotency"
          actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
          resources = ["table:idempotency"]
        },
        {
          # Deleting a session deletes its archive units and pending archive request.
          sid       = "Archives"
          actions   = ["dynamodb:Query", "dynamodb:BatchWriteItem"]
          resources = ["table:archives"]
        },
      ]
      sns = [
        { sid = "PublishUpdates", actions = ["sns:Publish"], resources = ["topic"] },
      ]
      s3 = [
        { sid = "DeleteResultObjects", actions = ["s3:DeleteObject"], resources = ["objects:results"] },
        { sid = "ListResultObjects", actions = ["s3:ListBucket"], resources = ["bucket:results"] },
      ]
      # A start, stop, kill or delete too large for one call hands its first page to the backend.
      sqs = [
        { sid = "SendFanOutPages", actions = ["sqs:SendMessage"], resources = ["fanout-queue"] },
      ]
    }

    result = {
      dynamodb = [
        {
          sid       = "Sessions"
          actions   = ["dynamodb:GetItem"]
          resources = ["table:sessions"]
        },
        {
          sid       = "Results"
          actions   = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
          resources = ["table:results"]
        },
        {
          sid       = "Jobs"
          actions   = ["dynamodb:BatchGetItem"]
          resources = ["table:jobs"]
        },
      ]
      s3 = [
        { sid = "ReadResultObjects", actions = ["s3:GetObject"], resources = ["objects:results"] },
      ]
    }

    job = {
      dynamodb = [
        {
          # A job by its id: the ByJob index, then the job item; GET /job?session= checks the
          # session and lists its jobs.
          sid       = "Jobs"
          actions   = ["dynamodb:GetItem", "dynamodb:Query"]
          resources = ["table:jobs", "index:jobs"]
        },
        {
          sid       = "Sessions"
          actions   = ["dynamodb:GetItem"]
          resources = ["table:sessions"]
        },
      ]
      sns = [
        { sid = "PublishTerminate", actions = ["sns:Publish"], resources = ["topic"] },
      ]
      s3 = [
        { sid = "ReadResultObjects", actions = ["s3:GetObject"], resources = ["objects:results"] },
      ]
    }

    simulation = {
      dynamodb = [
        {
          sid       = "Simulations"
          actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"]
          resources = ["table:simulations"]
        },
      ]
      s3 = [
        {
          sid       = "SimulationObjects"
          actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
          resources = ["objects:simulations"]
        },
        {
          sid       = "ListSimulationObjects"
          actions   = ["s3:ListBucket"]
          resources = ["bucket:simulations"]
        },
      ]
    }

    "submit-publisher" = {
      dynamodb = [
        {
          # What the event source mapping reads on the function's behalf.
          sid       = "ReadJobsStream"
          actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
          resources = ["jobs-stream"]
        },
      ]
      sns = [
        { sid = "PublishSubmits", actions = ["sns:Publish"], resources = ["topic"] },
      ]
    }

    "update-processor" = {
      dynamodb = [
        {
          # One UpdateItem per progress event; terminal events in a transaction of UpdateItems.
          sid       = "Jobs"
          actions   = ["dynamodb:UpdateItem"]
          resources = ["table:jobs"]
        },
        {
          # The session's finish counter and finish-order entries, and its "finished" decision.
          sid       = "Results"
          actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"]
          resources = ["table:results"]
        },
        # After a job ends (handlers/update-processor.ts): a redelivered end's number (GetItem),
        # whether its session has jobs in flight and how many per state (the ByState index),
        # the owner's plan, and the session's pending archive request.
        { sid = "EndedJob", actions = ["dynamodb:GetItem"], resources = ["table:jobs"] },
        { sid = "SessionInFlight", actions = ["dynamodb:Query"], resources = ["index:jobs"] },
        { sid = "ReadPlans", actions = ["dynamodb:GetItem"], resources = ["table:users"] },
        { sid = "PendingArchiveRequests", actions = ["dynamodb:UpdateItem"], resources = ["table:archives"] },
      ]
      sqs = [
        {
          sid       = "ConsumeUpdateAndJobDeadLetterQueues"
          actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
          resources = concat(["update-queue"], [for pool in keys(var.job_dead_letter_queue_arns) : "job-dlq:${pool}"])
        },
        { sid = "SendArchiveRequests", actions = ["sqs:SendMessage"], resources = ["archive-queue"] },
      ]
      sns = [
        { sid = "NotifySessionFinished", actions = ["sns:Publish"], resources = ["notifications"] },
      ]
      scheduler = local.schedule_archive_requests
      s3 = [
        # Outputs too large for a job item (the worker normally stores those itself).
        { sid = "WriteLargeOutputs", actions = ["s3:PutObject"], resources = ["objects:results"] },
      ]
    }

    archiver = {
      dynamodb = [
        { sid = "PendingRequestsAndUnits", actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources = ["table:archives"] },
        { sid = "ReadPlans", actions = ["dynamodb:GetItem"], resources = ["table:users"] },
        { sid = "ReadSessions", actions = ["dynamodb:GetItem"], resources = ["table:sessions"] },
        { sid = "FinishOrderAndRanges", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"], resources = ["table:results"] },
        { sid = "StripOutputs", actions = ["dynamodb:BatchGetItem", "dynamodb:UpdateItem"], resources = ["table:jobs"] },
      ]
      s3 = [
        { sid = "ArchiveObjects", actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources = ["objects:results"] },
      ]
      sqs = [
        { sid = "ConsumeAndResendArchiveRequests", actions = concat(local.consume_queue, ["sqs:SendMessage"]), resources = ["archive-queue"] },
      ]
      scheduler = local.schedule_archive_requests
    }

    # One page of a large start, stop, kill or delete (core/sessions/fan-out.ts), then the next.
    "fan-out" = {
      dynamodb = [
        {
          # The session record: read, its FanOut moved on or ended, checked inside the claim
          # transactions, deleted last by a delete.
          sid       = "Sessions"
          actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"]
          resources = ["table:sessions"]
        },
        # Claims and pauses (UpdateItem, in transactions); a delete's pages (BatchWriteItem).
        { sid = "Jobs", actions = ["dynamodb:UpdateItem", "dynamodb:BatchWriteItem"], resources = ["table:jobs"] },
        { sid = "JobsByState", actions = ["dynamodb:Query"], resources = ["index:jobs"] },
        {
          # The claimed count (UpdateItem, in the claims' transactions); a delete's pages.
          sid       = "Results"
          actions   = ["dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchWriteItem"]
          resources = ["table:results"]
        },
        { sid = "Archives", actions = ["dynamodb:Query", "dynamodb:BatchWriteItem"], resources = ["table:archives"] },
      ]
      sns = [
        { sid = "PublishTerminates", actions = ["sns:Publish"], resources = ["topic"] },
      ]
      s3 = [
        { sid = "DeleteResultObjects", actions = ["s3:DeleteObject"], resources = ["objects:results"] },
        { sid = "ListResultObjects", actions = ["s3:ListBucket"], resources = ["bucket:results"] },
      ]
      sqs = [
        { sid = "ConsumeAndSendFanOutPages", actions = concat(local.consume_queue, ["sqs:SendMessage"]), resources = ["fanout-queue"] },
      ]
    }

    restorer = {
      dynamodb = [
        { sid = "PendingRequestsAndUnits", actions = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], resources = ["table:archives"] },
        { sid = "Ranges", actions = ["dynamodb:UpdateItem"], resources = ["table:results"] },
        { sid = "PutOutputsBack", actions = ["dynamodb:UpdateItem"], resources = ["table:jobs"] },
      ]
      s3 = [
        # s3:GetObject also allows HeadObject (the restore's status).
        { sid = "RestoreArchiveObjects", actions = ["s3:RestoreObject", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources = ["objects:results"] },
      ]
      sqs = [
        { sid = "ConsumeRestoreQueue", actions = local.consume_queue, resources = ["restore-queue"] },
      ]
      scheduler = [
        { sid = "WithdrawArchiveSchedules", actions = ["scheduler:DeleteSchedule"], resources = ["archive-schedules"] },
      ]
    }
  }

  # Every function writes its own log group and its traces. X-Ray's write actions have no
  # resource-level permissions, hence "*".
  common_grants = {
    for name in local.function_names : name => {
      logs = [
        {
          sid       = "WriteOwnLogGroup"
          actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          resources = ["log-group:${name}"]
        },
      ]
      xray = [
        # Resource "*": X-Ray's write actions have no resource-level permissions.
        { sid = "WriteTraces", actions = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources = ["*"] },
      ]
    }
  }

  # A catch-all function (the $default route) normalises the path and runs whichever HTTP
  # handler matches, in process: it needs the union of their grants. Sids get the source
  # function's name so that they stay unique within a policy.
  dispatched_functions = sort([for name in var.http_function_names : name if !contains(var.catch_all_function_names, name)])
  catch_all_grants = {
    for concern in distinct(flatten([for name in local.dispatched_functions : keys(try(local.grants[name], {}))])) :
    concern => flatten([
      for name in local.dispatched_functions : [
        for statement in try(local.grants[name][concern], []) :
        merge(statement, { sid = "${replace(title(name), "-", "")}${statement.sid}" })
      ]
    ])
  }
  all_grants = merge(local.grants, { for name in var.catch_all_function_names : name => local.catch_all_grants })

  # "<function>/<concern>" => the statements of one inline policy. A function without an entry
  # in `grants` (a new HTTP resource) gets logs and traces only.
  policies = merge([
    for name in local.function_names : {
      for concern, statements in merge(local.common_grants[name], try(local.all_grants[name], {})) :
      "${name}/${concern}" => { function = name, concern = concern, statements = statements }
    }
  ]...)
}

################################################################################
# Roles
################################################################################

data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.function_names

  name               = "${var.name_prefix}-${each.key}-lambda"
  description        = "Execution role of the ${var.name_prefix}-${each.key} function."
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
}

################################################################################
# Inline policies, one per concern
################################################################################

data "aws_iam_policy_document" "this" {
  for_each = local.policies

  dynamic "statement" {
    for_each = each.value.statements

    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = [for resource in statement.value.resources : local.resource_arns[resource]]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.policies

  name   = each.value.concern
  role   = aws_iam_role.this[each.value.function].id
  policy = data.aws_iam_policy_document.this[each.key].json
}
