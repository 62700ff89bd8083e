################################################################################
# Auto Scaling group
################################################################################

output "autoscaling_group_name" {
  description = "Name of the pool's Auto Scaling group."
  value       = try(aws_autoscaling_group.this.name, null)
}

output "launch_template_id" {
  description = "ID of the pool's launch template."
  value       = try(aws_launch_template.this.id, null)
}

output "security_group_id" {
  description = "ID of the workers' security group."
  value       = try(aws_security_group.this.id, null)
}

output "max_size" {
  description = "Most instances of the pool (the dashboard's at-maximum alarm)."
  value       = var.max_size
}

output "backlog_per_instance_target" {
  description = "Waiting job messages per in-service instance that scaling keeps: acceptable_latency_seconds / seconds_per_job."
  value       = local.backlog_per_instance_target
}

output "lifecycle_hook_name" {
  description = "Name of the termination lifecycle hook the worker answers (CompleteLifecycleAction)."
  value       = try(aws_autoscaling_lifecycle_hook.drain.name, null)
}

output "scaling_policy_arn" {
  description = "ARN of the backlog-per-instance target-tracking policy (null when it is gated off)."
  value       = try(aws_autoscaling_policy.backlog[0].arn, null)
}

################################################################################
# Worker log
################################################################################

output "log_group_name" {
  description = "Name of the pool's worker log group (/foqus/<name_prefix>/worker/<pool_name>): one stream per instance id."
  value       = try(aws_cloudwatch_log_group.worker.name, null)
}

output "log_group_arn" {
  description = "ARN of the pool's worker log group."
  value       = try(aws_cloudwatch_log_group.worker.arn, null)
}

################################################################################
# IAM
################################################################################

output "instance_role_arn" {
  description = "ARN of the workers' IAM role."
  value       = try(aws_iam_role.this.arn, null)
}

output "instance_profile_arn" {
  description = "ARN of the workers' instance profile."
  value       = try(aws_iam_instance_profile.this.arn, null)
}
