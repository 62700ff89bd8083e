output "bucket" {
  description = "Name of the state bucket: the `bucket` of every terraform/environments/*.s3.tfbackend."
  value       = aws_s3_bucket.state.bucket
}

output "region" {
  description = "Region of the state bucket: the backend files' `region`."
  value       = var.region
}
