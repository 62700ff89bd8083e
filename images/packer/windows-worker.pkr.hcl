################################################################################
# FOQUS Cloud Windows worker image (Windows Server 2022)
#
# Bakes Node.js 22 (C:\nodejs), the worker (core/ and worker/ of this repository with their
# dependencies) in C:\foqus, the Windows service FoqusWorker
# (images/worker/install-windows-service.ps1; its log is C:\ProgramData\foqus\logs\worker.log),
# the Amazon CloudWatch agent (its MSI; the service starts at boot, configured by the pool's user
# data), and FOQUS for the `foqus` application
# (images/worker/install-foqus.ps1): Miniforge in C:\miniforge3, a conda env
# C:\miniforge3\envs\foqus with `pip install ccsi-foqus==<foqus_version>`, its folders on the
# machine PATH, FOQUS_PYTHON (machine variable) = its python.exe, NoInteractiveServices = 0.
# When their installers are given (the *_url / *_sha256 variables; licensed or registration
# downloads, so no defaults), also what Aspen Plus / ACM nodes need: SQL Server Compact 4.0,
# SimSinter and TurbineLite. An instance of a worker pool gets its configuration from the
# pool's user data (terraform/modules/worker-pool): machine environment variables, then
# `Restart-Service FoqusWorker`. Build from the repository root:
#
#   packer init images/packer/windows-worker.pkr.hcl
#   packer build -var region=us-east-1 -var vpc_id=vpc-… -var subnet_id=subnet-… \
#     images/packer/windows-worker.pkr.hcl
#
# or `ENV=<env> AMI_OS=windows make ami`, which also writes the AMI id for Terraform.
#
# Aspen Plus / ACM and their licence configuration are NOT installed here: they are licensed
# software that must be installed on the base image separately (by hand or by your own build),
# and that image given as `source_ami_name_filter` / `source_ami_owners` (images/README.md,
# "Aspen Plus and ACM"). The user data leaves other machine variables alone.
#
# The build instance needs outbound internet access (nodejs.org, the npm registry, GitHub for
# Miniforge, conda-forge, PyPI, the CloudWatch agent's S3 bucket, and wherever the simulator
# installers are).
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
  description = "Size of the image's root volume in GiB (Windows, Node.js, node_modules, Miniforge and the FOQUS env (about 3 GiB), the staged-file cache; plus Aspen if the base image has it). At least the base image's own root volume size."
  type        = number
  default     = 60
}

variable "miniforge_version" {
  description = "Miniforge3 release (conda-forge's Miniconda) installed in C:\\miniforge3, e.g. \"25.3.0-3\": the Windows-x86_64 installer of that GitHub release."
  type        = string
  default     = "25.3.0-3"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+-[0-9]+$", var.miniforge_version))
    error_message = "miniforge_version must be a Miniforge3 release such as \"25.3.0-3\"."
  }
}

variable "miniforge_sha256" {
  description = "SHA-256 of the Miniforge3 installer. \"\" (the default) checks it against the .sha256 file the release publishes beside it; set it to pin the installer yourself."
  type        = string
  default     = ""

  validation {
    condition     = var.miniforge_sha256 == "" || can(regex("^[0-9A-Fa-f]{64}$", var.miniforge_sha256))
    error_message = "miniforge_sha256 must be empty or 64 hexadecimal digits."
  }
}

variable "foqus_version" {
  description = "ccsi-foqus release that pip installs into the conda env (an exact PyPI version, e.g. \"3.27.0\" or \"3.28.0rc0\"). The default is the newest release of the line the engine's contract tests run against (the vendored 3.29.dev0 is master right after 3.28.0rc0; its flowsheet code is that of 3.27.0)."
  type        = string
  default     = "3.27.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+((a|b|rc)[0-9]+)?(\\.post[0-9]+)?$", var.foqus_version))
    error_message = "foqus_version must be an exact ccsi-foqus version such as \"3.27.0\" or \"3.28.0rc0\"."
  }
}

