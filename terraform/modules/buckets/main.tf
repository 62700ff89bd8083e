################################################################################
# Naming
#
# Bucket names are global: the account id and region make them unique per stack.
################################################################################

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  buckets = {
    # Staged model files, uploaded by users: versioned so that an overwrite or delete can be undone.
    simulations = { versioned = true }
    # Outputs written once by workers and the update processor.
    results = { versioned = false }
  }
}

################################################################################
# Buckets
################################################################################

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  bucket        = "${var.name_prefix}-${each.key}-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  # ACLs off: access is decided by IAM and bucket policies only.
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = { for key, bucket in local.buckets : key => bucket if bucket.versioned }

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

# Every bucket refuses requests that do not use TLS (presigned URLs included). Not on the
# emulator: moto enforces bucket policies and is served over plain HTTP, so it would refuse all.
data "aws_iam_policy_document" "tls_only" {
  for_each = var.deny_insecure_transport ? local.buckets : {}

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this[each.key].arn, "${aws_s3_bucket.this[each.key].arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = var.deny_insecure_transport ? local.buckets : {}

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # S3 refuses concurrent changes to one bucket's access settings.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# No lifecycle configuration yet. Add one (noncurrent version expiry on simulations, the Glacier
# tiering of results) together with its tests. Its create waits 55 s in the provider whatever the
# backend answers (moto reads the rules back equal at once; see ../../README.md), one
# configuration per bucket, all in parallel.

################################################################################
# CORS
#
# Desktop clients upload and download staged files straight to S3 with presigned URLs.
################################################################################

resource "aws_s3_bucket_cors_configuration" "simulations" {
  bucket = aws_s3_bucket.this["simulations"].id

  cors_rule {
    allowed_methods = ["PUT", "GET"]
    allowed_origins = var.simulations_cors_allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = var.simulations_cors_max_age_seconds
  }
}
