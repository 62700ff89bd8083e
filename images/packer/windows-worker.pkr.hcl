################################################################################
# FOQUS Cloud Windows worker image (Windows Server 2022)
#
# Bakes Node.js 22 (C:\nodejs), the worker (core/ and worker/ of this repository with their
# dependencies) in C:\foqus, and the Windows service FoqusWorker
# (images/worker/install-windows-service.ps1). An instance of a worker pool gets its
# configuration from the pool's user data (terraform/modules/worker-pool): machine environment
# variables, then `Restart-Service FoqusWorker`. Build from the repository root:
#
#   packer init images/packer/windows-worker.pkr.hcl
#   packer build -var region=us-east-1 images/packer/windows-worker.pkr.hcl
#
# FOQUS, Aspen Plus / ACM and their licence configuration are NOT installed here: they are
# licensed software that must be installed on the base image separately (by hand or by your
# own build), and that image given as `source_ami_name_filter` / `source_ami_owners`. Give the
# worker their command lines as a machine environment variable on that image, e.g.
# COMMAND_APPLICATIONS = {"foqus":"C:\\FOQUS\\foqus-job.cmd"} (see worker/engines/); the user
# data leaves other machine variables alone.
#
# The build instance needs outbound internet access (nodejs.org, the npm registry).
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
  description = "Instance type of the temporary build instance (x86_64)."
  type        = string
  default     = "m5.large"
}

variable "source_ami_name_filter" {
  description = "Name filter of the base AMI; the newest match is used. The default is Amazon's plain Windows Server 2022; point it at your own image that already has FOQUS / Aspen installed and licensed."
  type        = string
  default     = "Windows_Server-2022-English-Full-Base-*"
}

variable "source_ami_owners" {
  description = "Accounts (or aliases) allowed to own the base AMI: \"amazon\" for the stock image, \"self\" (or an account id) for your own FOQUS / Aspen base image."
  type        = list(string)
  default     = ["amazon"]
}

variable "ami_name_prefix" {
  description = "Prefix of the AMI name; a UTC timestamp (YYYYMMDDhhmmss) is appended, e.g. \"foqus-worker-windows-20250101120000\"."
  type        = string
  default     = "foqus-worker-windows"
}

