################################################################################
# Pool
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: role, launch template and group \"<prefix>-worker-<pool>\"."
  type        = string
}

variable "pool_name" {
  description = "Stable name of this pool (the key of the root's worker_pools map)."
  type        = string
}

variable "usernames" {
  description = "Users whose jobs this pool runs ([] = every user). A restricted pool's role reads staged files and writes outputs only under these users' prefixes, so their code never shares a machine, or credentials, with other users' data."
  type        = list(string)
  default     = []
}

variable "applications" {
  description = "Applications this pool's workers run (passed to the workers as WORKER_APPLICATIONS)."
  type        = list(string)
}

variable "os" {
  description = "\"linux\" (bash user data, systemd unit foqus-worker) or \"windows\" (PowerShell user data, service FoqusWorker)."
  type        = string
  default     = "linux"

  validation {
    condition     = contains(["linux", "windows"], var.os)
    error_message = "os must be \"linux\" or \"windows\"."
  }
}

################################################################################
# Instances
################################################################################

variable "ami_id" {
  description = "AMI of the worker instances (the Packer-built worker image for this OS)."
  type        = string

  validation {
    condition     = var.ami_id != ""
    error_message = "The pool has no AMI: set its ami_id, or the root variable default_ami_id."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the workers, e.g. \"t3.medium\"."
  type        = string
  default     = "t3.medium"
}

variable "min_size" {
  description = "Fewest worker instances (0 lets an idle pool cost nothing)."
  type        = number
  default     = 0
}

variable "max_size" {
  description = "Most worker instances."
  type        = number
  default     = 4
}

variable "vpc_id" {
  description = "VPC of the workers' security group; must contain subnet_ids."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets the Auto Scaling group launches into. They need a route to the AWS APIs (NAT gateway, VPC endpoints, or public IPs)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids must list at least one subnet."
  }
}

variable "environment" {
  description = "Environment every worker process gets (topic ARN, jobs table, buckets, region, ...), in addition to JOB_QUEUE_URL, WORKER_POOL and WORKER_APPLICATIONS which this module sets."
  type        = map(string)
  default     = {}
}

################################################################################
# Resources the workers use (for IAM)
################################################################################

variable "job_queue_url" {
  description = "URL of this pool's job queue (written into the user data). The root passes the URL known at plan time (messaging's planned_job_queue_urls), so the launch template is created while the queue is."
  type        = string
}

variable "job_queue_arn" {
  description = "ARN of this pool's job queue (IAM, instance tags, the scaling metric). Known at plan time too (planned_job_queue_arns)."
  type        = string
}

variable "topic_arn" {
  description = "ARN of the update topic workers publish job events to."
  type        = string
}

variable "jobs_table_arn" {
  description = "ARN of the jobs table (workers read it for kill checks)."
  type        = string
}

variable "simulations_bucket_arn" {
  description = "ARN of the simulations bucket (workers read staged files)."
  type        = string
}

variable "results_bucket_arn" {
  description = "ARN of the results bucket (workers write under outputs/ only)."
  type        = string
}

variable "metrics_namespace" {
  description = "CloudWatch namespace workers may put metrics into."
  type        = string
  default     = "FoqusCloud"
}

variable "log_retention_days" {
  description = "Retention of the pool's worker log group (/foqus/<name_prefix>/worker/<pool_name>), in days (a CloudWatch allowed value: 1, 3, 5, 7, 14, 30, 60, 90, ...; 0 = never expire)."
  type        = number
  default     = 30
}

variable "session_manager_enabled" {
  description = "Let the SSM agent register the instance and open Session Manager sessions (shell access without SSH or inbound ports): the exact actions that needs, in place of the AmazonSSMManagedInstanceCore managed policy."
  type        = bool
  default     = true
}

################################################################################
# Scaling
################################################################################

variable "scaling_policy_enabled" {
  description = "Create the scaling policies (backlog-per-instance target tracking, and the step policy and alarm that scale out from zero). The emulator stack turns them off (see main.tf)."
  type        = bool
  default     = true
}

variable "acceptable_latency_seconds" {
  description = "How long a job may wait in the queue before a worker takes it, in seconds: with seconds_per_job, sets the backlog per instance that scaling keeps (AWS's method for SQS workers)."
  type        = number
  default     = 600

  validation {
    condition     = var.acceptable_latency_seconds > 0
    error_message = "acceptable_latency_seconds must be greater than 0."
  }
}

variable "seconds_per_job" {
  description = "Instance-seconds one job takes: its run time divided by the jobs one instance runs at once (e.g. 240 s jobs, 4 at a time: 60). Backlog target = acceptable_latency_seconds / seconds_per_job."
  type        = number
  default     = 60

  validation {
    condition     = var.seconds_per_job > 0
    error_message = "seconds_per_job must be greater than 0."
  }
}

variable "termination_heartbeat_seconds" {
  description = "How long a terminating instance (scale-in, instance refresh, Spot rebalance) may take to finish or release its jobs before Auto Scaling terminates it anyway, in seconds (30 to 7200). The worker can extend it with RecordLifecycleActionHeartbeat."
  type        = number
  default     = 900

  validation {
    condition     = var.termination_heartbeat_seconds >= 30 && var.termination_heartbeat_seconds <= 7200
    error_message = "termination_heartbeat_seconds must be 30 to 7200."
  }
}

################################################################################
# Capacity
################################################################################

variable "spot" {
  description = "Run the pool on Spot capacity: a mixed-instances policy, all instances Spot, price-capacity-optimized over instance_type plus spot_instance_types, with capacity rebalancing. The worker treats an interruption notice like a scale-in."
  type        = bool
  default     = false
}

variable "spot_instance_types" {
  description = "More instance types Spot may choose from besides instance_type (more pools, fewer interruptions). Same architecture as the AMI."
  type        = list(string)
  default     = []
}

variable "instance_refresh_min_healthy_percentage" {
  description = "Share of the pool's capacity that stays in service while an instance refresh (a new launch template, e.g. a new AMI) replaces instances, in percent."
  type        = number
  default     = 50
}

variable "instance_warmup_seconds" {
  description = "Seconds after launch before a new instance's metrics count towards scaling (boot plus worker start)."
  type        = number
  default     = 300
}