variable "foqus_python_version" {
  description = "Python of the FOQUS conda env (conda-forge), \"3.10\" to \"3.12\" (what FOQUS supports)."
  type        = string
  default     = "3.11"

  validation {
    condition     = contains(["3.10", "3.11", "3.12"], var.foqus_python_version)
    error_message = "foqus_python_version must be \"3.10\", \"3.11\" or \"3.12\"."
  }
}

variable "pywin32_version" {
  description = "pywin32 of the FOQUS conda env, from conda-forge before pip runs (FOQUS's install guide): the version ccsi-foqus pins for Windows, \"306\" for the 3.2x releases."
  type        = string
  default     = "306"
}

variable "sql_compact_url" {
  description = "Microsoft SQL Server Compact 4.0 (x64), TurbineLite's database engine: an http(s) URL (a presigned S3 URL works) or a path on the build instance of SSCERuntime_x64-ENU.exe (its MSIs are unpacked and installed) or of an MSI. \"\" (the default) skips it."
  type        = string
  default     = ""
}

variable "sql_compact_sha256" {
  description = "SHA-256 of the sql_compact_url file (required when it is set)."
  type        = string
  default     = ""

  validation {
    condition     = var.sql_compact_sha256 == "" || can(regex("^[0-9A-Fa-f]{64}$", var.sql_compact_sha256))
    error_message = "sql_compact_sha256 must be empty or 64 hexadecimal digits."
  }
}

variable "simsinter_url" {
  description = "CCSI SimSinter (3.x) MSI, SimSinterInstaller.msi: an http(s) URL or a path on the build instance. \"\" (the default) skips it."
  type        = string
  default     = ""
}

variable "simsinter_sha256" {
  description = "SHA-256 of the simsinter_url file (required when it is set)."
  type        = string
  default     = ""

  validation {
    condition     = var.simsinter_sha256 == "" || can(regex("^[0-9A-Fa-f]{64}$", var.simsinter_sha256))
    error_message = "simsinter_sha256 must be empty or 64 hexadecimal digits."
  }
}

variable "turbinelite_url" {
  description = "CCSI TurbineLite MSI, TurbineLite.msi (needs SQL Server Compact 4.0 and SimSinter, from the variables above or the base image): an http(s) URL or a path on the build instance. \"\" (the default) skips it."
  type        = string
  default     = ""
}

variable "turbinelite_sha256" {
  description = "SHA-256 of the turbinelite_url file (required when it is set)."
  type        = string
  default     = ""

  validation {
    condition     = var.turbinelite_sha256 == "" || can(regex("^[0-9A-Fa-f]{64}$", var.turbinelite_sha256))
    error_message = "turbinelite_sha256 must be empty or 64 hexadecimal digits."
  }
}

variable "worker_service_account" {
  description = "Account of the FoqusWorker service: \"\" (the default) for the virtual account NT SERVICE\\FoqusWorker, or \"LocalSystem\" (for Aspen Plus / ACM nodes, with worker_service_interactive)."
  type        = string
  default     = ""

  validation {
    condition     = contains(["", "LocalSystem"], var.worker_service_account)
    error_message = "worker_service_account must be \"\" (the virtual account) or \"LocalSystem\"."
  }
}

variable "worker_service_interactive" {
  description = "Install FoqusWorker as an interactive service (SERVICE_INTERACTIVE_PROCESS; needs worker_service_account = \"LocalSystem\"), so that the Aspen consumers FOQUS starts under it get the interactive window station (NoInteractiveServices = 0 is baked in). For images that run Aspen Plus / ACM nodes."
  type        = bool
  default     = false
}

variable "cloudwatch_agent_msi_url" {
  description = "The Amazon CloudWatch agent's Windows x64 MSI, from its published download location (or a Region's copy, https://amazoncloudwatch-agent-<region>.s3.<region>.amazonaws.com/windows/amd64/latest/amazon-cloudwatch-agent.msi). Its Authenticode signature is checked."
  type        = string
  default     = "https://amazoncloudwatch-agent.s3.amazonaws.com/windows/amd64/latest/amazon-cloudwatch-agent.msi"

  validation {
    condition     = can(regex("^https://", var.cloudwatch_agent_msi_url))
    error_message = "cloudwatch_agent_msi_url must be an https URL."
  }
}

