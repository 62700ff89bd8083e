output "archive_queue_url" {
  description = "URL of the archive queue (planned)."
  value       = local.queue_urls["archive"]
}

output "archive_queue_arn" {
  description = "ARN of the archive queue (planned): the schedules' target."
  value       = local.queue_arns["archive"]
}

output "restore_queue_url" {
  description = "URL of the restore queue (planned)."
  value       = local.queue_urls["restore"]
}

output "restore_queue_arn" {
  description = "ARN of the restore queue (planned)."
  value       = local.queue_arns["restore"]
}

output "dead_letter_queue_names" {
  description = "Dead-letter queue name per queue (archive, restore), for alarms."
  value       = { for kind, name in local.queue_names : kind => "${name}-dlq" }
}

output "schedule_group_name" {
  description = "EventBridge Scheduler group of the archive schedules (\"default\" when the group is not created)."
  value       = var.scheduler_enabled ? aws_scheduler_schedule_group.archive[0].name : "default"
}

output "scheduler_role_arn" {
  description = "Role EventBridge Scheduler assumes to deliver a due archive request."
  value       = aws_iam_role.scheduler.arn
}

output "notification_topic_arn" {
  description = "ARN of the topic that tells users their session finished."
  value       = aws_sns_topic.notifications.arn
}

output "queues_ready" {
  description = "The queue ARNs once the queues exist (for event source mappings)."
  value       = { for kind, queue in aws_sqs_queue.this : kind => queue.arn }
}
