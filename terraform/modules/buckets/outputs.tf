################################################################################
# Buckets
################################################################################

output "bucket_names" {
  description = "Bucket name per logical bucket: simulations, results."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.id }
}

output "bucket_arns" {
  description = "Bucket ARN per logical bucket: simulations, results."
  value       = { for key, bucket in aws_s3_bucket.this : key => bucket.arn }
}
