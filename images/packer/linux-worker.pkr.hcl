################################################################################
# FOQUS Cloud Linux worker image (Amazon Linux 2023)
#
# Bakes Node.js 22, the worker (core/ and worker/ of this repository with their dependencies)
# in /opt/foqus, the systemd unit foqus-worker.service (images/worker/; its output goes to
# /var/log/foqus/worker.log, rotated by logrotate), the Amazon CloudWatch agent (the distribution's
# package, enabled at boot; configured by the pool's user data), and FOQUS
# (`pip install ccsi-foqus==<foqus_version>`) in its own venv, /opt/foqus-venv, on the
# distribution's Python (images/worker/install-foqus.sh). /etc/foqus/image.env gets
# FOQUS_PYTHON=/opt/foqus-venv/bin/python, so the worker runs the `foqus` application (flowsheets
# of Python and plain models; Aspen Plus and ACM nodes need the Windows image). An instance of a
# worker pool gets its configuration from the pool's user data (terraform/modules/worker-pool),
# which writes /etc/foqus/worker.env and restarts the unit. Build from the repository root:
#
#   packer init images/packer/linux-worker.pkr.hcl
#   packer build -var region=us-east-1 -var vpc_id=vpc-… -var subnet_id=subnet-… \
#     images/packer/linux-worker.pkr.hcl
#
# or `ENV=<env> AMI_OS=linux make ami`, which also writes the AMI id for Terraform.
#
# The build instance needs outbound internet access (dnf repositories, the npm registry, PyPI).
################################################################################

packer {
  required_version = ">= 1.9.0"

  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

################################################################################
# Variables
################################################################################

variable "region" {
  description = "AWS region to build the AMI in (and where the worker pools run), e.g. \"us-east-1\"."
  type        = string
  default     = "us-east-1"
}

variable "instance_type" {
  description = "Instance type of the temporary build instance. Its architecture must match the source AMI (x86_64 for the default filter)."
  type        = string
  default     = "t3.medium"
}

variable "source_ami_name_filter" {
  description = "Name filter of the Amazon Linux 2023 base AMI; the newest match is used. \"al2023-ami-2023.*-arm64\" (with a Graviton instance_type) builds an arm64 image."
  type        = string
  default     = "al2023-ami-2023.*-x86_64"
}

variable "source_ami_owners" {
  description = "Accounts (or aliases) allowed to own the base AMI."
  type        = list(string)
  default     = ["amazon"]
}

variable "ami_name_prefix" {
  description = "Prefix of the AMI name; a UTC timestamp (YYYYMMDDhhmmss) is appended, e.g. \"foqus-worker-linux-20250101120000\"."
  type        = string
  default     = "foqus-worker-linux"
}

variable "root_volume_size_gb" {
  description = "Size of the image's root volume in GiB (the OS, Node.js, node_modules, the FOQUS venv (about 1 GiB) and the staged-file cache)."
  type        = number
  default     = 20
}

variable "foqus_version" {
  description = "ccsi-foqus release that pip installs into the FOQUS venv (an exact PyPI version, e.g. \"3.27.0\" or \"3.28.0rc0\"). The default is the newest release of the line the engine's contract tests run against (the vendored 3.29.dev0 is master right after 3.28.0rc0; its flowsheet code is that of 3.27.0)."
  type        = string
  default     = "3.27.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+((a|b|rc)[0-9]+)?(\\.post[0-9]+)?$", var.foqus_version))
    error_message = "foqus_version must be an exact ccsi-foqus version such as \"3.27.0\" or \"3.28.0rc0\"."
  }
}

variable "foqus_python_package" {
  description = "Amazon Linux 2023 package of the Python that runs FOQUS (FOQUS supports 3.10 to 3.12): \"python3.11\" or \"python3.12\". The interpreter is /usr/bin/<package>; the venv is made with it."
  type        = string
  default     = "python3.11"

  validation {
    condition     = can(regex("^python3\\.1[12]$", var.foqus_python_package))
    error_message = "foqus_python_package must be python3.11 or python3.12 (the Pythons FOQUS supports, 3.10 to 3.12, that Amazon Linux 2023 packages)."
  }
}

variable "foqus_venv" {
  description = "Directory of the FOQUS venv; FOQUS_PYTHON in /etc/foqus/image.env is its bin/python."
  type        = string
  default     = "/opt/foqus-venv"

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/-]+$", var.foqus_venv)) && !can(regex("^/opt/foqus(/|$)", var.foqus_venv))
    error_message = "foqus_venv must be an absolute path of letters, digits, '.', '_', '-' and '/', outside /opt/foqus."
  }
}

