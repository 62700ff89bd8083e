# Production: `ENV=prod make deploy` applies the root module with these values (terraform/README.md,
# "Deploying to AWS"). Variables not set here keep the root's defaults (terraform/variables.tf).

region      = "us-east-1"
name_prefix = "foqus"

# The Lambda image is built for this architecture (make image reads it).
lambda_architectures = ["arm64"]

# Tables refuse to be deleted; make destroy lifts this before it destroys.
deletion_protection_enabled = true

# Who receives every alarm (confirm the subscription from the message AWS sends).
alarm_email = ""

# Workers: the default VPC unless set. The subnets need a route to the AWS APIs.
# worker_vpc_id     = "vpc-0123456789abcdef0"
# worker_subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]

# Worker AMIs come from `ENV=prod make ami` (prod.amis.tfvars.json, read after this file).