variable "cloudwatch_agent_msi_sha256" {
  description = "SHA-256 of the CloudWatch agent MSI. \"\" (the default) checks only its Authenticode signature (\"latest\" moves); set it to pin one release yourself."
  type        = string
  default     = ""

  validation {
    condition     = var.cloudwatch_agent_msi_sha256 == "" || can(regex("^[0-9A-Fa-f]{64}$", var.cloudwatch_agent_msi_sha256))
    error_message = "cloudwatch_agent_msi_sha256 must be empty or 64 hexadecimal digits."
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

  # What images/worker/install-foqus.ps1 reads, for every one of its steps.
  install_foqus_environment = [
    "MINIFORGE_VERSION=${var.miniforge_version}",
    "MINIFORGE_SHA256=${var.miniforge_sha256}",
    "FOQUS_VERSION=${var.foqus_version}",
    "FOQUS_PYTHON_VERSION=${var.foqus_python_version}",
    "PYWIN32_VERSION=${var.pywin32_version}",
    "SQL_COMPACT_URL=${var.sql_compact_url}",
    "SQL_COMPACT_SHA256=${var.sql_compact_sha256}",
    "SIMSINTER_URL=${var.simsinter_url}",
    "SIMSINTER_SHA256=${var.simsinter_sha256}",
    "TURBINELITE_URL=${var.turbinelite_url}",
    "TURBINELITE_SHA256=${var.turbinelite_sha256}",
  ]

  # install-windows-service.ps1's account options.
  service_options = join("", [
    var.worker_service_account == "" ? "" : " -ServiceAccount '${var.worker_service_account}'",
    var.worker_service_interactive ? " -Interactive" : "",
  ])
}

################################################################################
# Source: a temporary instance reachable over WinRM (HTTPS)
################################################################################

source "amazon-ebs" "windows_worker" {
  region          = var.region
  instance_type   = var.instance_type

  # The build's network is named, never the account's default VPC (which may not exist).
  vpc_id                      = var.vpc_id
  subnet_id                   = var.subnet_id
  associate_public_ip_address = var.associate_public_ip_address

  ami_name        = "${var.ami_name_prefix}-${local.timestamp}"
  ami_description = "FOQUS Cloud worker: Windows Server 2022, Node.js 22, C:\\foqus, service FoqusWorker, the CloudWatch agent, ccsi-foqus ${var.foqus_version} in C:\\miniforge3\\envs\\foqus."

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
    sources = [
      "${local.repository}/images/worker/install-windows-service.ps1",
      "${local.repository}/images/worker/install-foqus.ps1",
    ]
    destination = "C:/foqus/service/"
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

  # The FoqusWorker service (Manual until the user data configures it; recovery: restart), as
  # the virtual account, or LocalSystem (interactive) for Aspen (worker_service_account,
  # worker_service_interactive).
  provisioner "powershell" {
    inline = [
      "$ErrorActionPreference = 'Stop'",
      "& 'C:\\foqus\\service\\install-windows-service.ps1' -AppDir 'C:\\foqus' -NodeExe 'C:\\nodejs\\node.exe'${local.service_options}",
      "& sc.exe qc FoqusWorker",
      "& sc.exe qfailure FoqusWorker",
    ]
  }

  # The Amazon CloudWatch agent, from its MSI (Authenticode-checked, and SHA-256 when pinned),
  # whose service AmazonCloudWatchAgent starts at boot. It ships C:\ProgramData\foqus\logs\worker.log
  # to the pool's log group and relays the worker's X-Ray segments; its config names the pool,
  # so the pool's user data writes it and runs `amazon-cloudwatch-agent-ctl.ps1 -a fetch-config -s`.
  provisioner "powershell" {
    environment_vars = [
      "CLOUDWATCH_AGENT_MSI_URL=${var.cloudwatch_agent_msi_url}",
      "CLOUDWATCH_AGENT_MSI_SHA256=${var.cloudwatch_agent_msi_sha256}",
    ]
    inline = [
      "$ErrorActionPreference = 'Stop'",
      "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12",
      "$ProgressPreference = 'SilentlyContinue'",
      "$msi = Join-Path $env:TEMP 'amazon-cloudwatch-agent.msi'",
      "Invoke-WebRequest -UseBasicParsing -Uri $env:CLOUDWATCH_AGENT_MSI_URL -OutFile $msi",
      "$signature = Get-AuthenticodeSignature -LiteralPath $msi",
      "if ($signature.Status -ne 'Valid' -or $signature.SignerCertificate.Subject -notmatch 'Amazon') { throw ('The CloudWatch agent MSI is not signed by Amazon: ' + $signature.Status + ' ' + $signature.SignerCertificate.Subject) }",
      "if ($env:CLOUDWATCH_AGENT_MSI_SHA256 -ne '') {",
      "  $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $msi).Hash",
      "  if ($actual -ne $env:CLOUDWATCH_AGENT_MSI_SHA256.ToUpperInvariant()) { throw ('Checksum mismatch for the CloudWatch agent MSI: ' + $actual) }",
      "}",
      "$install = Start-Process -FilePath msiexec.exe -ArgumentList @('/i', ('\"' + $msi + '\"'), '/qn', '/norestart') -Wait -PassThru",
      "if ($install.ExitCode -ne 0) { throw ('The CloudWatch agent installer failed with exit code ' + $install.ExitCode) }",
      "Remove-Item -LiteralPath $msi -Force",
      "$ctl = 'C:\\Program Files\\Amazon\\AmazonCloudWatchAgent\\amazon-cloudwatch-agent-ctl.ps1'",
      "if (-not (Test-Path -LiteralPath $ctl)) { throw ('The CloudWatch agent installed no ' + $ctl) }",
      "Set-Service -Name AmazonCloudWatchAgent -StartupType Automatic",
      "$version = Get-Content -LiteralPath 'C:\\Program Files\\Amazon\\AmazonCloudWatchAgent\\CWAGENT_VERSION'",
      "Write-Host ('CloudWatch agent ' + $version + ', service AmazonCloudWatchAgent ' + (Get-Service -Name AmazonCloudWatchAgent).StartType)",
    ]
  }

  # FOQUS (images/worker/install-foqus.ps1, one step per provisioner): Miniforge, the conda env
  # with ccsi-foqus, the simulator stack for Aspen Plus / ACM nodes when its installers are
  # given (each skipped with a message otherwise), the machine settings (PATH, FOQUS_PYTHON,
  # NoInteractiveServices = 0), and a check that the env imports FOQUS and the engine's bridge
  # starts it with the machine environment the service gets.
  provisioner "powershell" {
    environment_vars = local.install_foqus_environment
    inline           = ["& 'C:\\foqus\\service\\install-foqus.ps1' -Step Miniforge"]
  }

  provisioner "powershell" {
    environment_vars = local.install_foqus_environment
    inline           = ["& 'C:\\foqus\\service\\install-foqus.ps1' -Step Foqus"]
  }

  provisioner "powershell" {
    environment_vars = local.install_foqus_environment
    inline           = ["& 'C:\\foqus\\service\\install-foqus.ps1' -Step Simulators"]
  }

  provisioner "powershell" {
    environment_vars = local.install_foqus_environment
    inline           = ["& 'C:\\foqus\\service\\install-foqus.ps1' -Step Machine"]
  }

  provisioner "powershell" {
    environment_vars = local.install_foqus_environment
    inline           = ["& 'C:\\foqus\\service\\install-foqus.ps1' -Step Check"]
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

  # The AMI id for Terraform: `make ami` reads this manifest (deploy/ami-manifest.ts) and writes
  # worker_ami_ids["windows"] into the environment's var file; custom_data says which OS it is.
  post-processor "manifest" {
    output     = var.manifest_path
    strip_path = true
    custom_data = {
      os = "windows"
    }
  }
}
