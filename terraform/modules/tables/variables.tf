################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every table name: \"<prefix>-users\", \"<prefix>-jobs\", ..."
  type        = string
}

################################################################################
# Protection
################################################################################

variable "deletion_protection_enabled" {
  description = "Enable DynamoDB deletion protection on every table. While on, `terraform destroy` fails until it is turned off again."
  type        = bool
  default     = false
}

variable "point_in_time_recovery_enabled" {
  description = "Keep continuous backups (restore to any second of the last 35 days) of every table."
  type        = bool
  default     = true
}