variable "node_version" {
  description = "Exact Node.js 22 release to install (the x64 MSI from nodejs.org, checked against its SHASUMS256.txt), e.g. \"22.12.0\"."
  type        = string
  default     = "22.12.0"

  validation {
    condition     = can(regex("^22\\.[0-9]+\\.[0-9]+$", var.node_version))
    error_message = "node_version must be a Node.js 22 release such as \"22.12.0\"."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the image's root volume in GiB (Windows, Node.js, node_modules, the staged-file cache; plus FOQUS / Aspen if the base image has them)."
  type        = number
  default     = 60
}

locals {
  timestamp = formatdate("YYYYMMDDhhmmss", timestamp())
  # The repository root (this file is in images/packer/).
  repository = "${path.root}/../.."
}

################################################################################
# Source: a temporary instance reachable over WinRM (HTTPS)
################################################################################

source "amazon-ebs" "windows_worker" {
  region          = var.region
  instance_type   = var.instance_type
  ami_name        = "${var.ami_name_prefix}-${local.timestamp}"
  ami_description = "FOQUS Cloud worker: Windows Server 2022, Node.js 22, C:\\foqus, service FoqusWorker."

  source_ami_filter {
    filters = {
      name                = var.source_ami_name_filter
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = var.source_ami_owners
    most_recent = true
  }

  # Packer reads the generated Administrator password (EC2 GetPasswordData) and connects over
  # WinRM on 5986 with the self-signed certificate the user data below creates; the temporary
  # security group admits only the machine running Packer.
  communicator                              = "winrm"
  winrm_username                            = "Administrator"
  winrm_use_ssl                             = true
  winrm_insecure                            = true
  winrm_timeout                             = "30m"
  temporary_security_group_source_public_ip = true

  user_data = <<-EOT
    <powershell>
    $ErrorActionPreference = 'Stop'
    # WinRM over HTTPS for Packer only: a self-signed certificate, basic authentication on the
    # encrypted listener, the firewall open on 5986. Worker instances launched from the image
    # have no inbound rule in their security group, so the listener is unreachable there.
    $certificate = New-SelfSignedCertificate -CertStoreLocation 'Cert:\LocalMachine\My' -DnsName $env:COMPUTERNAME
    Get-ChildItem -Path 'WSMan:\localhost\Listener' | Where-Object { $_.Keys -contains 'Transport=HTTPS' } | Remove-Item -Recurse -Force
    New-Item -Path 'WSMan:\localhost\Listener' -Transport HTTPS -Address * -CertificateThumbPrint $certificate.Thumbprint -Force | Out-Null
    Set-Item -Path 'WSMan:\localhost\Service\Auth\Basic' -Value $true
    Set-Item -Path 'WSMan:\localhost\MaxTimeoutms' -Value 1800000
    New-NetFirewallRule -Name 'WinRM-HTTPS-Packer' -DisplayName 'WinRM over HTTPS (image build)' -Direction Inbound -Protocol TCP -LocalPort 5986 -Action Allow | Out-Null
    Restart-Service -Name WinRM
    </powershell>
  EOT

  # IMDSv2 only, on the build instance and (imds_support) on every instance of the image; the
  # worker pools' launch template requires it too.
  imds_support = "v2.0"
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.root_volume_size_gb
    volume_type           = "gp3"
    delete_on_termination = true
  }

  tags = {
    Name      = "${var.ami_name_prefix}-${local.timestamp}"
    Project   = "foqus-cloud"
    Component = "worker"
    OS        = "windows-server-2022"
  }
}

################################################################################
# Build
################################################################################

build {
  sources = ["source.amazon-ebs.windows_worker"]

  # Node.js 22 from the official MSI, checked against the release's SHA-256 list. Installed to
  # C:\nodejs (no spaces: the command engine splits command lines on spaces, and the built-in
  # sample application runs node by its path), read-only to everyone but administrators.
  provisioner "powershell" {
    environment_vars = ["NODE_VERSION=${var.node_version}"]
    inline = [
      "$ErrorActionPreference = 'Stop'",
      "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12",
      "$ProgressPreference = 'SilentlyContinue'",
      "$release = 'https://nodejs.org/dist/v' + $env:NODE_VERSION",
      "$msiName = 'node-v' + $env:NODE_VERSION + '-x64.msi'",
      "$msi = Join-Path $env:TEMP $msiName",
      "Invoke-WebRequest -UseBasicParsing -Uri ($release + '/' + $msiName) -OutFile $msi",
      "$sums = (Invoke-WebRequest -UseBasicParsing -Uri ($release + '/SHASUMS256.txt')).Content -split \"`n\"",
      "$line = $sums | Where-Object { $_.Trim().EndsWith('  ' + $msiName) } | Select-Object -First 1",
      "if (-not $line) { throw ('SHASUMS256.txt of ' + $release + ' does not list ' + $msiName) }",
      "$expected = ($line.Trim() -split '\\s+')[0]",
      "$actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $msi).Hash",
      "if ($actual -ne $expected) { throw ('Checksum mismatch for ' + $msiName + ': ' + $actual + ' instead of ' + $expected) }",
      "$install = Start-Process -FilePath msiexec.exe -ArgumentList @('/i', ('\"' + $msi + '\"'), '/qn', '/norestart', 'INSTALLDIR=C:\\nodejs\\') -Wait -PassThru",
      "if ($install.ExitCode -ne 0) { throw ('The Node.js installer failed with exit code ' + $install.ExitCode) }",
      "Remove-Item -LiteralPath $msi -Force",
      "& icacls.exe 'C:\\nodejs' /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-545:(OI)(CI)RX' /Q",
      "if ($LASTEXITCODE -ne 0) { throw 'icacls on C:\\nodejs failed' }",
      "$version = & 'C:\\nodejs\\node.exe' --version",
      "if ($version -notlike 'v22.*') { throw ('Expected Node.js 22, found ' + $version) }",
      "Write-Host ('Node.js ' + $version + ' in C:\\nodejs')",
    ]
  }

  # The code: C:\foqus\core, C:\foqus\worker and the package files. A folder named without a
  # trailing slash is uploaded as a folder.
  provisioner "powershell" {
    inline = ["New-Item -ItemType Directory -Force -Path 'C:\\foqus', 'C:\\foqus\\service' | Out-Null"]
  }

  provisioner "file" {
    source      = "${local.repository}/core"
    destination = "C:/foqus/"
  }

  provisioner "file" {
    source      = "${local.repository}/worker"
    destination = "C:/foqus/"
  }

  provisioner "file" {
    sources = [
      "${local.repository}/package.json",
      "${local.repository}/package-lock.json",
      "${local.repository}/tsconfig.json",
    ]
    destination = "C:/foqus/"
  }

  provisioner "file" {
    source      = "${local.repository}/images/worker/install-windows-service.ps1"
    destination = "C:/foqus/service/install-windows-service.ps1"
  }

  # `npm ci`, not `npm ci --omit=dev`: the service runs the TypeScript through tsx
  # (`node --import tsx worker/main.ts`), and tsx is a devDependency. The other dev tools
  # (typescript, ava, biome, esbuild's CLI) come along; they are never run here. The WinRM
  # session predates the Node.js install, so PATH is set here.
  provisioner "powershell" {
    inline = [
      "$ErrorActionPreference = 'Stop'",
      "$env:Path = 'C:\\nodejs;' + $env:Path",
      "Set-Location -LiteralPath 'C:\\foqus'",
      "& 'C:\\nodejs\\npm.cmd' ci --no-audit --no-fund",
      "if ($LASTEXITCODE -ne 0) { throw ('npm ci failed with exit code ' + $LASTEXITCODE) }",
      "& 'C:\\nodejs\\npm.cmd' cache clean --force",
      "& 'C:\\nodejs\\node.exe' --import tsx --input-type=module -e \"await import('./worker/engines/registry.ts'); await import('./worker/worker.ts'); console.log('worker modules load')\"",
      "if ($LASTEXITCODE -ne 0) { throw 'The worker modules do not load under tsx' }",
    ]
  }

  # The FoqusWorker service (Manual until the user data configures it; recovery: restart).
  provisioner "powershell" {
    inline = [
      "$ErrorActionPreference = 'Stop'",
      "& 'C:\\foqus\\service\\install-windows-service.ps1' -AppDir 'C:\\foqus' -NodeExe 'C:\\nodejs\\node.exe'",
      "& sc.exe qc FoqusWorker",
      "& sc.exe qfailure FoqusWorker",
    ]
  }

  # Last: reset EC2Launch v2 so that instances of the image run their first-boot tasks again,
  # the user data included (it runs once per EC2Launch state, and this build instance has
  # already used it). Sysprep is not needed for these workers (no domain join); to generalise
  # the image anyway, add `EC2Launch.exe sysprep --shutdown --block` with disable_stop_instance.
  provisioner "powershell" {
    inline = [
      "$ErrorActionPreference = 'Stop'",
      "& 'C:\\Program Files\\Amazon\\EC2Launch\\EC2Launch.exe' reset --clean --block",
      "if ($LASTEXITCODE -ne 0) { throw ('EC2Launch reset failed with exit code ' + $LASTEXITCODE) }",
    ]
  }
}
