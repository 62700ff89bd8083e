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

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies; pass it to the other modules' alarm_actions and subscribe people to it."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_arns" {
  description = "ARN of each alarm of this module by name: function errors and throttles, API 5xx rate, oldest message age and at-maximum per pool, worker-lost jobs."
  value = merge(
    { (aws_cloudwatch_metric_alarm.update_processor_errors.alarm_name) = aws_cloudwatch_metric_alarm.update_processor_errors.arn },
    { (aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name) = aws_cloudwatch_metric_alarm.api_5xx_rate.arn },
    { for alarm in aws_cloudwatch_metric_alarm.job_queue_age : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.alarm_name => alarm.arn },
    { for alarm in aws_cloudwatch_metric_alarm.pool_at_maximum : alarm.alarm_name => alarm.arn },
    { (aws_cloudwatch_metric_alarm.worker_lost_jobs.alarm_name) = aws_cloudwatch_metric_alarm.worker_lost_jobs.arn },
  )
}
