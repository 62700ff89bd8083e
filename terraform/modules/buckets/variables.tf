################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every bucket name: \"<prefix>-simulations-<account id>-<region>\", \"<prefix>-results-<account id>-<region>\"."
  type        = string
}

################################################################################
# Lifecycle
################################################################################

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects (and object versions). Keep false for real stacks; the emulator stack sets true."
  type        = bool
  default     = false
}

################################################################################
# CORS
################################################################################

variable "simulations_cors_allowed_origins" {
  description = "Origins allowed to PUT and GET simulation files through presigned URLs (desktop clients send no fixed origin, hence the default [\"*\"])."
  type        = list(string)
  default     = ["*"]
}

variable "simulations_cors_max_age_seconds" {
  description = "How long browsers may cache the simulations bucket's CORS preflight answer, in seconds."
  type        = number
  default     = 3600
}

variable "deny_insecure_transport" {
  description = "Attach a bucket policy that denies every request not made over TLS. Off only on the emulator, which moto serves over plain HTTP while enforcing bucket policies."
  type        = bool
  default     = true
}
