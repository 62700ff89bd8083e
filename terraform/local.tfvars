# The local emulator stack (moto). Apply with:
#   terraform apply -var-file=local.tfvars -var aws_endpoint=http://127.0.0.1:<port>
# aws_endpoint is left out on purpose: the port belongs to the moto server of each run.

local_emulator   = true
default_ami_id   = "ami-12c6146b" # one of moto's built-in AMIs
lambda_image_tag = "local"

worker_pools = {
  linux = {
    applications = ["foqus", "fake", "command", "cstr"]
    max_size     = 1
  }
  windows = {
    applications  = ["AspenPlus", "ACM"]
    os            = "windows"
    instance_type = "m5.large"
    max_size      = 1
  }
}
