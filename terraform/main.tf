################################################################################
# Routes
#
# handlers/routes.json declares every HTTP route once; the functions and the API are built from
# it, and so is the local gateway (local/runtime/gateway.ts).
################################################################################

locals {
  routes         = jsondecode(file("${path.root}/../handlers/routes.json")).routes
  cors           = jsondecode(file("${path.root}/../handlers/cors.json"))
  http_functions = toset(values(local.routes))
  # The $default route's function re-dispatches to every HTTP handler (handlers/http/fallback.ts).
  catch_all_functions = toset([for key, name in local.routes : name if key == "$default"])

  # Routes without the authorizer: the web console's static files (handlers/http/console.ts).
  unauthenticated_routes = toset(jsondecode(file("${path.root}/../handlers/routes.json")).unauthenticated.routes)

  # Pools as the functions see them (WORKER_POOLS): the applications each pool accepts.
  worker_pool_applications = { for pool, config in var.worker_pools : pool => { applications = config.applications } }
}

################################################################################
# Messaging
################################################################################

module "messaging" {
  source = "./modules/messaging"

  name_prefix             = var.name_prefix
  sqs_endpoint            = var.aws_endpoint
  topic_kms_master_key_id = var.topic_kms_master_key_id
  # moto stores a topic's TracingConfig but never reads it back, so every plan would set it again.
  topic_tracing_config = var.local_emulator ? null : "Active"
  # Every alarm reaches the alarm topic (modules/dashboard), plus any actions of the caller's.
  alarm_actions = concat([module.dashboard.alarm_topic_arn], var.alarm_actions)

  update_queue_visibility_timeout_seconds = var.update_queue_visibility_timeout_seconds
  update_queue_max_receive_count          = var.update_queue_max_receive_count

  worker_pools = {
    for pool, config in var.worker_pools : pool => {
      applications = config.applications
      usernames    = config.usernames
    }
  }
  job_queue_visibility_timeout_seconds = var.job_queue_visibility_timeout_seconds
  job_queue_max_receive_count          = var.job_queue_max_receive_count
}

################################################################################
# Tables
################################################################################

module "tables" {
  source = "./modules/tables"

  name_prefix                 = var.name_prefix
  deletion_protection_enabled = var.deletion_protection_enabled
}

################################################################################
# Buckets
################################################################################

module "buckets" {
  source = "./modules/buckets"

  name_prefix = var.name_prefix
  # An emulator stack is thrown away with whatever it holds; so is any stack make destroy removes.
  force_destroy = var.local_emulator || var.force_destroy
  # moto enforces bucket policies but serves plain HTTP: a TLS-only policy would refuse everything.
  deny_insecure_transport = !var.local_emulator
}

################################################################################
# Result tiers
#
# Free-plan results archived after a grace period and restored on upgrade; "session finished"
# notifications (docs/result-tiers.md).
################################################################################

module "result_tiers" {
  source = "./modules/result-tiers"

  name_prefix             = var.name_prefix
  sqs_endpoint            = var.aws_endpoint
  results_bucket_name     = module.buckets.bucket_names["results"]
  results_bucket_arn      = module.buckets.bucket_arns["results"]
  topic_kms_master_key_id = var.topic_kms_master_key_id
  # moto keeps schedules in its default group and never fires them (local/runtime delivers them).
  scheduler_enabled = !var.local_emulator
  alarm_actions     = concat([module.dashboard.alarm_topic_arn], var.alarm_actions)
}

################################################################################
# Functions
################################################################################

