################################################################################
# API
#
# HTTP APIs (API Gateway v2) have no X-Ray tracing: traces start in the functions.
################################################################################

resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name_prefix}-api"
  protocol_type = "HTTP"
  description   = "FOQUS Cloud job service (turbine-compatible)."

  # API Gateway answers preflight requests itself and adds these headers to every response,
  # errors included.
  cors_configuration {
    allow_origins = var.cors_allow_origins
    allow_methods = var.cors_allow_methods
    allow_headers = var.cors_allow_headers
    max_age       = var.cors_max_age_seconds
  }
}

################################################################################
# Authorizer
################################################################################

resource "aws_apigatewayv2_authorizer" "this" {
  api_id                            = aws_apigatewayv2_api.this.id
  name                              = "${var.name_prefix}-authorizer"
  authorizer_type                   = "REQUEST"
  authorizer_uri                    = var.authorizer_invoke_arn
  authorizer_payload_format_version = "2.0"
  enable_simple_responses           = true
  # The answer is cached per Authorization header value for the TTL.
  identity_sources                 = ["$request.header.Authorization"]
  authorizer_result_ttl_in_seconds = var.authorizer_result_ttl_seconds
}

resource "aws_lambda_permission" "authorizer" {
  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = var.authorizer_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.this.id}"
}

################################################################################
# Integrations (one per function) and routes (one per routes.json entry)
################################################################################

locals {
  route_functions = toset(values(var.routes))
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.route_functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.function_invoke_arns[each.key]
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "this" {
  for_each = var.routes

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.this[each.value].id}"
  # Every route runs the authorizer but the few static ones listed as unauthenticated (the web
  # console's files: no data, and the console sends credentials on every request it makes).
  authorization_type = contains(var.unauthenticated_routes, each.key) ? "NONE" : "CUSTOM"
  authorizer_id      = contains(var.unauthenticated_routes, each.key) ? null : aws_apigatewayv2_authorizer.this.id
}

resource "aws_lambda_permission" "route" {
  for_each = local.route_functions

  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = var.function_names[each.key]
  principal     = "apigateway.amazonaws.com"
  # Any stage and route of this API, and of no other.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/*/*"
}

################################################################################
# Stage and access logs
################################################################################

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name_prefix}-api"
  retention_in_days = var.log_retention_days
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit = var.throttling_burst_limit
    throttling_rate_limit  = var.throttling_rate_limit
  }

  # Tighter limits on the routes that do the most work per call, so that one client's burst of
  # them cannot use up the whole stage's rate.
  dynamic "route_settings" {
    for_each = var.route_throttling

    content {
      route_key              = route_settings.key
      throttling_burst_limit = route_settings.value.burst_limit
      throttling_rate_limit  = route_settings.value.rate_limit
    }
  }

  # One JSON line per request. Never add $context.identity or request headers: the
  # Authorization header carries Basic credentials.
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId               = "$context.requestId"
      requestTime             = "$context.requestTime"
      sourceIp                = "$context.identity.sourceIp"
      httpMethod              = "$context.httpMethod"
      path                    = "$context.path"
      routeKey                = "$context.routeKey"
      status                  = "$context.status"
      protocol                = "$context.protocol"
      responseLength          = "$context.responseLength"
      latency                 = "$context.responseLatency"
      integrationLatency      = "$context.integrationLatency"
      integrationStatus       = "$context.integrationStatus"
      integrationErrorMessage = "$context.integrationErrorMessage"
      authorizerError         = "$context.authorizer.error"
    })
  }

  # API Gateway refuses settings for a route key that does not exist yet.
  depends_on = [aws_apigatewayv2_route.this]

  lifecycle {
    precondition {
      condition     = length(setsubtract(keys(var.route_throttling), keys(var.routes))) == 0
      error_message = "route_throttling names routes that handlers/routes.json does not have: ${join(", ", setsubtract(keys(var.route_throttling), keys(var.routes)))}."
    }
  }
}
