################################################################################
# Provider and emulator
################################################################################

variable "region" {
  description = "AWS region to deploy into, e.g. \"us-east-1\"."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint" {
  description = "Endpoint URL that every AWS service call goes to, e.g. \"http://127.0.0.1:5700\" for a local moto server. Empty (the default) means real AWS with the normal provider behaviour."
  type        = string
  default     = ""

  validation {
    condition     = var.aws_endpoint == "" || can(regex("^https?://", var.aws_endpoint))
    error_message = "aws_endpoint must be empty (real AWS) or an http(s):// URL such as http://127.0.0.1:5700."
  }
}

variable "local_emulator" {
  description = "True when applying to the local emulator (moto). Turns off what moto cannot host: enabled Lambda event source mappings (an enabled mapping to an Image function makes every SendMessage fail), AWS managed IAM policy attachments, and the metric-math scaling policy; empties buckets and the ECR repository on destroy."
  type        = bool
  default     = false
}

variable "name_prefix" {
  description = "Prefix of every resource name (\"<prefix>-jobs\", \"<prefix>-api\", ...). 1 to 20 characters: lowercase letters, digits and hyphens, starting with a letter (bucket names add 41 characters and may not exceed 63)."
  type        = string
  default     = "foqus"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.name_prefix))
    error_message = "name_prefix must be 1 to 20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "tags" {
  description = "Extra tags for every resource, merged over the default tags Project = \"foqus-cloud\" and ManagedBy = \"terraform\". Not applied when local_emulator is true (see providers.tf)."
  type        = map(string)
  default     = {}
}

################################################################################
# Worker pools
################################################################################

