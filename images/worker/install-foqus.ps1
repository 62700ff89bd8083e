<#
.SYNOPSIS
    Installs FOQUS for the worker's foqus engine on the Windows worker image and, when their
    installers are given, what Aspen Plus / ACM nodes need (SQL Server Compact 4.0, SimSinter,
    TurbineLite).

.DESCRIPTION
    Run elevated by images/packer/windows-worker.pkr.hcl after the worker is in AppDir, one -Step
    per provisioner (each stays well under WinRM's 30-minute limit on one command), in this order:

    Miniforge   Miniforge3 (conda-forge's Miniconda) <MiniforgeVersion>, silently, for all users,
                in CondaDir (C:\miniforge3), checked against MiniforgeSha256 or, when that is
                empty, the .sha256 file the release publishes beside the installer. It is not put
                on PATH nor registered as the system's Python; the folder is read-only to all but
                administrators (inherited ACLs under C:\ would let every user modify it).
    Foqus       The conda env <CondaDir>\envs\foqus: python=<PythonVersion> and
                pywin32=<Pywin32Version> from conda-forge (as FOQUS's install guide does; pywin32
                must come from conda, and its version must be the one ccsi-foqus pins), then
                `pip install ccsi-foqus==<FoqusVersion>`.
    Simulators  For Aspen Plus and ACM nodes, in dependency order: SQL Server Compact 4.0
                (TurbineLite's database engine), SimSinter, TurbineLite. Each is given as a source,
                an http(s) URL (a presigned S3 URL works) or a path on the build instance, and its
                SHA-256. An empty source skips that installer with a message: these are licensed
                or registration downloads, so the template has no defaults. Aspen Plus / ACM
                themselves are never installed here; they belong on the base image
                (images/README.md, "Aspen Plus and ACM").
    Machine     What the service's worker, and FOQUS under it, read from the machine environment
                (the FoqusWorker wrapper passes the machine variables as they are at its start):
                the env's folders appended to the machine PATH (those `conda activate` would
                prepend: python.exe's DLLs in Library\bin, pywin32's), FOQUS_PYTHON = the env's
                python.exe, and NoInteractiveServices = 0 (below).
    Check       With the machine environment as the service gets it and HOME and APPDATA in a
                scratch folder (FOQUS writes its .foqus.cfg there): the env imports pywin32
                (win32process, adodbapi) and foqus_lib.framework.session.session, and the engine's
                bridge (worker\engines\foqus_bridge.py) starts FOQUS and reports ready.

    Every setting is a parameter whose default is the environment variable Packer sets
    (environment_vars), so the script also runs by hand:
        .\install-foqus.ps1 -Step Foqus -FoqusVersion 3.27.0 -PythonVersion 3.11 -Pywin32Version 306

    NoInteractiveServices (HKLM\SYSTEM\CurrentControlSet\Control\Windows, DWORD). Windows' default
    is 1: no service gets the interactive window station (WinSta0), even one flagged
    SERVICE_INTERACTIVE_PROCESS. 0 lets services with that flag, which must run as LocalSystem,
    have it. SimSinter drives Aspen Plus / ACM through their COM servers, which create (hidden)
    windows; started from a service without a desktop of its own (a non-interactive window station,
    small desktop heap) they can fail or hang. That is why CCSI's TurbineLite installs its
    services as interactive and the upstream FOQUS cloud worker installed its service with
    --interactive, flags that take effect only with NoInteractiveServices = 0. The value alone
    changes nothing for a service without the flag: FoqusWorker, whose FOQUS starts the Aspen consumer
    (TurbineLite\Clients\AspenSinterConsumerConsole.exe) as its own child, gets it only when
    installed with install-windows-service.ps1 -ServiceAccount LocalSystem -Interactive (the
    template's worker_service_account / worker_service_interactive). The build instance may not
    act on the value before a restart, but every instance of the image boots with it. Windows
    Server 2022 has no Interactive Services Detection, so nobody sees that desktop; the Aspen
    windows just have one.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File install-foqus.ps1 -Step Check
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidateSet('Miniforge', 'Foqus', 'Simulators', 'Machine', 'Check')]
    [string] $Step,
    # Miniforge3 release, e.g. 25.3.0-3, and the installer's SHA-256 ('' = the release's .sha256 file).
    [string] $MiniforgeVersion = $env:MINIFORGE_VERSION,
    [string] $MiniforgeSha256 = $env:MINIFORGE_SHA256,
    # ccsi-foqus release (PyPI), e.g. 3.27.0; the env's Python (3.10 to 3.12) and pywin32.
    [string] $FoqusVersion = $env:FOQUS_VERSION,
    [string] $PythonVersion = $env:FOQUS_PYTHON_VERSION,
    [string] $Pywin32Version = $env:PYWIN32_VERSION,
    # Installers for Aspen Plus / ACM nodes: source ('' = skip) and SHA-256 each.
    [string] $SqlCompactSource = $env:SQL_COMPACT_URL,
    [string] $SqlCompactSha256 = $env:SQL_COMPACT_SHA256,
    [string] $SimSinterSource = $env:SIMSINTER_URL,
    [string] $SimSinterSha256 = $env:SIMSINTER_SHA256,
    [string] $TurbineLiteSource = $env:TURBINELITE_URL,
    [string] $TurbineLiteSha256 = $env:TURBINELITE_SHA256,
    # Where things go. No spaces in CondaDir: the Miniforge installer takes it unquoted (/D=).
    [string] $CondaDir = 'C:\miniforge3',
    [string] $EnvName = 'foqus',
    # The worker's code (worker\engines\foqus_bridge.py is checked from there).
    [string] $AppDir = 'C:\foqus'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue' # Invoke-WebRequest is very slow drawing progress
[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12

$EnvDir = Join-Path $CondaDir "envs\$EnvName"
$Python = Join-Path $EnvDir 'python.exe'
$Conda = Join-Path $CondaDir 'Scripts\conda.exe'
# Downloads and scratch files: a path without spaces (installer switches take it unquoted).
$WorkDir = Join-Path $env:SystemRoot 'Temp\foqus-install'
# Where FOQUS looks for SimSinter and TurbineLite (foqus_lib/core.py), and TurbineLite's database.
$SimSinterDir = 'C:\Program Files\CCSI\SimSinter'
$TurbineLiteDir = 'C:\Program Files\Turbine\Lite'
$AspenConsumer = Join-Path $TurbineLiteDir 'Clients\AspenSinterConsumerConsole.exe'
$TurbineDataDir = 'C:\ProgramData\Turbine\Data'
$SqlCompactKey = 'HKLM:\SOFTWARE\Microsoft\Microsoft SQL Server Compact Edition\v4.0'
$SeeReadme = 'see images/README.md, "Aspen Plus and ACM"'

################################################################################
# Helpers
################################################################################

function Assert-Value([string] $Value, [string] $Name) {
    if ([string]::IsNullOrWhiteSpace($Value)) { throw "$Name is not set (a parameter, or its environment variable)." }
}

function Assert-ExitCode([string] $What) {
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE." }
}

function Initialize-WorkDir {
    New-Item -ItemType Directory -Force -Path $WorkDir | Out-Null
}

# Fetches an http(s) URL, or copies a file of this machine, to Target.
function Save-Source([string] $Source, [string] $Target) {
    if ($Source -match '^https?://') {
        Invoke-WebRequest -UseBasicParsing -Uri $Source -OutFile $Target
    } elseif (Test-Path -LiteralPath $Source -PathType Leaf) {
        Copy-Item -LiteralPath $Source -Destination $Target -Force
    } else {
        throw "Cannot get '$Source': it is neither an http(s) URL nor a file on this machine."
    }
}

function Assert-Sha256([string] $Path, [string] $Expected, [string] $What) {
    $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $Path).Hash
    if ($actual -ne $Expected.Trim()) {
        throw "Checksum mismatch for $($What): SHA-256 $actual instead of $($Expected.Trim())."
    }
    Write-Host "$($What): SHA-256 $actual checked."
}

# The installer of What, downloaded and checked, or $null (with a message) when Source is empty.
function Get-Installer([string] $What, [string] $Source, [string] $Sha256, [string] $Variable, [string] $Present) {
    if ([string]::IsNullOrWhiteSpace($Source)) {
        if ($Present) {
            Write-Host "$($What): not installed by this build ($Variable is empty); the base image has it ($Present)."
        } else {
            Write-Host "$($What): skipped, $Variable is empty. Flowsheets with Aspen Plus or ACM nodes need it on this image ($SeeReadme)."
        }
        return $null
    }
    if ([string]::IsNullOrWhiteSpace($Sha256)) {
        throw "$($What): $Variable is set but its SHA-256 ($($Variable -replace '_url$', '_sha256')) is empty. Give the installer's SHA-256 (Get-FileHash -Algorithm SHA256 <file>)."
    }
    $name = [IO.Path]::GetFileName(([Uri] $Source).LocalPath)
    if ([string]::IsNullOrWhiteSpace($name)) { throw "$($What): '$Source' names no file." }
    Initialize-WorkDir
    $target = Join-Path $WorkDir $name
    Save-Source $Source $target
    Assert-Sha256 $target $Sha256 $What
    return $target
}

# msiexec /i, quietly, with a verbose log whose tail is shown when it fails. 3010 and 1641 mean
# "restart needed": the image's instances boot afresh anyway.
function Install-Msi([string] $Msi, [string] $What) {
    $log = [IO.Path]::ChangeExtension($Msi, '.install.log')
    $arguments = @('/i', ('"' + $Msi + '"'), '/qn', '/norestart', '/l*v', ('"' + $log + '"'))
    $process = Start-Process -FilePath msiexec.exe -ArgumentList $arguments -Wait -PassThru
    if (@(0, 1641, 3010) -notcontains $process.ExitCode) {
        if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Tail 60 | Out-Host }
        throw "$What ($([IO.Path]::GetFileName($Msi))): msiexec failed with exit code $($process.ExitCode); its log is above."
    }
    Write-Host "$($What): installed ($([IO.Path]::GetFileName($Msi)), msiexec exit code $($process.ExitCode))."
}

function Get-SqlCompactVersion {
    foreach ($key in @($SqlCompactKey, ($SqlCompactKey -replace '\\SOFTWARE\\', '\SOFTWARE\WOW6432Node\'))) {
        $item = Get-ItemProperty -LiteralPath $key -Name Version -ErrorAction SilentlyContinue
        if ($item) { return [string] $item.Version }
    }
    return ''
}

# Admins and SYSTEM: full control; Users (the service's virtual account among them): read and run.
function Set-ReadOnlyAcl([string] $Path) {
    & icacls.exe $Path /inheritance:r /grant:r '*S-1-5-32-544:(OI)(CI)F' '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-545:(OI)(CI)RX' /Q | Out-Null
    Assert-ExitCode "icacls on $Path"
}

################################################################################
# Steps
################################################################################

function Install-Miniforge {
    Assert-Value $MiniforgeVersion 'MiniforgeVersion (MINIFORGE_VERSION)'
    if ($CondaDir -match '\s') { throw "CondaDir '$CondaDir' has a space: the Miniforge installer takes it unquoted." }
    if (Test-Path -LiteralPath $Conda) {
        Write-Host "Miniforge: already in $CondaDir ($(& $Conda --version))."
        return
    }
    Initialize-WorkDir
    $name = "Miniforge3-$MiniforgeVersion-Windows-x86_64.exe"
    $release = "https://github.com/conda-forge/miniforge/releases/download/$MiniforgeVersion"
    $installer = Join-Path $WorkDir $name
    Save-Source "$release/$name" $installer
    $expected = $MiniforgeSha256
    if ([string]::IsNullOrWhiteSpace($expected)) {
        $sums = "$installer.sha256"
        Save-Source "$release/$name.sha256" $sums
        $expected = ((Get-Content -LiteralPath $sums -Raw).Trim() -split '\s+')[0]
    }
    Assert-Sha256 $installer $expected $name
    # NSIS: /S silent; /D= must come last, unquoted.
    $arguments = @('/S', '/InstallationType=AllUsers', '/RegisterPython=0', '/AddToPath=0', "/D=$CondaDir")
    $process = Start-Process -FilePath $installer -ArgumentList $arguments -Wait -PassThru
    if ($process.ExitCode -ne 0 -or -not (Test-Path -LiteralPath $Conda)) {
        throw "The Miniforge installer failed (exit code $($process.ExitCode)); $Conda is missing."
    }
    Set-ReadOnlyAcl $CondaDir
    Remove-Item -LiteralPath $WorkDir -Recurse -Force
    Write-Host "Miniforge: $(& $Conda --version) in $CondaDir."
}

function Install-FoqusEnv {
    Assert-Value $FoqusVersion 'FoqusVersion (FOQUS_VERSION)'
    Assert-Value $PythonVersion 'PythonVersion (FOQUS_PYTHON_VERSION)'
    Assert-Value $Pywin32Version 'Pywin32Version (PYWIN32_VERSION)'
    if (-not (Test-Path -LiteralPath $Conda)) { throw "$Conda is missing: run -Step Miniforge first." }
    # Afresh, so that a second run gives the same env.
    if (Test-Path -LiteralPath $EnvDir) {
        & $Conda remove --yes --quiet --all --prefix $EnvDir
        Assert-ExitCode "conda remove --all --prefix $EnvDir"
        if (Test-Path -LiteralPath $EnvDir) { Remove-Item -LiteralPath $EnvDir -Recurse -Force }
    }
    & $Conda create --yes --quiet --prefix $EnvDir --override-channels --channel conda-forge "python=$PythonVersion" "pywin32=$Pywin32Version"
    Assert-ExitCode 'conda create'
    & $Conda clean --all --yes --quiet
    Assert-ExitCode 'conda clean'
    & $Python -m pip install --no-cache-dir --disable-pip-version-check --no-input "ccsi-foqus==$FoqusVersion"
    Assert-ExitCode "pip install ccsi-foqus==$FoqusVersion"
    $installed = & $Python -c "from importlib.metadata import version; print(version('ccsi-foqus'))"
    Assert-ExitCode 'reading the installed ccsi-foqus version'
    if ("$installed".Trim() -ne $FoqusVersion) { throw "pip installed ccsi-foqus $installed, not $FoqusVersion." }
    Write-Host "FOQUS: ccsi-foqus $installed in $EnvDir ($(& $Python --version))."
}

# FOQUS (3.27 and later) opens TurbineLite's database itself, at a fixed path (foqus_lib/core.py):
# it finds the consumers it starts there. TurbineLite's programs name theirs in their .config
# files (connectionString "Data Source=..."); older releases keep it under Program Files.
function Test-TurbineLiteDatabase {
    $expected = Join-Path $TurbineDataDir 'TurbineCompactDatabase.sdf'
    $named = @(Get-ChildItem -LiteralPath $TurbineLiteDir -Filter '*.config' -Recurse -ErrorAction SilentlyContinue |
        Select-String -Pattern 'Data Source=([^";]*TurbineCompactDatabase\.sdf)' -AllMatches |
        ForEach-Object { $_.Matches } | ForEach-Object { $_.Groups[1].Value.Replace('/', '\') } | Sort-Object -Unique)
    $others = @($named | Where-Object { $_ -ne $expected })
    if ($others.Count -gt 0) {
        Write-Warning ("TurbineLite's programs use the database {0}, but FOQUS opens {1}: Aspen Plus / ACM nodes will fail to find their consumers. Use the TurbineLite release that matches FOQUS {2} ({3})." -f ($others -join ', '), $expected, $FoqusVersion, $SeeReadme)
    } elseif ($named.Count -gt 0) {
        Write-Host "TurbineLite: database $expected, where FOQUS opens it."
    }
}

function Install-Simulators {
    # 1. SQL Server Compact 4.0: an MSI, or Microsoft's SSCERuntime_x64-ENU.exe, which unpacks its
    #    MSIs with /x: (the 32-bit one, when there, goes first).
    $present = Get-SqlCompactVersion
    $installer = Get-Installer 'SQL Server Compact 4.0' $SqlCompactSource $SqlCompactSha256 'sql_compact_url' $(if ($present) { "version $present" } else { '' })
    if ($installer) {
        $msis = @()
        if ($installer -like '*.exe') {
            $unpacked = Join-Path $WorkDir 'sqlce'
            New-Item -ItemType Directory -Force -Path $unpacked | Out-Null
            Start-Process -FilePath $installer -ArgumentList @('/i', "/x:$unpacked", '/q') -Wait | Out-Null
            $x86First = { if ($_.Name -match 'x86') { 0 } else { 1 } }
            $msis = @(Get-ChildItem -LiteralPath $unpacked -Filter '*.msi' -Recurse | Sort-Object -Property @($x86First, 'Name'))
            if ($msis.Count -eq 0) { throw "SQL Server Compact 4.0: $([IO.Path]::GetFileName($installer)) unpacked no MSI into $unpacked; give the MSI (SSCERuntime_x64-ENU.msi) instead." }
        } else {
            $msis = @(Get-Item -LiteralPath $installer)
        }
        foreach ($msi in $msis) { Install-Msi $msi.FullName 'SQL Server Compact 4.0' }
        $present = Get-SqlCompactVersion
        if (-not $present) { throw "SQL Server Compact 4.0 installed, but $SqlCompactKey has no Version." }
        Write-Host "SQL Server Compact: version $present."
    }

    # 2. SimSinter (C:\Program Files\CCSI\SimSinter, where FOQUS and TurbineLite look for it).
    $installer = Get-Installer 'SimSinter' $SimSinterSource $SimSinterSha256 'simsinter_url' $(if (Test-Path -LiteralPath $SimSinterDir) { $SimSinterDir } else { '' })
    if ($installer) {
        Install-Msi $installer 'SimSinter'
        if (-not (Test-Path -LiteralPath $SimSinterDir)) { throw "SimSinter installed, but $SimSinterDir is missing: FOQUS and TurbineLite look for it there." }
    }

    # 3. TurbineLite: its installer refuses to run without SQL Server Compact 4.0 and SimSinter 3.x,
    #    and installs its Aspen consumers only when SimSinter is there.
    $installer = Get-Installer 'TurbineLite' $TurbineLiteSource $TurbineLiteSha256 'turbinelite_url' $(if (Test-Path -LiteralPath $AspenConsumer) { $TurbineLiteDir } else { '' })
    if ($installer) {
        if (-not (Get-SqlCompactVersion)) { throw "TurbineLite needs SQL Server Compact 4.0: set sql_compact_url (or use a base image that has it)." }
        if (-not (Test-Path -LiteralPath $SimSinterDir)) { throw "TurbineLite needs SimSinter ($SimSinterDir): set simsinter_url (or use a base image that has it)." }
        Install-Msi $installer 'TurbineLite'
        if (-not (Test-Path -LiteralPath $AspenConsumer)) { throw "TurbineLite installed no Aspen consumer ($AspenConsumer), which FOQUS starts for Aspen Plus / ACM nodes: is SimSinter 3.x installed?" }
        $service = Get-Service -Name 'TurbineWebAPIService' -ErrorAction SilentlyContinue
        if (-not $service) { throw 'TurbineLite installed no TurbineWebAPIService (the Web API FOQUS submits Aspen jobs to, http://localhost:8000/TurbineLite).' }
        # It starts at boot (the installer does not start it): instances of the image run it.
        Set-Service -Name 'TurbineWebAPIService' -StartupType Automatic
        Test-TurbineLiteDatabase
    }
    if (Test-Path -LiteralPath $WorkDir) { Remove-Item -LiteralPath $WorkDir -Recurse -Force }
}

function Set-MachineSettings {
    if (-not (Test-Path -LiteralPath $Python)) { throw "$Python is missing: run -Step Foqus first." }

    # PATH: the env's folders in `conda activate`'s order, those that exist, appended once. The
    # raw value keeps its %SystemRoot%-style references (REG_EXPAND_SZ).
    $wanted = @(
        $EnvDir,
        (Join-Path $EnvDir 'Library\mingw-w64\bin'),
        (Join-Path $EnvDir 'Library\usr\bin'),
        (Join-Path $EnvDir 'Library\bin'),
        (Join-Path $EnvDir 'Scripts'),
        (Join-Path $EnvDir 'bin'),
        (Join-Path $EnvDir 'Lib\site-packages\pywin32_system32')
    ) | Where-Object { Test-Path -LiteralPath $_ -PathType Container }
    $environmentKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
    $raw = (Get-Item -LiteralPath $environmentKey).GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
    $entries = @($raw -split ';' | Where-Object { $_ -ne '' })
    $missing = @($wanted | Where-Object { $entries -notcontains $_ })
    if ($missing.Count -gt 0) {
        Set-ItemProperty -LiteralPath $environmentKey -Name 'Path' -Type ExpandString -Value (($entries + $missing) -join ';')
    }
    Write-Host "Machine PATH: added $($missing.Count) of the env's folders ($($wanted -join ';'))."

    # The worker runs the foqus application with this interpreter (core/config.ts).
    [Environment]::SetEnvironmentVariable('FOQUS_PYTHON', $Python, 'Machine')
    Write-Host "FOQUS_PYTHON = $Python (machine)."

    # Interactive services allowed (see the description above): a service flagged
    # SERVICE_INTERACTIVE_PROCESS gets the interactive window station, for Aspen's COM servers.
    $windowsKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Windows'
    Set-ItemProperty -LiteralPath $windowsKey -Name 'NoInteractiveServices' -Type DWord -Value 0
    $value = (Get-ItemProperty -LiteralPath $windowsKey -Name 'NoInteractiveServices').NoInteractiveServices
    if ($value -ne 0) { throw "NoInteractiveServices reads $value after setting it to 0." }
    Write-Host 'NoInteractiveServices = 0 (HKLM\SYSTEM\CurrentControlSet\Control\Windows; in effect from the next boot).'
}

function Test-Foqus {
    # The environment the service's worker gives FOQUS: the machine variables, HOME/APPDATA its own.
    foreach ($name in @('Path', 'FOQUS_PYTHON')) {
        $value = [Environment]::GetEnvironmentVariable($name, 'Machine')
        if ([string]::IsNullOrEmpty($value)) { throw "The machine environment has no $($name): run -Step Machine first." }
        Set-Item -LiteralPath "Env:$name" -Value $value
    }
    if ($env:FOQUS_PYTHON -ne $Python) { throw "FOQUS_PYTHON is $env:FOQUS_PYTHON, not $Python." }
    $bridge = Join-Path $AppDir 'worker\engines\foqus_bridge.py'
    if (-not (Test-Path -LiteralPath $bridge)) { throw "$bridge is missing: install the worker into $AppDir first." }
    Initialize-WorkDir
    $scratch = Join-Path $WorkDir ('check-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Force -Path $scratch | Out-Null
    $env:HOME = $scratch
    $env:APPDATA = $scratch
    $env:PYTHONUNBUFFERED = '1'
    $env:PYTHONIOENCODING = 'utf-8'
    Push-Location -LiteralPath $scratch
    try {
        & $env:FOQUS_PYTHON -c "import win32process, adodbapi; import foqus_lib.framework.session.session; print('FOQUS imports')"
        Assert-ExitCode 'Importing FOQUS from the env'

        # The bridge starts FOQUS (a session, its working-directory files), says ready, and ends
        # at the end of its input.
        $stdin = Join-Path $scratch 'bridge.in'
        $stdout = Join-Path $scratch 'bridge.out'
        $stderr = Join-Path $scratch 'bridge.log'
        [IO.File]::WriteAllText($stdin, '')
        $process = Start-Process -FilePath $env:FOQUS_PYTHON -ArgumentList @(('"' + $bridge + '"')) -WorkingDirectory $scratch `
            -RedirectStandardInput $stdin -RedirectStandardOutput $stdout -RedirectStandardError $stderr -Wait -PassThru
        $ready = [IO.File]::ReadAllText($stdout)
        if ($process.ExitCode -ne 0 -or $ready -notmatch '"event":"ready"') {
            Get-Content -LiteralPath $stdout, $stderr -Tail 40 | Out-Host
            throw "The foqus engine's bridge did not start FOQUS with $env:FOQUS_PYTHON (exit code $($process.ExitCode))."
        }
        Write-Host $ready.Trim()
    } finally {
        Pop-Location
    }
    Remove-Item -LiteralPath $WorkDir -Recurse -Force
}

switch ($Step) {
    'Miniforge' { Install-Miniforge }
    'Foqus' { Install-FoqusEnv }
    'Simulators' { Install-Simulators }
    'Machine' { Set-MachineSettings }
    'Check' { Test-Foqus }
}
