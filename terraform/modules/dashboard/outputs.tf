################################################################################
# Dashboard
################################################################################

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (\"<prefix>-operations\")."
  value       = try(aws_cloudwatch_dashboard.this.dashboard_name, null)
}

output "dashboard_arn" {
  description = "ARN of the CloudWatch dashboard."
  value       = try(aws_cloudwatch_dashboard.this.dashboard_arn, null)
}

################################################################################
# Alarms
################################################################################

output "alarm_arns" {
  description = "ARN of each alarm of this module by name: update-processor errors, API 5xx rate, and one oldest-message-age alarm per job queue."
  value = merge(
    { (aws_cloudwatch_metric_alarm.update_processor_errors.alarm_name) = aws_cloudwatch_metric_alarm.update_processor_errors.arn },
    { (aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name) = aws_cloudwatch_metric_alarm.api_5xx_rate.arn },
    { for alarm in aws_cloudwatch_metric_alarm.job_queue_age : alarm.alarm_name => alarm.arn },
  )
}