locals {
  # Every function gets the same environment (core/config.ts reads it).
  function_environment = merge(
    {
      USERS_TABLE                  = module.tables.table_names["users"]
      SESSIONS_TABLE               = module.tables.table_names["sessions"]
      JOBS_TABLE                   = module.tables.table_names["jobs"]
      RESULTS_TABLE                = module.tables.table_names["results"]
      SIMULATIONS_TABLE            = module.tables.table_names["simulations"]
      IDEMPOTENCY_TABLE            = module.tables.table_names["idempotency"]
      SIMULATIONS_BUCKET           = module.buckets.bucket_names["simulations"]
      RESULTS_BUCKET               = module.buckets.bucket_names["results"]
      UPDATE_TOPIC_ARN             = module.messaging.topic_arn
      ARCHIVES_TABLE               = module.tables.table_names["archives"]
      ARCHIVE_QUEUE_URL            = module.result_tiers.archive_queue_url
      ARCHIVE_QUEUE_ARN            = module.result_tiers.archive_queue_arn
      RESTORE_QUEUE_URL            = module.result_tiers.restore_queue_url
      ARCHIVE_SCHEDULE_GROUP       = module.result_tiers.schedule_group_name
      ARCHIVE_SCHEDULER_ROLE_ARN   = module.result_tiers.scheduler_role_arn
      ARCHIVE_GRACE_SECONDS        = tostring(var.archive_grace_seconds)
      ARCHIVE_STORAGE_CLASS        = var.archive_storage_class
      NOTIFICATION_TOPIC_ARN       = module.result_tiers.notification_topic_arn
      WORKER_POOLS                 = jsonencode(local.worker_pool_applications)
      JOB_DEAD_LETTER_QUEUE_ARNS   = jsonencode(values(module.messaging.job_dead_letter_queue_arns))
      AUTHORIZER_CACHE_SECONDS     = tostring(var.authorizer_result_ttl_seconds)
      POWERTOOLS_SERVICE_NAME      = "foqus-cloud"
      POWERTOOLS_METRICS_NAMESPACE = "FoqusCloud"
      LOG_LEVEL                    = "INFO"
    },
    { for key, value in { AWS_ENDPOINT_URL = var.aws_endpoint } : key => value if value != "" },
  )
}

module "functions" {
  source = "./modules/functions"

  name_prefix              = var.name_prefix
  http_function_names      = local.http_functions
  catch_all_function_names = local.catch_all_functions
  environment              = local.function_environment
  image_uri                = var.lambda_image_uri
  image_tag                = var.lambda_image_tag
  architectures            = var.lambda_architectures
  function_settings        = var.function_settings
  log_retention_days       = var.log_retention_days
  force_delete             = var.local_emulator || var.force_destroy

  table_arns       = module.tables.table_arns
  bucket_arns      = module.buckets.bucket_arns
  topic_arn        = module.messaging.topic_arn
  update_queue_arn = module.messaging.update_queue_arn
  jobs_stream_arn  = module.tables.stream_arns["jobs"]
  # Known at plan time: the functions' IAM grants need not wait for the queue (see README).
  planned_update_queue_arn = module.messaging.planned_update_queue_arn

  job_dead_letter_queue_arns = module.messaging.job_dead_letter_queue_arns

  archive_queue_arn           = module.result_tiers.archive_queue_arn
  restore_queue_arn           = module.result_tiers.restore_queue_arn
  tier_queues_ready           = module.result_tiers.queues_ready
  notification_topic_arn      = module.result_tiers.notification_topic_arn
  archive_scheduler_role_arn  = module.result_tiers.scheduler_role_arn
  archive_schedule_group_name = module.result_tiers.schedule_group_name

  # An enabled mapping to an Image function makes every SendMessage to the queue fail on moto;
  # locally, local/runtime/sqs-trigger.ts polls the queue instead.
  update_event_source_enabled = !var.local_emulator

  # By digest from the deploy chain (make deploy); reserved concurrency for the single writer.
  image_digest                          = var.lambda_image_digest
  update_processor_reserved_concurrency = var.update_processor_reserved_concurrency

  # The fan-out queue (large starts, stops, kills, deletes): planned URL, and its DLQ alarm.
  sqs_endpoint  = var.aws_endpoint
  alarm_actions = concat([module.dashboard.alarm_topic_arn], var.alarm_actions)
}

################################################################################
# HTTP API
################################################################################

module "http_api" {
  source = "./modules/http-api"

  name_prefix              = var.name_prefix
  routes                   = local.routes
  unauthenticated_routes   = local.unauthenticated_routes
  function_names           = module.functions.function_names
  function_invoke_arns     = module.functions.function_invoke_arns
  authorizer_function_name = module.functions.function_names["authorizer"]
  authorizer_invoke_arn    = module.functions.function_invoke_arns["authorizer"]

