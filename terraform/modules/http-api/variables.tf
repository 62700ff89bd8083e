################################################################################
# Naming
################################################################################

variable "name_prefix" {
  description = "Prefix of every name: API \"<prefix>-api\", authorizer \"<prefix>-authorizer\", ..."
  type        = string
}

################################################################################
# Routes and integrations
################################################################################

variable "routes" {
  description = "Every route of the API: route key (\"POST /session/{sid}\") => name of the function that serves it. Read from handlers/routes.json by the root module."
  type        = map(string)
}

variable "unauthenticated_routes" {
  description = "Route keys of `routes` served without the authorizer (authorization NONE): only static files that hold no data, such as the web console's. Read from handlers/routes.json (`unauthenticated`) by the root module."
  type        = set(string)
  default     = []

  validation {
    condition     = length(setsubtract(var.unauthenticated_routes, keys(var.routes))) == 0
    error_message = "unauthenticated_routes must all be route keys of routes."
  }
}

variable "function_names" {
  description = "Lambda function name per handler name; must contain every function named in routes."
  type        = map(string)
}

variable "function_invoke_arns" {
  description = "Lambda invoke ARN per handler name; must contain every function named in routes."
  type        = map(string)
}

variable "authorizer_function_name" {
  description = "Name of the Lambda function that authorizes every request."
  type        = string
}

variable "authorizer_invoke_arn" {
  description = "Invoke ARN of the authorizer function."
  type        = string
}

variable "authorizer_result_ttl_seconds" {
  description = "How long API Gateway caches an authorizer answer per Authorization header, in seconds (0 to 3600; 0 disables caching)."
  type        = number
  default     = 300

  validation {
    condition     = var.authorizer_result_ttl_seconds >= 0 && var.authorizer_result_ttl_seconds <= 3600
    error_message = "authorizer_result_ttl_seconds must be 0 to 3600."
  }
}

################################################################################
# CORS
################################################################################

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser. [\"*\"] (the default) allows any origin; credentials are never allowed with it."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_methods" {
  description = "Methods the API's CORS configuration allows (the root module reads them from handlers/cors.json, the list the functions send too)."
  type        = list(string)
}

variable "cors_allow_headers" {
  description = "Request headers the API's CORS configuration allows (from handlers/cors.json, as above)."
  type        = list(string)
}

variable "cors_max_age_seconds" {
  description = "How long browsers may cache a CORS preflight answer, in seconds (0 to 86400)."
  type        = number
  default     = 3600
}

################################################################################
# Stage
################################################################################

variable "throttling_burst_limit" {
  description = "Default route throttling burst limit of the $default stage, in requests."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Default route throttling steady-state rate of the $default stage, in requests per second."
  type        = number
  default     = 1000
}

variable "route_throttling" {
  description = "Per-route throttling: route key of `routes` => burst_limit (requests) and rate_limit (requests per second). Routes not listed get the stage's default limits."
  type = map(object({
    burst_limit = number
    rate_limit  = number
  }))
  default = {}
}

variable "log_retention_days" {
  description = "Retention of the access log group, in days (a CloudWatch allowed value: 1, 3, 5, 7, 14, 30, 60, 90, ...; 0 = never expire)."
  type        = number
  default     = 30
}
