################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: function \"<prefix>-<name>\", role \"<prefix>-<name>-lambda\", repository \"<prefix>-lambda\"."
  type        = string
}

################################################################################
# Image
################################################################################

variable "image_uri" {
  description = "Container image URI of every function. \"\" (the default) means \"<this module's ECR repository URL>:<image_tag>\"."
  type        = string
  default     = ""
}

variable "image_tag" {
  description = "Image tag in this module's ECR repository, used when image_uri is \"\"."
  type        = string
  default     = "latest"
}

variable "image_digest" {
  description = "Digest (\"sha256:<64 hex>\") of the image in this module's ECR repository that every function runs, used when image_uri is \"\". Takes precedence over image_tag; the deploy chain (make deploy) sets it from the push it just made."
  type        = string
  default     = ""

  validation {
    condition     = var.image_digest == "" || can(regex("^sha256:[0-9a-f]{64}$", var.image_digest))
    error_message = "image_digest must be empty or \"sha256:\" followed by 64 lowercase hex digits."
  }
}

variable "keep_images" {
  description = "Images the ECR lifecycle policy keeps (the newest ones): how far back an image rollback can go."
  type        = number
  default     = 20
}

variable "untagged_image_expiry_days" {
  description = "Days after which the ECR lifecycle policy expires untagged images."
  type        = number
  default     = 7
}

variable "force_delete" {
  description = "Let `terraform destroy` delete the ECR repository while it still holds images. Keep false for real stacks; the emulator stack sets true."
  type        = bool
  default     = false
}

################################################################################
# Functions
################################################################################

variable "http_function_names" {
  description = "Functions that serve HTTP routes (the distinct values of handlers/routes.json). Each gets a function running \"<name>.handler\". `authorizer` and `update-processor` are always added."
  type        = set(string)
}

variable "catch_all_function_names" {
  description = "HTTP functions that serve the $default route: they match the normalised path again and run the matching HTTP handler in process, so each gets the union of every other HTTP function's grants. Must be a subset of http_function_names."
  type        = set(string)
  default     = []

  validation {
    condition     = length(setsubtract(var.catch_all_function_names, var.http_function_names)) == 0
    error_message = "catch_all_function_names must all be in http_function_names."
  }
}

variable "environment" {
  description = "Environment variables given to every function (table and bucket names, topic ARN, worker pools, Powertools settings)."
  type        = map(string)
}

