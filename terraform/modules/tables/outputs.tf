################################################################################
# Tables
################################################################################

output "table_names" {
  description = "Table name per logical table: users, sessions, jobs, results, simulations, idempotency."
  value       = { for key, table in aws_dynamodb_table.this : key => table.name }
}

output "table_arns" {
  description = "Table ARN per logical table: users, sessions, jobs, results, simulations, idempotency."
  value       = { for key, table in aws_dynamodb_table.this : key => table.arn }
}

output "stream_arns" {
  description = "Stream ARN per table that has one (jobs: the submit outbox)."
  value       = { for key, table in aws_dynamodb_table.this : key => table.stream_arn if can(local.tables[key].stream) }
}
