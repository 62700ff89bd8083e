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

variable "attach_ssm_managed_policy" {
  description = "Attach AmazonSSMManagedInstanceCore (Session Manager access instead of SSH). false on moto, which does not load AWS managed policies."
  type        = bool
  default     = true
}

################################################################################
# Scaling
################################################################################

variable "scaling_policy_enabled" {
  description = "Create the backlog-per-instance target-tracking policy. The emulator stack turns it off (see main.tf)."
  type        = bool
  default     = true
}

variable "backlog_per_instance_target" {
  description = "Job messages (visible + in flight) per in-service instance the target-tracking policy keeps."
  type        = number
  default     = 10
}

variable "instance_warmup_seconds" {
  description = "Seconds after launch before a new instance's metrics count towards scaling (boot plus worker start)."
  type        = number
  default     = 300
}
