terraform {
  # S3-native state locking (use_lockfile) in the stacks this bucket holds needs 1.10.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}