variable "vpc_id" {
  description = "Required. VPC the temporary build instance runs in (no default VPC is assumed), e.g. \"vpc-0123456789abcdef0\"; `make ami` passes the environment's."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC id such as vpc-0123456789abcdef0."
  }
}

variable "subnet_id" {
  description = "Required. Subnet of vpc_id for the build instance: it needs outbound internet access and an address the machine running Packer can reach (associate_public_ip_address)."
  type        = string

  validation {
    condition     = can(regex("^subnet-[0-9a-f]+$", var.subnet_id))
    error_message = "subnet_id must be a subnet id such as subnet-0123456789abcdef0."
  }
}

variable "associate_public_ip_address" {
  description = "Give the build instance a public IP address (for a public subnet that does not assign one itself). false for a private subnet reached over VPN or Direct Connect."
  type        = bool
  default     = true
}

variable "manifest_path" {
  description = "File the manifest post-processor writes the AMI id into (`make ami` turns it into terraform/environments/<env>.amis.tfvars.json)."
  type        = string
  default     = "packer-manifest.json"
}

locals {
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
  # The repository root (this file is in images/packer/).
  repository = "${path.root}/../.."
}

################################################################################
# Source: a temporary instance from the newest Amazon Linux 2023 AMI
################################################################################

source "amazon-ebs" "linux_worker" {
  region          = var.region
  instance_type   = var.instance_type

  # The build's network is named, never the account's default VPC (which may not exist).
  vpc_id                      = var.vpc_id
  subnet_id                   = var.subnet_id
  associate_public_ip_address = var.associate_public_ip_address

  ssh_username    = "ec2-user"
  ami_name        = "${var.ami_name_prefix}-${local.timestamp}"
  ami_description = "FOQUS Cloud worker: Amazon Linux 2023, Node.js 22, /opt/foqus, foqus-worker.service, the CloudWatch agent, ccsi-foqus ${var.foqus_version} in ${var.foqus_venv}."

  source_ami_filter {
    filters = {
      name                = var.source_ami_name_filter
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = var.source_ami_owners
    most_recent = true
  }

  # The build instance accepts SSH only from the machine running Packer.
  temporary_security_group_source_public_ip = true

  # IMDSv2 only, on the build instance and (imds_support) on every instance of the image; the
  # worker pools' launch template requires it too.
  imds_support = "v2.0"
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  launch_block_device_mappings {
    device_name           = "/dev/xvda"
    volume_size           = var.root_volume_size_gb
    volume_type           = "gp3"
    delete_on_termination = true
  }

  tags = {
    Name      = "${var.ami_name_prefix}-${local.timestamp}"
    Project   = "foqus-cloud"
    Component = "worker"
    OS        = "amazon-linux-2023"
  }
}

################################################################################
# Build
################################################################################

build {
  sources = ["source.amazon-ebs.linux_worker"]

  # Upload what the worker needs into a staging folder (ec2-user cannot write /opt).
  provisioner "shell" {
    inline = ["rm -rf /tmp/foqus-src", "mkdir -p /tmp/foqus-src"]
  }

  # A folder named without a trailing slash is uploaded as a folder: /tmp/foqus-src/core, ...
  provisioner "file" {
    source      = "${local.repository}/core"
    destination = "/tmp/foqus-src/"
  }

  provisioner "file" {
    source      = "${local.repository}/worker"
    destination = "/tmp/foqus-src/"
  }

  provisioner "file" {
    sources = [
      "${local.repository}/package.json",
      "${local.repository}/package-lock.json",
      "${local.repository}/tsconfig.json",
      "${local.repository}/images/worker/foqus-worker.service",
      "${local.repository}/images/worker/foqus-worker.logrotate",
      "${local.repository}/images/worker/amazon-cloudwatch-agent-wait.conf",
      "${local.repository}/images/worker/install-foqus.sh",
    ]
    destination = "/tmp/foqus-src/"
  }

  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} bash {{ .Path }}"
    inline = [
      "set -euxo pipefail",

      # Updates, then Node.js 22. AL2023 installs it as node-22 / npm-22 and points /usr/bin/node
      # at the active version through `alternatives`: make 22 the active one, and check.
      "dnf -y upgrade",
      "dnf -y install nodejs22 nodejs22-npm",
      "if [ \"$(readlink -f /usr/bin/node || true)\" != \"$(readlink -f /usr/bin/node-22)\" ]; then alternatives --set node /usr/bin/node-22; fi",
      "test \"$(/usr/bin/node -p 'process.versions.node.split(\".\")[0]')\" = 22",

      # The worker's own user: no login, no home, no sudo.
      "getent passwd foqus >/dev/null || useradd --system --user-group --home-dir /opt/foqus --no-create-home --shell /sbin/nologin foqus",

      # The code, owned by root and read-only to the worker.
      "install -d -m 0755 -o root -g root /opt/foqus",
      "cp -R /tmp/foqus-src/core /tmp/foqus-src/worker /opt/foqus/",
      "install -m 0644 /tmp/foqus-src/package.json /tmp/foqus-src/package-lock.json /tmp/foqus-src/tsconfig.json /opt/foqus/",

      # `npm ci`, not `npm ci --omit=dev`: the unit runs the TypeScript through tsx
      # (`node --import tsx worker/main.ts`), and tsx is a devDependency. The other dev tools
      # (typescript, ava, biome, esbuild's CLI) come along; they are never run here.
      "cd /opt/foqus && HOME=/root npm-22 ci --no-audit --no-fund && HOME=/root npm-22 cache clean --force",
      "chown -R root:root /opt/foqus && chmod -R u+rwX,go+rX,go-w /opt/foqus",

      # The modules load under tsx, as the worker user (nothing runs: no configuration here).
      "cd /opt/foqus && sudo -u foqus /usr/bin/node --import tsx --input-type=module -e \"await import('./worker/engines/registry.ts'); await import('./worker/worker.ts'); console.log('worker modules load')\"",

      # Cache of staged simulation files (the unit's only writable path), the configuration
      # folder the user data writes worker.env into, the log folder (systemd opens the unit's
      # worker.log there as root; logrotate copies and truncates it), and the unit.
      "install -d -m 0750 -o foqus -g foqus /var/cache/foqus",
      "install -d -m 0755 -o root -g root /etc/foqus",
      "install -d -m 0750 -o root -g root /var/log/foqus",
      "dnf -y install logrotate",
      "install -m 0644 -o root -g root /tmp/foqus-src/foqus-worker.logrotate /etc/logrotate.d/foqus-worker",
      "logrotate --debug /etc/logrotate.d/foqus-worker",
      "systemctl enable logrotate.timer",
      "install -m 0644 -o root -g root /tmp/foqus-src/foqus-worker.service /etc/systemd/system/foqus-worker.service",
      "systemd-analyze verify /etc/systemd/system/foqus-worker.service",

      # The CloudWatch agent, Amazon Linux 2023's own package (x86_64 and arm64, signed by the
      # distribution's repository key), enabled at boot. It ships worker.log to the pool's log
      # group and relays the worker's X-Ray segments; its config names the pool, so the pool's
      # user data writes it and runs `amazon-cloudwatch-agent-ctl -a fetch-config -s`. Until then
      # the drop-in's condition keeps it from starting (and failing) on every boot.
      "dnf -y install amazon-cloudwatch-agent",
      "test -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl",
      "install -d -m 0755 -o root -g root /etc/systemd/system/amazon-cloudwatch-agent.service.d",
      "install -m 0644 -o root -g root /tmp/foqus-src/amazon-cloudwatch-agent-wait.conf /etc/systemd/system/amazon-cloudwatch-agent.service.d/foqus-wait-for-config.conf",
      "systemctl daemon-reload",
      "systemctl enable amazon-cloudwatch-agent.service",
      "systemctl enable foqus-worker.service",
      "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a status",
    ]
  }

  # FOQUS for the `foqus` application: the distribution's Python, a venv with
  # `pip install ccsi-foqus==<foqus_version>`, a check as the worker's user that FOQUS imports
  # and the engine's bridge starts it, and FOQUS_PYTHON in /etc/foqus/image.env
  # (images/worker/install-foqus.sh).
  provisioner "shell" {
    execute_command = "chmod +x {{ .Path }}; sudo {{ .Vars }} bash {{ .Path }}"
    environment_vars = [
      "FOQUS_VERSION=${var.foqus_version}",
      "FOQUS_PYTHON_PACKAGE=${var.foqus_python_package}",
      "FOQUS_VENV=${var.foqus_venv}",
      "APP_DIR=/opt/foqus",
      "SERVICE_USER=foqus",
    ]
    inline = [
      "set -euo pipefail",
      "bash /tmp/foqus-src/install-foqus.sh",
      "rm -rf /tmp/foqus-src",
    ]
  }

  # The AMI id for Terraform: `make ami` reads this manifest (deploy/ami-manifest.ts) and writes
  # worker_ami_ids["linux"] into the environment's var file; custom_data says which OS it is.
  post-processor "manifest" {
    output     = var.manifest_path
    strip_path = true
    custom_data = {
      os = "linux"
    }
  }
}
