variable "name_prefix" {
  description = "Prefix of every name: \"<prefix>-archive\", \"<prefix>-restore\", \"<prefix>-notifications\", ..."
  type        = string
}

variable "sqs_endpoint" {
  description = "Endpoint the provider sends SQS calls to, when not the region's own (the emulator's URL): queue URLs start with it. \"\" means https://sqs.<region>.<partition DNS suffix>."
  type        = string
  default     = ""
}

variable "results_bucket_name" {
  description = "The results bucket, whose archived units (archives/…) announce their restores."
  type        = string
}

variable "results_bucket_arn" {
  description = "ARN of the results bucket: the only source allowed to send to the restore queue without a grant."
  type        = string
}

variable "visibility_timeout_seconds" {
  description = "Visibility timeout of the archive and restore queues, in seconds: at least 6 times the archiver's and restorer's timeout."
  type        = number
  default     = 900
}

variable "max_receive_count" {
  description = "Receives of one archive or restore message before it moves to its dead-letter queue."
  type        = number
  default     = 5
}

variable "dead_letter_message_retention_seconds" {
  description = "How long the dead-letter queues keep a message, in seconds (at most 14 days)."
  type        = number
  default     = 1209600
}

variable "topic_kms_master_key_id" {
  description = "KMS key (id, ARN or alias) that encrypts the notification topic. null leaves it unencrypted."
  type        = string
  default     = null
}

variable "scheduler_enabled" {
  description = "Create the EventBridge Scheduler group. The emulator keeps schedules in the default group (moto's Terraform support for groups is partial) and never fires them; the local runtime delivers due ones."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "Where the DLQ alarms go (the alarm topic)."
  type        = list(string)
  default     = []
}