variable "worker_pools" {
  description = <<-EOT
    Worker pools, keyed by a stable pool name (used in queue, role and group names). Each pool gets
    its own job queue, receiving the `job.submit` events of its `applications` (and only of
    `usernames`, when listed), and an Auto Scaling group of `instance_type` instances between
    `min_size` and `max_size` (instances) booted from `ami_id` ("" = `worker_ami_ids[os]`, else
    `default_ami_id`). `os` is "linux" or "windows" and selects the user-data format.

    Scaling: each pool keeps its backlog per in-service instance at `acceptable_latency_seconds` ÷
    `seconds_per_job` (`seconds_per_job`: instance-seconds per job, i.e. a job's run time divided
    by the jobs one instance runs at once). `spot = true` runs the pool on Spot capacity (a
    mixed-instances policy over `instance_type` plus `spot_instance_types`). A terminating
    instance gets `termination_heartbeat_seconds` to finish or release its jobs.

    An application is served by one open pool (two would each receive, and run, every job of it;
    a validation refuses that), plus any pools restricted to some users, which take those users'
    jobs instead (the open pool's filter then leaves them out). `foqus` runs on the Linux pool by
    default: flowsheets of Python and plain models need no Windows. A deployment whose flowsheets have Aspen Plus or ACM nodes moves
    `foqus` to the Windows pool (SimSinter and Aspen are there).
  EOT
  type = map(object({
    applications  = list(string)
    usernames     = optional(list(string), [])
    instance_type = optional(string, "t3.medium")
    ami_id        = optional(string, "")
    min_size      = optional(number, 0)
    max_size      = optional(number, 4)
    os            = optional(string, "linux")

    # Scaling and capacity (modules/worker-pool/README.md).
    acceptable_latency_seconds    = optional(number, 600)
    seconds_per_job               = optional(number, 60)
    spot                          = optional(bool, false)
    spot_instance_types           = optional(list(string), [])
    termination_heartbeat_seconds = optional(number, 900)
  }))
  default = {
    linux = {
      applications = ["foqus", "fake", "command", "cstr"]
    }
    windows = {
      applications  = ["AspenPlus", "ACM"]
      os            = "windows"
      instance_type = "m5.large"
    }
  }

  validation {
    condition     = alltrue([for name, pool in var.worker_pools : can(regex("^[a-z][a-z0-9-]{0,15}$", name))])
    error_message = "Worker pool names must be 1 to 16 lowercase letters, digits or hyphens, starting with a letter."
  }

  validation {
    condition     = alltrue([for pool in var.worker_pools : length(pool.applications) > 0])
    error_message = "Every worker pool must list at least one application."
  }

  validation {
    # Per application: one open pool at most, and no user in two restricted pools.
    condition = alltrue([
      for app in distinct(flatten([for pool in var.worker_pools : [for a in pool.applications : lower(a)]])) :
      length([for pool in var.worker_pools : pool if contains([for a in pool.applications : lower(a)], app) && length(pool.usernames) == 0]) <= 1
      && length(flatten([for pool in var.worker_pools : pool.usernames if contains([for a in pool.applications : lower(a)], app)])) == length(distinct(flatten([for pool in var.worker_pools : pool.usernames if contains([for a in pool.applications : lower(a)], app)])))
    ])
    error_message = "Each job must reach one pool: an application may be listed by one pool open to every user, plus pools restricted to users (usernames) that no other pool of that application also names."
  }

  validation {
    condition     = alltrue([for pool in var.worker_pools : contains(["linux", "windows"], pool.os)])
    error_message = "A worker pool's os must be \"linux\" or \"windows\"."
  }

  validation {
    condition     = alltrue([for pool in var.worker_pools : pool.min_size >= 0 && pool.min_size <= pool.max_size])
    error_message = "A worker pool needs 0 <= min_size <= max_size."
  }
}

variable "default_ami_id" {
  description = "AMI for pools whose ami_id is \"\" (the Packer-built worker image). Must be set when any pool leaves ami_id empty; the emulator uses moto's built-in \"ami-12c6146b\"."
  type        = string
  default     = ""
}

variable "worker_vpc_id" {
  description = "VPC the workers run in. \"\" (the default) means the region's default VPC."
  type        = string
  default     = ""
}

variable "worker_subnet_ids" {
  description = "Subnets the worker Auto Scaling groups launch into (they need a route to the AWS APIs: NAT, VPC endpoints or public IPs). Empty (the default) means every subnet of the worker VPC."
  type        = list(string)
  default     = []
}

################################################################################
# Messaging
################################################################################

variable "update_queue_visibility_timeout_seconds" {
  description = "Visibility timeout of the update queue, in seconds (0 to 43200). At least 6 times the update-processor's timeout, as AWS advises for Lambda consumers of SQS (checked at plan time): a batch still being processed must not reappear."
  type        = number
  default     = 90
}

variable "update_queue_max_receive_count" {
  description = "Receives of one update-queue message before it moves to the update dead-letter queue (1 to 1000)."
  type        = number
  default     = 5
}

variable "job_queue_visibility_timeout_seconds" {
  description = "Visibility timeout (the job lease) of each job queue, in seconds (0 to 43200). Workers extend it while a job runs."
  type        = number
  default     = 120
}

variable "job_queue_max_receive_count" {
  description = "Receives (lease expiries) of one job message before it moves to its pool's dead-letter queue (1 to 1000)."
  type        = number
  default     = 3
}

variable "topic_kms_master_key_id" {
  description = "KMS key (id, ARN or alias) encrypting the update topic. The default is the AWS managed key alias/aws/sns (the publishers are this stack's own roles); a customer managed key must allow sns.amazonaws.com and the publishers to use it. null leaves the topic unencrypted."
  type        = string
  default     = "alias/aws/sns"
}

variable "alarm_actions" {
  description = "ARNs (e.g. an operations SNS topic) notified when a dead-letter queue receives messages or the update queue falls behind. Empty means the alarms only change state."
  type        = list(string)
  default     = []
}

################################################################################
# Tables and buckets
################################################################################

variable "deletion_protection_enabled" {
  description = "Enable DynamoDB deletion protection on every table. Turn on for production stacks; it makes `terraform destroy` fail until turned off again."
  type        = bool
  default     = false
}

################################################################################
# Functions
################################################################################

variable "lambda_image_uri" {
  description = "Container image URI for every Lambda function. \"\" (the default) means \"<ECR repository URL>:<lambda_image_tag>\" of this stack's repository."
  type        = string
  default     = ""
}

variable "lambda_image_tag" {
  description = "Tag of the Lambda image in this stack's ECR repository, used when lambda_image_uri is \"\"."
  type        = string
  default     = "latest"
}

variable "lambda_architectures" {
  description = "Instruction set of every function: [\"arm64\"] (the default) or [\"x86_64\"]; must match the image."
  type        = list(string)
  default     = ["arm64"]
}

variable "function_settings" {
  description = "Memory (MB, 128 to 10240) and timeout (seconds, 1 to 900) per function name; a function not listed gets 512 MB and 29 s (the HTTP API's integration limit is 30 s)."
  type = map(object({
    memory_size = optional(number, 512)
    timeout     = optional(number, 29)
  }))
  default = {
    authorizer         = { memory_size = 256, timeout = 5 }
    "update-processor" = { memory_size = 512, timeout = 15 }
  }
}

variable "log_retention_days" {
  description = "Retention of the function, API access and worker log groups, in days (one of CloudWatch's allowed values: 1, 3, 5, 7, 14, 30, 60, 90, ...; 0 = never expire)."
  type        = number
  default     = 30
}

################################################################################
# HTTP API
################################################################################

variable "cors_allow_origins" {
  description = "Origins allowed by the API's CORS configuration. The default [\"*\"] suits desktop clients and tools; list the web origins for a browser front end."
  type        = list(string)
  default     = ["*"]
}

variable "authorizer_result_ttl_seconds" {
  description = "How long API Gateway caches an authorizer answer per Authorization header, in seconds (0 to 3600; 0 disables caching)."
  type        = number
  default     = 300
}

variable "throttling_burst_limit" {
  description = "Default route throttling burst limit of the API stage, in requests."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Default route throttling steady-state rate of the API stage, in requests per second."
  type        = number
  default     = 1000
}

################################################################################
# Deployment and operations (make deploy, make ami, alarms)
################################################################################

variable "lambda_image_digest" {
  description = "Digest (\"sha256:...\") of the Lambda image in this stack's ECR repository; takes precedence over lambda_image_tag, so each build redeploys. `make deploy` sets it from the image it pushed (.deploy/<env>/image.json)."
  type        = string
  default     = ""
}

variable "update_processor_reserved_concurrency" {
  description = "Concurrent executions reserved for the update processor (a flood on the API cannot starve it). AWS keeps 100 unreserved: an account whose concurrency quota is below 110 (new accounts may start at 10) must raise it or set null."
  type        = number
  default     = 10
}

variable "route_throttling" {
  description = "Per-route throttling of the API stage: route key (\"POST /session/{sid}\") => burst (requests) and rate (requests per second). Routes not listed get throttling_burst_limit / throttling_rate_limit."
  type = map(object({
    burst_limit = number
    rate_limit  = number
  }))
  default = {
    # Appends write up to 1,000 jobs each; result pages and uploads move the most data.
    "POST /session/{sid}"                  = { burst_limit = 100, rate_limit = 50 }
    "POST /session/{sid}/result/{gen}"     = { burst_limit = 100, rate_limit = 50 }
    "PUT /simulation/{name}/input/{path+}" = { burst_limit = 50, rate_limit = 20 }
  }
}

variable "worker_ami_ids" {
  description = "Worker AMI per OS (\"linux\", \"windows\") for pools whose ami_id is \"\"; falls back to default_ami_id. `make ami` writes it into terraform/environments/<env>.amis.tfvars.json from Packer's manifest."
  type        = map(string)
  default     = {}
}

variable "alarm_email" {
  description = "Address subscribed (by email, to be confirmed from the message AWS sends) to the alarm topic that every alarm notifies. \"\" subscribes nobody."
  type        = string
  default     = ""
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the buckets and the image repository with their contents. `make destroy` sets it (with deletion_protection_enabled = false) in the apply it runs before destroying; keep false otherwise."
  type        = bool
  default     = false
}

################################################################################
# Result tiers
################################################################################

variable "archive_grace_seconds" {
  description = "Seconds a free user's finished results stay readable before they move to archive storage. Up to 900 uses SQS delay; beyond, EventBridge Scheduler one-time schedules."
  type        = number
  default     = 300

  validation {
    condition     = var.archive_grace_seconds >= 1
    error_message = "archive_grace_seconds must be at least 1."
  }
}

variable "archive_storage_class" {
  description = "S3 storage class archived results go to: GLACIER (Flexible Retrieval; Expedited restores in minutes) or DEEP_ARCHIVE (cheaper; Standard restores within 12 hours)."
  type        = string
  default     = "GLACIER"

  validation {
    condition     = contains(["GLACIER", "DEEP_ARCHIVE"], var.archive_storage_class)
    error_message = "archive_storage_class must be GLACIER or DEEP_ARCHIVE (both need a restore, which is what an upgrade does)."
  }
}
