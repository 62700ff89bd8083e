variable "region" {
  description = "Region of the state bucket (the backend files' `region`)."
  type        = string
  default     = "us-east-1"
}

variable "bucket_prefix" {
  description = "Start of the bucket's name; the account id and region are appended, making it unique."
  type        = string
  default     = "foqus-terraform-state"
}

variable "noncurrent_version_days" {
  description = "Days an overwritten state version is kept (the history to restore a state from)."
  type        = number
  default     = 90
}
