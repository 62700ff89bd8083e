################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: \"<prefix>-updates\", \"<prefix>-jobs-<pool>\", ..."
  type        = string
}

variable "sqs_endpoint" {
  description = "Endpoint the provider sends SQS calls to, when not the region's own (the emulator's URL): queue URLs start with it. \"\" (the default) means https://sqs.<region>.<partition DNS suffix>."
  type        = string
  default     = ""
}

################################################################################
# Topic
################################################################################

variable "topic_kms_master_key_id" {
  description = "KMS key (id, ARN or alias) that encrypts the update topic. null (the default) leaves the topic unencrypted. A customer managed key must let sns.amazonaws.com use it; the AWS managed alias/aws/sns key cannot be used with SQS subscribers."
  type        = string
  default     = null
}

################################################################################
# Update queue
################################################################################

variable "update_queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the update queue, in seconds (0 to 43200 (12 hours)). Must be at least the update processor's timeout."
  type        = number
  default     = 60

  validation {
    condition     = var.update_queue_visibility_timeout_seconds >= 0 && var.update_queue_visibility_timeout_seconds <= 43200
    error_message = "update_queue_visibility_timeout_seconds must be 0 to 43200."
  }
}

variable "update_queue_max_receive_count" {
  description = "Receives of one update-queue message before it moves to the update dead-letter queue (1 to 1000)."
  type        = number
  default     = 5

  validation {
    condition     = var.update_queue_max_receive_count >= 1 && var.update_queue_max_receive_count <= 1000
    error_message = "update_queue_max_receive_count must be 1 to 1000."
  }
}

variable "update_queue_oldest_message_alarm_seconds" {
  description = "The update-queue age alarm fires when its oldest message is older than this, in seconds (the update processor has fallen behind or is failing)."
  type        = number
  default     = 300
}

################################################################################
# Job queues
################################################################################

variable "worker_pools" {
  description = "Worker pools keyed by pool name. Each gets a job queue subscribed to `job.submit` events of its `applications`, restricted to `usernames` when that list is not empty."
  type = map(object({
    applications = list(string)
    usernames    = optional(list(string), [])
  }))
}

variable "job_queue_visibility_timeout_seconds" {
  description = "Visibility timeout (the job lease) of every job queue, in seconds (0 to 43200 (12 hours)). Workers extend it while a job runs."
  type        = number
  default     = 120

  validation {
    condition     = var.job_queue_visibility_timeout_seconds >= 0 && var.job_queue_visibility_timeout_seconds <= 43200
    error_message = "job_queue_visibility_timeout_seconds must be 0 to 43200."
  }
}

variable "job_queue_max_receive_count" {
  description = "Receives of one job message (lease expiries) before it moves to its pool's dead-letter queue (1 to 1000)."
  type        = number
  default     = 3

  validation {
    condition     = var.job_queue_max_receive_count >= 1 && var.job_queue_max_receive_count <= 1000
    error_message = "job_queue_max_receive_count must be 1 to 1000."
  }
}

variable "job_queue_receive_wait_time_seconds" {
  description = "Long-poll time of every job queue, in seconds (0 to 20)."
  type        = number
  default     = 20

  validation {
    condition     = var.job_queue_receive_wait_time_seconds >= 0 && var.job_queue_receive_wait_time_seconds <= 20
    error_message = "job_queue_receive_wait_time_seconds must be 0 to 20."
  }
}

################################################################################
# Dead-letter queues and alarms
################################################################################

variable "dead_letter_message_retention_seconds" {
  description = "How long dead-letter queues keep a message, in seconds (60 to 1209600 (14 days)). The maximum gives operators two weeks to inspect and redrive."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dead_letter_message_retention_seconds >= 60 && var.dead_letter_message_retention_seconds <= 1209600
    error_message = "dead_letter_message_retention_seconds must be 60 to 1209600."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm of this module fires (and clears). Empty means the alarms only change state."
  type        = list(string)
  default     = []
}

variable "topic_tracing_config" {
  description = "X-Ray tracing of the update topic: Active (SNS records segments and passes the trace header to the queues), PassThrough, or null (SNS's default)."
  type        = string
  default     = "Active"

  validation {
    # `||` does not short-circuit in HCL: contains() would fail on null.
    condition     = var.topic_tracing_config == null ? true : contains(["Active", "PassThrough"], var.topic_tracing_config)
    error_message = "topic_tracing_config must be Active or PassThrough."
  }
}
