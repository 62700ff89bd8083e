################################################################################
# API
################################################################################

output "api_id" {
  description = "ID of the HTTP API."
  value       = try(aws_apigatewayv2_api.this.id, null)
}

output "api_endpoint" {
  description = "Base URL of the API (the $default stage), e.g. https://abc123.execute-api.us-east-1.amazonaws.com."
  value       = try(aws_apigatewayv2_api.this.api_endpoint, null)
}

output "api_execution_arn" {
  description = "Execution ARN prefix of the API, for Lambda permissions and IAM conditions."
  value       = try(aws_apigatewayv2_api.this.execution_arn, null)
}

output "authorizer_id" {
  description = "ID of the Lambda REQUEST authorizer."
  value       = try(aws_apigatewayv2_authorizer.this.id, null)
}

output "route_ids" {
  description = "Route ID per route key (\"POST /session/{sid}\")."
  value       = { for key, route in aws_apigatewayv2_route.this : key => route.id }
}

output "access_log_group_name" {
  description = "CloudWatch log group of the stage's access logs."
  value       = try(aws_cloudwatch_log_group.access.name, null)
}