variable "architectures" {
  description = "Instruction set of every function: [\"arm64\"] or [\"x86_64\"]; must match the image."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && contains(["arm64", "x86_64"], var.architectures[0])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "function_settings" {
  description = "Memory (MB, 128 to 10240) and timeout (seconds, 1 to 900) per function name. A function not listed gets 512 MB and 29 s."
  type = map(object({
    memory_size = optional(number, 512)
    timeout     = optional(number, 29)
  }))
  default = {
    authorizer         = { memory_size = 256, timeout = 5 }
    "update-processor" = { memory_size = 512, timeout = 15 }
  }
}

variable "update_processor_reserved_concurrency" {
  description = "Concurrent executions reserved for the update processor, so that a flood on the API cannot starve the single writer of job state. At least update_maximum_concurrency (the event source mapping's ceiling). null reserves none."
  type        = number
  default     = 10

  validation {
    condition     = var.update_processor_reserved_concurrency == null || try(var.update_processor_reserved_concurrency >= 2, false)
    error_message = "update_processor_reserved_concurrency must be null or at least 2."
  }
}

variable "log_retention_days" {
  description = "Retention of every function's log group, in days (a CloudWatch allowed value: 1, 3, 5, 7, 14, 30, 60, 90, ...; 0 = never expire)."
  type        = number
  default     = 30
}

################################################################################
# Resources the functions use (for IAM)
################################################################################

variable "table_arns" {
  description = "Table ARN per logical table (users, sessions, jobs, results, simulations, idempotency)."
  type        = map(string)
}

variable "bucket_arns" {
  description = "Bucket ARN per logical bucket (simulations, results)."
  type        = map(string)
}

variable "topic_arn" {
  description = "ARN of the update topic (session and update-processor publish to it)."
  type        = string
}

variable "update_queue_arn" {
  description = "ARN of the update queue the update processor consumes, from the queue itself: the event source mapping needs the queue to exist."
  type        = string
}

variable "jobs_stream_arn" {
  description = "Stream ARN of the jobs table, which feeds the submit publisher."
  type        = string
}

variable "planned_update_queue_arn" {
  description = "The same ARN known at plan time (messaging's planned_update_queue_arn), for the IAM grant: the roles' policies, and so the functions, are then created while the queue is, instead of after it."
  type        = string
}

################################################################################
# Update processor trigger
################################################################################

variable "job_dead_letter_queue_arns" {
  description = "ARNs of the worker pools' job dead-letter queues, by pool name; the update processor consumes them."
  type        = map(string)
  default     = {}
}

variable "update_event_source_enabled" {
  description = "Whether the update queue → update-processor event source mapping polls. Must be false on moto: an enabled mapping to an Image function makes every SendMessage to the queue fail; a local poller stands in."
  type        = bool
  default     = true
}

variable "update_batch_size" {
  description = "Messages per update-processor invocation (1 to 10 without a batching window, up to 10000 with one)."
  type        = number
  default     = 10
}

variable "update_maximum_batching_window_seconds" {
  description = "How long the event source mapping gathers a batch before invoking, in seconds (0 to 300)."
  type        = number
  default     = 1
}

variable "update_maximum_concurrency" {
  description = "Most concurrent update-processor invocations the mapping starts (2 to 1000)."
  type        = number
  default     = 5

  validation {
    condition     = var.update_maximum_concurrency >= 2 && var.update_maximum_concurrency <= 1000
    error_message = "update_maximum_concurrency must be 2 to 1000."
  }
}

variable "archive_queue_arn" {
  description = "ARN of the archive queue (planned): the update processor and the archiver send to it, the archiver consumes it."
  type        = string
}

variable "restore_queue_arn" {
  description = "ARN of the restore queue (planned): the user function sends restore requests, the restorer consumes it."
  type        = string
}

variable "tier_queues_ready" {
  description = "The archive and restore queue ARNs once the queues exist (keys archive, restore), for the event source mappings."
  type        = map(string)
}

variable "notification_topic_arn" {
  description = "ARN of the topic the update processor tells finished sessions to."
  type        = string
}

variable "archive_scheduler_role_arn" {
  description = "Role EventBridge Scheduler delivers archive requests with (passed by the functions that create schedules)."
  type        = string
}

variable "archive_schedule_group_name" {
  description = "EventBridge Scheduler group of the archive schedules."
  type        = string
}

################################################################################
# Fan-out queue and trigger
################################################################################

variable "sqs_endpoint" {
  description = "Endpoint the provider sends SQS calls to, when not the region's own (the emulator's URL): the fan-out queue's URL starts with it. \"\" means https://sqs.<region>.<partition DNS suffix>."
  type        = string
  default     = ""
}

variable "fanout_visibility_timeout_seconds" {
  description = "Visibility timeout of the fan-out queue, in seconds (0 to 43200): at least 6 times the fan-out function's timeout. Also how long a page whose run died waits before it runs again."
  type        = number
  default     = 360
}

variable "fanout_max_receive_count" {
  description = "Receives of one fan-out page before it moves to the dead-letter queue (1 to 1000)."
  type        = number
  default     = 5
}

variable "fanout_dead_letter_message_retention_seconds" {
  description = "How long the fan-out dead-letter queue keeps a page, in seconds (60 to 1209600, 14 days)."
  type        = number
  default     = 1209600
}

variable "alarm_actions" {
  description = "Where the fan-out DLQ alarm goes (the alarm topic)."
  type        = list(string)
  default     = []
}
