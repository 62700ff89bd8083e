################################################################################
# HTTP API
################################################################################

output "api_endpoint" {
  description = "Base URL of the HTTP API; point turbine_aws.cfg here."
  value       = try(module.http_api.api_endpoint, null)
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = try(module.http_api.api_id, null)
}

################################################################################
# Tables and buckets
################################################################################

output "table_names" {
  description = "DynamoDB table name per logical table: users, sessions, jobs, results, simulations, idempotency."
  value       = module.tables.table_names
}

output "bucket_names" {
  description = "S3 bucket name per logical bucket: simulations, results."
  value       = module.buckets.bucket_names
}

################################################################################
# Messaging
################################################################################

output "update_topic_arn" {
  description = "ARN of the update topic every state change is published to."
  value       = try(module.messaging.topic_arn, null)
}

output "update_queue_url" {
  description = "URL of the update queue (all events; consumed by the update processor)."
  value       = try(module.messaging.update_queue_url, null)

  precondition {
    condition     = var.update_queue_visibility_timeout_seconds >= 6 * try(var.function_settings["update-processor"].timeout, 29)
    error_message = "update_queue_visibility_timeout_seconds must be at least 6 times the update-processor's timeout (function_settings), as AWS advises: a batch still being processed would otherwise reappear and be applied twice at once."
  }
}

output "update_dead_letter_queue_url" {
  description = "URL of the update queue's dead-letter queue."
  value       = try(module.messaging.update_dead_letter_queue_url, null)
}

output "job_queue_urls" {
  description = "Job queue URL per worker pool name."
  value       = module.messaging.job_queue_urls
}

output "job_dead_letter_queue_urls" {
  description = "Job dead-letter queue URL per worker pool name."
  value       = module.messaging.job_dead_letter_queue_urls
}

################################################################################
# Functions
################################################################################

output "function_names" {
  description = "Lambda function name per handler name (application, user, session, result, simulation, authorizer, update-processor)."
  value       = module.functions.function_names
}

output "function_environment" {
  description = "Environment variables every function gets; the local runtime gives the same to the handlers it runs."
  value       = merge(local.function_environment, module.functions.environment)
}

output "fanout_queue_url" {
  description = "URL of the fan-out queue (pages of large starts, stops, kills and deletes; consumed by the fan-out function)."
  value       = module.functions.fanout_queue_url
}

output "ecr_repository_url" {
  description = "ECR repository to push the Lambda image to (tag it lambda_image_tag)."
  value       = try(module.functions.ecr_repository_url, null)
}

################################################################################
# Worker pools
################################################################################

output "worker_pools" {
  description = "The worker pools as configured (var.worker_pools with defaults filled in)."
  value       = var.worker_pools
}

output "worker_autoscaling_group_names" {
  description = "Auto Scaling group name per worker pool name."
  value       = { for pool, instance in module.worker_pool : pool => instance.autoscaling_group_name }
}

output "worker_instance_role_arns" {
  description = "Worker IAM role ARN per worker pool name."
  value       = { for pool, instance in module.worker_pool : pool => instance.instance_role_arn }
}

output "worker_log_group_names" {
  description = "Worker log group per worker pool name (/foqus/<name_prefix>/worker/<pool>, one stream per instance id): `aws logs tail <name> --follow`."
  value       = { for pool, instance in module.worker_pool : pool => instance.log_group_name }
}

################################################################################
# Dashboard
################################################################################

output "dashboard_name" {
  description = "Name of the CloudWatch operations dashboard."
  value       = module.dashboard.dashboard_name
}

################################################################################
# Alarms and the deploy chain
################################################################################

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies; subscribe people to it (or set alarm_email)."
  value       = module.dashboard.alarm_topic_arn
}

output "lambda_image_uri" {
  description = "Image URI every function runs (by digest after make deploy)."
  value       = module.functions.image_uri
}

################################################################################
# Result tiers
################################################################################

output "notification_topic_arn" {
  description = "ARN of the topic that tells users their session finished (foqus-admin email subscribes a user)."
  value       = module.result_tiers.notification_topic_arn
}

output "archive_queue_url" {
  description = "URL of the archive queue (delayed archive requests; consumed by the archiver)."
  value       = module.result_tiers.archive_queue_url
}

output "restore_queue_url" {
  description = "URL of the restore queue (restore requests and restore notifications; consumed by the restorer)."
  value       = module.result_tiers.restore_queue_url
}
