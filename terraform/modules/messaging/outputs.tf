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

output "job_filter_policies" {
  description = "SNS filter policy (decoded) of each pool's job-queue subscription, per worker pool name."
  value       = local.job_filter_policies
}
