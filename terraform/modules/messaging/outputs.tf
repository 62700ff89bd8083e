################################################################################
# Topic
################################################################################

output "topic_arn" {
  description = "ARN of the update topic every state change is published to."
  value       = try(aws_sns_topic.this.arn, null)
}

################################################################################
# Update queue
################################################################################

output "update_queue_url" {
  description = "URL of the update queue (all events; read by the update processor)."
  value       = try(aws_sqs_queue.update.url, null)
}

output "update_queue_arn" {
  description = "ARN of the update queue."
  value       = try(aws_sqs_queue.update.arn, null)
}

output "update_dead_letter_queue_url" {
  description = "URL of the update queue's dead-letter queue."
  value       = try(aws_sqs_queue.update_dlq.url, null)
}

output "update_dead_letter_queue_arn" {
  description = "ARN of the update queue's dead-letter queue."
  value       = try(aws_sqs_queue.update_dlq.arn, null)
}

################################################################################
# Job queues
################################################################################

output "job_queue_urls" {
  description = "Job queue URL per worker pool name."
  value       = { for pool, queue in aws_sqs_queue.job : pool => queue.url }
}

output "job_queue_arns" {
  description = "Job queue ARN per worker pool name."
  value       = { for pool, queue in aws_sqs_queue.job : pool => queue.arn }
}

output "job_dead_letter_queue_urls" {
  description = "Job dead-letter queue URL per worker pool name."
  value       = { for pool, queue in aws_sqs_queue.job_dlq : pool => queue.url }
}

output "job_dead_letter_queue_arns" {
  description = "Job dead-letter queue ARN per worker pool name."
  value       = { for pool, queue in aws_sqs_queue.job_dlq : pool => queue.arn }
}

################################################################################
# Planned names, ARNs and URLs
#
# Known at plan time, so a consumer that takes them does not wait for the queues (25 s each, and
# a DLQ before its queue). For IAM policies, alarms, dashboards and configuration only: where
# the queue must exist (subscriptions, event source mappings, redrive targets) use the outputs
# above, which reference the queues. The queues' postconditions check the two agree.
################################################################################

output "update_queue_name" {
  description = "Name of the update queue."
  value       = local.update_queue_name
}

output "update_dead_letter_queue_name" {
  description = "Name of the update queue's dead-letter queue."
  value       = local.update_dead_letter_queue_name
}

output "job_queue_names" {
  description = "Job queue name per worker pool name."
  value       = local.job_queue_names
}

output "job_dead_letter_queue_names" {
  description = "Job dead-letter queue name per worker pool name."
  value       = local.job_dead_letter_queue_names
}

output "planned_update_queue_arn" {
  description = "ARN of the update queue, known at plan time."
  value       = local.update_queue_arn
}

output "planned_job_queue_arns" {
  description = "Job queue ARN per worker pool name, known at plan time."
  value       = local.job_queue_arns
}

output "planned_job_queue_urls" {
  description = "Job queue URL per worker pool name, known at plan time."
  value       = local.job_queue_urls
}

output "job_filter_policies" {
  description = "SNS filter policy (decoded) of each pool's job-queue subscription, per worker pool name."
  value       = local.job_filter_policies
}

################################################################################
# Alarms
################################################################################

output "alarm_arns" {
  description = "ARN of each alarm of this module by name: the update dead-letter queue's depth and the update queue's age."
  value = merge(
    { for alarm in aws_cloudwatch_metric_alarm.dead_letter : alarm.alarm_name => alarm.arn },
    { (aws_cloudwatch_metric_alarm.update_queue_age.alarm_name) = aws_cloudwatch_metric_alarm.update_queue_age.arn },
  )
}
