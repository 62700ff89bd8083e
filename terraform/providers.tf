################################################################################
# AWS provider
#
# One provider for the whole stack. With `aws_endpoint` empty it behaves as any AWS provider
# (credentials from the environment, the real service endpoints). With `aws_endpoint` set, every
# service this stack touches is sent to that URL: the local emulator (moto), see
# ../../shared/notes/moto.md Part 2.
################################################################################

locals {
  emulated = var.aws_endpoint != ""

  # null leaves the provider's default (the real endpoint) in place.
  endpoint = local.emulated ? var.aws_endpoint : null
}

provider "aws" {
  region = var.region

  # Emulator-only settings; null means "provider default" on real AWS.
  access_key                  = local.emulated ? "test" : null
  secret_key                  = local.emulated ? "test" : null
  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  skip_region_validation      = local.emulated
  s3_use_path_style           = local.emulated
  # Unimplemented emulator calls answer HTTP 500, which the provider retries: fail in seconds
  # instead of 25 retries.
  max_retries = local.emulated ? 3 : null
  # false on both: with true, execute-api source ARNs get an empty account field.
  skip_requesting_account_id = false

  endpoints {
    apigatewayv2 = local.endpoint
    autoscaling  = local.endpoint
    cloudwatch   = local.endpoint
    dynamodb     = local.endpoint
    ec2          = local.endpoint
    ecr          = local.endpoint
    iam          = local.endpoint
    kms          = local.endpoint
    lambda       = local.endpoint
    logs         = local.endpoint
    s3           = local.endpoint
    sns          = local.endpoint
    sqs          = local.endpoint
    sts          = local.endpoint
  }

  # No default tags on the emulator: moto 5.2.1 copies a launch template's own tags into its
  # instance tag specifications (CreateLaunchTemplate), a perpetual diff on every plan. Remove
  # the condition when moto (or local/env/moto_launcher.py) fixes it.
  default_tags {
    tags = var.local_emulator ? {} : merge({ Project = "foqus-cloud", ManagedBy = "terraform" }, var.tags)
  }
}
