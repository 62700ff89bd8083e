################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: dashboard \"<prefix>-operations\", alarms \"<prefix>-...\"."
  type        = string
}

################################################################################
# What the dashboard shows (names from the other modules' outputs)
################################################################################

variable "update_queue_name" {
  description = "Name of the update queue (all events; read by the update processor)."
  type        = string
}

variable "update_dead_letter_queue_name" {
  description = "Name of the update queue's dead-letter queue."
  type        = string
}

variable "job_queue_names" {
  description = "Job queue name per worker pool name."
  type        = map(string)
  default     = {}
}

variable "job_dead_letter_queue_names" {
  description = "Job dead-letter queue name per worker pool name."
  type        = map(string)
  default     = {}
}

variable "function_names" {
  description = "Lambda function name per handler name (application, session, ..., authorizer, update-processor)."
  type        = map(string)
  default     = {}
}

variable "update_processor_function_name" {
  description = "Name of the update-processor function; its Errors alarm fires on any error."
  type        = string
}

variable "api_id" {
  description = "ID of the HTTP API (API Gateway v2); its metrics are in AWS/ApiGateway under the dimension ApiId."
  type        = string
}

variable "autoscaling_group_names" {
  description = "Auto Scaling group name per worker pool name (the groups publish GroupInServiceInstances)."
  type        = map(string)
  default     = {}
}

variable "pool_max_sizes" {
  description = "max_size per worker pool name: a pool whose desired capacity stays at it for 15 minutes alarms."
  type        = map(number)
  default     = {}
}

variable "pool_backlog_targets" {
  description = "Backlog per instance that each pool's scaling keeps (worker-pool's backlog_per_instance_target), drawn beside the pool's backlog."
  type        = map(number)
  default     = {}
}

variable "job_states" {
  description = "Values of the State dimension of the JobsEnteredState metric that the dashboard graphs."
  type        = list(string)
  default     = ["submit", "setup", "running", "success", "error", "terminate", "expired"]
}

variable "duration_phases" {
  description = "Values of the Phase dimension of the JobDuration metric that the dashboard graphs, one graph each (p50, p90, p99)."
  type        = list(string)
  default     = ["queued", "setup", "running", "total"]

  validation {
    condition     = length(var.duration_phases) > 0 && length(var.duration_phases) <= 6
    error_message = "duration_phases must list 1 to 6 phases (one dashboard row)."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the service's own EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "FoqusCloud"
}

variable "metrics_service" {
  description = "Value of the `service` dimension Powertools adds to every EMF metric (POWERTOOLS_SERVICE_NAME)."
  type        = string
  default     = "foqus-cloud"
}

variable "period_seconds" {
  description = "Period of every dashboard graph, in seconds (60 or a multiple of 60)."
  type        = number
  default     = 60

  validation {
    condition     = var.period_seconds >= 60 && var.period_seconds % 60 == 0
    error_message = "period_seconds must be 60 or a multiple of 60."
  }
}

################################################################################
# Alarms
################################################################################

variable "alarm_actions" {
  description = "More ARNs notified when an alarm of this module fires (and clears), besides the module's own alarm topic."
  type        = list(string)
  default     = []
}

variable "alarm_email" {
  description = "Address subscribed by email to the alarm topic (AWS sends a confirmation message first). \"\" subscribes nobody."
  type        = string
  default     = ""
}

variable "extra_alarm_arns" {
  description = "ARNs of alarms made elsewhere (modules/messaging) that the dashboard's alarm widget shows too."
  type        = list(string)
  default     = []
}

variable "job_queue_oldest_message_alarm_seconds" {
  description = "A job queue's age alarm fires when its oldest message has waited longer than this, in seconds (the pool is not taking jobs: no instances, broken workers, or a backlog scaling cannot absorb)."
  type        = number
  default     = 1800

  validation {
    condition     = var.job_queue_oldest_message_alarm_seconds > 0
    error_message = "job_queue_oldest_message_alarm_seconds must be greater than 0."
  }
}

variable "api_5xx_rate_alarm_percent" {
  description = "The API error alarm fires when 5xx answers exceed this share of all requests over 5 minutes, in percent."
  type        = number
  default     = 1

  validation {
    condition     = var.api_5xx_rate_alarm_percent > 0 && var.api_5xx_rate_alarm_percent <= 100
    error_message = "api_5xx_rate_alarm_percent must be greater than 0 and at most 100."
  }
}

