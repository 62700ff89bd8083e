# A development stack beside production (another name prefix, same or another account):
# `ENV=dev make deploy`. Smaller pools, no deletion protection.

region      = "us-east-1"
name_prefix = "foqus-dev"

lambda_architectures = ["arm64"]

deletion_protection_enabled = false

alarm_email = ""

worker_pools = {
  linux = {
    applications = ["foqus", "fake", "command", "cstr"]
    max_size     = 2
    spot         = true
  }
  windows = {
    applications  = ["AspenPlus", "ACM"]
    os            = "windows"
    instance_type = "m5.large"
    max_size      = 1
  }
}
