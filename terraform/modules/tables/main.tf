################################################################################
# Table schemas
#
# The key schemas are a contract with core/*-store.ts: change them only together with the code.
# Every attribute that is not a key is schemaless; DynamoDB needs only the keys declared.
################################################################################

locals {
  tables = {
    users = {
      hash_key = "Username"
      # Lists users for the admin command with a Query, never a Scan: every item has Kind = "user".
      global_indexes = {
        ByKind = { hash_key = "Kind", range_key = "Username", projection = "INCLUDE", non_key = ["Plan", "Roles", "Created"] }
      }
    }
    sessions = {
      hash_key  = "Username"
      range_key = "SessionId"
    }
    jobs = {
      hash_key  = "SessionId"
      range_key = "JobId"
      # The submit outbox: every claim into `submit` reaches the submit publisher through the
      # stream (core/jobs/submit-outbox.ts), so no claimed job is left without its message.
      stream = "NEW_AND_OLD_IMAGES"
      # Set only on finished jobs, long after they finish: missing is never a state.
      ttl_attribute = "ExpiresAt"
      # start, stop and kill read exactly the jobs of a session in one state, with consistent reads.
      local_indexes = {
        ByState = { range_key = "State", projection = "INCLUDE", non_key = ["Application", "Username"] }
      }
      # GET /job/{id} and POST /job/{id}/terminate find a job by its id alone (the turbine client's
      # [Job] URL has no session): a Query on (JobId, Username), so only the caller's jobs match.
      global_indexes = {
        ByJob = { hash_key = "JobId", range_key = "Username", projection = "KEYS_ONLY", non_key = null }
      }
    }
    results = {
      hash_key  = "SessionId"
      range_key = "Key"
    }
    simulations = {
      hash_key  = "Username"
      range_key = "Name"
    }
    # Result tiers (core/tiers/archive-store.ts): a user's archive units and pending archive
    # requests, so an upgrade finds everything to restore with one Query on the user's name.
    archives = {
      hash_key  = "Username"
      range_key = "Key"
    }
    idempotency = {
      # Layout of the Powertools idempotency persistence layer.
      hash_key      = "id"
      ttl_attribute = "expiration"
    }
  }
}

################################################################################
# Tables
################################################################################

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  name                        = "${var.name_prefix}-${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  range_key                   = try(each.value.range_key, null)
  deletion_protection_enabled = var.deletion_protection_enabled

  attribute {
    name = each.value.hash_key
    type = "S"
  }

  dynamic "attribute" {
    for_each = can(each.value.range_key) ? [each.value.range_key] : []

    content {
      name = attribute.value
      type = "S"
    }
  }

  # Index key attributes other than the table's keys (all strings).
  dynamic "attribute" {
    for_each = setsubtract(
      toset(concat(
        [for index in values(try(each.value.local_indexes, {})) : index.range_key],
        flatten([for index in values(try(each.value.global_indexes, {})) : [index.hash_key, index.range_key]]),
      )),
      [each.value.hash_key, try(each.value.range_key, "")],
    )

    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "local_secondary_index" {
    for_each = try(each.value.local_indexes, {})

    content {
      name               = local_secondary_index.key
      range_key          = local_secondary_index.value.range_key
      projection_type    = local_secondary_index.value.projection
      non_key_attributes = local_secondary_index.value.non_key
    }
  }

  dynamic "global_secondary_index" {
    for_each = try(each.value.global_indexes, {})

    content {
      name               = global_secondary_index.key
      hash_key           = global_secondary_index.value.hash_key
      range_key          = global_secondary_index.value.range_key
      projection_type    = global_secondary_index.value.projection
      non_key_attributes = global_secondary_index.value.non_key
    }
  }

  dynamic "ttl" {
    for_each = can(each.value.ttl_attribute) ? [each.value.ttl_attribute] : []

    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  stream_enabled   = can(each.value.stream)
  stream_view_type = try(each.value.stream, null)

  point_in_time_recovery {
    enabled = var.point_in_time_recovery_enabled
  }

  # Encrypted with the AWS managed key (alias/aws/dynamodb), which CloudTrail can audit.
  server_side_encryption {
    enabled = true
  }
}