  authorizer_result_ttl_seconds = var.authorizer_result_ttl_seconds
  cors_allow_origins            = var.cors_allow_origins
  cors_allow_methods            = local.cors.allowMethods
  cors_allow_headers            = local.cors.allowHeaders
  throttling_burst_limit        = var.throttling_burst_limit
  throttling_rate_limit         = var.throttling_rate_limit
  log_retention_days            = var.log_retention_days

  route_throttling = var.route_throttling
}

################################################################################
# Worker pools
################################################################################

data "aws_vpc" "workers" {
  id      = var.worker_vpc_id != "" ? var.worker_vpc_id : null
  default = var.worker_vpc_id == "" ? true : null
}

data "aws_subnets" "workers" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.workers.id]
  }
}

module "worker_pool" {
  source   = "./modules/worker-pool"
  for_each = var.worker_pools

  name_prefix   = var.name_prefix
  pool_name     = each.key
  applications  = each.value.applications
  usernames     = each.value.usernames
  os            = each.value.os
  ami_id        = each.value.ami_id != "" ? each.value.ami_id : lookup(var.worker_ami_ids, each.value.os, var.default_ami_id)
  instance_type = each.value.instance_type
  min_size      = each.value.min_size
  max_size      = each.value.max_size
  vpc_id        = data.aws_vpc.workers.id
  subnet_ids    = length(var.worker_subnet_ids) > 0 ? var.worker_subnet_ids : sort(data.aws_subnets.workers.ids)

  environment = {
    AWS_REGION         = var.region
    UPDATE_TOPIC_ARN   = module.messaging.topic_arn
    JOBS_TABLE         = module.tables.table_names["jobs"]
    SIMULATIONS_BUCKET = module.buckets.bucket_names["simulations"]
    RESULTS_BUCKET     = module.buckets.bucket_names["results"]
  }

  # Known at plan time: the launch template need not wait for the queue (see README).
  job_queue_url          = module.messaging.planned_job_queue_urls[each.key]
  job_queue_arn          = module.messaging.planned_job_queue_arns[each.key]
  topic_arn              = module.messaging.topic_arn
  jobs_table_arn         = module.tables.table_arns["jobs"]
  simulations_bucket_arn = module.buckets.bucket_arns["simulations"]
  results_bucket_arn     = module.buckets.bucket_arns["results"]

  scaling_policy_enabled = !var.local_emulator
  log_retention_days     = var.log_retention_days

  # Scaling on backlog per instance, Spot, and the termination hook (modules/worker-pool).
  acceptable_latency_seconds    = each.value.acceptable_latency_seconds
  seconds_per_job               = each.value.seconds_per_job
  spot                          = each.value.spot
  spot_instance_types           = each.value.spot_instance_types
  termination_heartbeat_seconds = each.value.termination_heartbeat_seconds
}

################################################################################
# Dashboard and service alarms
#
# SQS metrics are keyed by queue name; the names are known at plan time, so the dashboard and
# its alarms need not wait for the queues.
################################################################################

module "dashboard" {
  source = "./modules/dashboard"

  name_prefix = var.name_prefix

  update_queue_name             = module.messaging.update_queue_name
  update_dead_letter_queue_name = module.messaging.update_dead_letter_queue_name
  job_queue_names               = module.messaging.job_queue_names
  job_dead_letter_queue_names   = module.messaging.job_dead_letter_queue_names

  function_names                 = module.functions.function_names
  update_processor_function_name = module.functions.function_names["update-processor"]
  api_id                         = module.http_api.api_id
  autoscaling_group_names        = { for pool, instance in module.worker_pool : pool => instance.autoscaling_group_name }

  metrics_namespace = local.function_environment["POWERTOOLS_METRICS_NAMESPACE"]
  metrics_service   = local.function_environment["POWERTOOLS_SERVICE_NAME"]
  alarm_actions     = var.alarm_actions

  # The alarm topic's subscriber, the pools' limits and targets, and messaging's alarms.
  alarm_email          = var.alarm_email
  pool_max_sizes       = { for pool, instance in module.worker_pool : pool => instance.max_size }
  pool_backlog_targets = { for pool, instance in module.worker_pool : pool => instance.backlog_per_instance_target }
  extra_alarm_arns     = values(module.messaging.alarm_arns)
}
