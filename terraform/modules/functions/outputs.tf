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
