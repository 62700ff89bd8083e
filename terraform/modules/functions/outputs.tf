################################################################################
# Image repository
################################################################################

output "ecr_repository_url" {
  description = "URL of the ECR repository the Lambda image is pushed to."
  value       = try(aws_ecr_repository.this.repository_url, null)
}

output "image_uri" {
  description = "Image URI every function runs."
  value       = local.image_uri
}

################################################################################
# Functions
################################################################################

output "function_names" {
  description = "Lambda function name per handler name (application, user, session, result, simulation, authorizer, update-processor)."
  value       = { for name, fn in aws_lambda_function.this : name => fn.function_name }
}

output "function_arns" {
  description = "Lambda function ARN per handler name."
  value       = { for name, fn in aws_lambda_function.this : name => fn.arn }
}

output "function_invoke_arns" {
  description = "Invoke ARN (for API Gateway integrations) per handler name."
  value       = { for name, fn in aws_lambda_function.this : name => fn.invoke_arn }
}

output "role_arns" {
  description = "Execution role ARN per handler name."
  value       = { for name, role in aws_iam_role.this : name => role.arn }
}

output "update_event_source_mapping_uuid" {
  description = "UUID of the update queue → update-processor event source mapping."
  value       = try(aws_lambda_event_source_mapping.update.uuid, null)
}

################################################################################
# Fan-out queue
################################################################################

output "fanout_queue_url" {
  description = "URL of the fan-out queue (planned): pages of large starts, stops, kills and deletes."
  value       = local.fanout_queue_url
}

output "fanout_queue_arn" {
  description = "ARN of the fan-out queue (planned)."
  value       = local.fanout_queue_arn
}

output "fanout_dead_letter_queue_url" {
  description = "URL of the fan-out queue's dead-letter queue."
  value       = try(aws_sqs_queue.fanout_dlq.url, null)
}

output "environment" {
  description = "What this module adds to every function's environment (FANOUT_QUEUE_URL), beside var.environment."
  value       = local.own_environment
}
