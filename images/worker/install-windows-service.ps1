<#
.SYNOPSIS
    Installs the FOQUS Cloud worker as the Windows service FoqusWorker (Windows worker image).

.DESCRIPTION
    Run once, elevated, by images/packer/windows-worker.pkr.hcl after the code is in AppDir and
    `npm ci` has run there. Safe to run again: an existing service of the same name is removed
    first.

    node.exe cannot talk to the Service Control Manager, so the service runs a small wrapper,
    compiled here from the C# below with the .NET Framework that ships with Windows
    (Add-Type; nothing is downloaded). The wrapper:

    - starts `node --import tsx --import <stop hook> worker/main.ts` in AppDir;
    - gives it the machine environment variables as they are in the registry at that moment.
      The worker-pool module's user data sets JOB_QUEUE_URL, UPDATE_TOPIC_ARN, ... as machine
      variables and then restarts the service; a service inherits the environment the Service
      Control Manager read at boot, which does not have them yet, so the wrapper reads them
      itself. TEMP/TMP point at DataDir\tmp, and WORKER_CACHE_DIR defaults to DataDir\cache;
    - sets WORKER_CONFIG_FROM_TAGS=1 unless a machine variable sets it (0 turns it off), as the
      Linux image's systemd unit does: any worker setting the machine variables leave unset is
      read from the instance's tags through IMDSv2 (worker/instance-lifecycle.ts
      settingsFromTags; the pool's launch template makes tags readable there);
    - appends the worker's output to DataDir\logs\worker.log (moved to worker.log.1 at start
      once it passes 50 MB);
    - on stop, closes the worker's stdin. Windows has no SIGTERM to send; the stop hook (a
      preloaded module written next to the wrapper) turns the end of stdin into the SIGTERM
      the worker already handles: no new jobs, the jobs in hand get SHUTDOWN_GRACE_SECONDS to
      finish, the rest are released to other workers. After StopTimeoutSeconds the worker and
      everything it started are killed (their leases then expire and the jobs run elsewhere);
    - exits with an error when the worker dies on its own, so that the service's recovery
      actions (restart after 5 s, 5 s, then 30 s; counter reset after a day) start it again.

    The service starts Manual: it must not start before the user data has configured it, which
    then sets it to Automatic and restarts it. It runs as the virtual account
    NT SERVICE\FoqusWorker, which may read AppDir and Node.js and write only DataDir. That is
    enough for FOQUS flowsheets of Python and plain models. Aspen Plus / ACM nodes (SimSinter and
    TurbineLite driving Aspen's COM servers, licensed, on the base image) need more: pass
    -ServiceAccount LocalSystem -Interactive, as the upstream FOQUS cloud worker ran. -Interactive
    flags the service SERVICE_INTERACTIVE_PROCESS (LocalSystem only), which gives it, and the Aspen
    consumers FOQUS starts under it, the interactive window station, when the machine allows it
    (NoInteractiveServices = 0, set by install-foqus.ps1 -Step Machine; see there).

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File install-windows-service.ps1 -AppDir C:\foqus
#>
[CmdletBinding()]
param(
    # The repository's core/, worker/, package files and node_modules.
    [string] $AppDir = 'C:\foqus',
    # node.exe (Node.js 22). The image installs it to C:\nodejs: a path without spaces, because
    # the command engine splits an application's command line on spaces.
    [string] $NodeExe = 'C:\nodejs\node.exe',
    # Writable by the service: cache\ (staged files), logs\, tmp\.
    [string] $DataDir = (Join-Path $env:ProgramData 'foqus'),
    # The name the worker-pool module's user data restarts (terraform/modules/worker-pool).
    [string] $ServiceName = 'FoqusWorker',
    # 'NT SERVICE\<ServiceName>' (the default: a virtual account) or 'LocalSystem'.
    [string] $ServiceAccount = '',
    # SERVICE_INTERACTIVE_PROCESS (needs LocalSystem): the interactive window station, for Aspen.
    [switch] $Interactive,
    # SHUTDOWN_GRACE_SECONDS (10) + 30 s to release the jobs left and flush the event outbox.
    [int] $StopTimeoutSeconds = 40
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

if ($ServiceAccount -eq '') { $ServiceAccount = "NT SERVICE\$ServiceName" }
if ($Interactive -and $ServiceAccount -ne 'LocalSystem') {
    throw "-Interactive needs -ServiceAccount LocalSystem: Windows lets only LocalSystem services interact with the desktop."
}

foreach ($path in @($NodeExe, (Join-Path $AppDir 'worker\main.ts'), (Join-Path $AppDir 'node_modules\tsx'))) {
    if (-not (Test-Path -LiteralPath $path)) { throw "Missing $($path): copy the code to $AppDir and run npm ci there first." }
}

$serviceDir = Join-Path $AppDir 'service'
$wrapperExe = Join-Path $serviceDir 'FoqusWorkerService.exe'
$stopHook = Join-Path $serviceDir 'stop-on-stdin-end.mjs'
New-Item -ItemType Directory -Force -Path $serviceDir | Out-Null
foreach ($name in @('cache', 'logs', 'tmp')) {
    New-Item -ItemType Directory -Force -Path (Join-Path $DataDir $name) | Out-Null
}

################################################################################
# Remove an earlier installation
################################################################################

if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    Stop-Service -Name $ServiceName -Force -ErrorAction SilentlyContinue
    & sc.exe delete $ServiceName | Out-Null
    for ($i = 0; $i -lt 30 -and (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue); $i++) {
        Start-Sleep -Seconds 1
    }
}
if (Test-Path -LiteralPath $wrapperExe) { Remove-Item -LiteralPath $wrapperExe -Force }

################################################################################
# The stop hook (preloaded into the worker)
################################################################################

$stopHookSource = @'
// Written by images/worker/install-windows-service.ps1 and preloaded into the FoqusWorker
// service's worker. Windows has no SIGTERM a service could send: the service wrapper asks the
// worker to stop by closing its stdin, and this turns that into the SIGTERM worker/main.ts
// already handles (stop taking jobs, finish or release the jobs in hand).
let asked = false;
const stop = () => {
  if (asked) return;
  asked = true;
  process.emit("SIGTERM", "SIGTERM");
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.on("error", stop);
process.stdin.resume();
'@
[System.IO.File]::WriteAllText($stopHook, $stopHookSource, (New-Object System.Text.UTF8Encoding($false)))

################################################################################
# The service wrapper (C# 5: what Windows PowerShell's Add-Type compiles)
################################################################################

$wrapperSource = @'
using System;
using System.Collections;
using System.Diagnostics;
using System.IO;
using System.ServiceProcess;
using System.Text;

// FOQUS Cloud worker service wrapper; see images/worker/install-windows-service.ps1.
public sealed class FoqusWorkerService : ServiceBase
{
    private const long RotateBytes = 50L * 1024 * 1024;

    // Variables that describe the wrapper's own process or account, kept as the service has them.
    private static readonly string[] KeepOwn = { "TEMP", "TMP", "USERNAME", "USERPROFILE", "APPDATA", "LOCALAPPDATA" };

    private readonly string nodeExe;
    private readonly string appDir;
    private readonly string dataDir;
    private readonly int stopTimeoutSeconds;
    private readonly object logLock = new object();
    private StreamWriter log;
    private Process worker;
    private volatile bool stopping;

    public FoqusWorkerService(string name, string nodeExe, string appDir, string dataDir, int stopTimeoutSeconds)
    {
        ServiceName = name;
        CanStop = true;
        CanShutdown = true;
        CanPauseAndContinue = false;
        AutoLog = true;
        this.nodeExe = nodeExe;
        this.appDir = appDir;
        this.dataDir = dataDir;
        this.stopTimeoutSeconds = stopTimeoutSeconds;
    }

    public static int Main(string[] args)
    {
        if (args.Length != 5)
        {
            Console.Error.WriteLine("usage: FoqusWorkerService.exe <service name> <node.exe> <app dir> <data dir> <stop timeout seconds>");
            return 2;
        }
        ServiceBase.Run(new FoqusWorkerService(args[0], args[1], args[2], args[3], int.Parse(args[4])));
        return 0;
    }

    protected override void OnStart(string[] args)
    {
        string logs = Path.Combine(dataDir, "logs");
        string tmp = Path.Combine(dataDir, "tmp");
        string cache = Path.Combine(dataDir, "cache");
        Directory.CreateDirectory(logs);
        Directory.CreateDirectory(tmp);
        Directory.CreateDirectory(cache);
        OpenLog(Path.Combine(logs, "worker.log"));

        string stopHook = new Uri(Path.Combine(Path.Combine(appDir, "service"), "stop-on-stdin-end.mjs")).AbsoluteUri;
        ProcessStartInfo info = new ProcessStartInfo(nodeExe, "--import tsx --import " + stopHook + " worker/main.ts");
        info.WorkingDirectory = appDir;
        info.UseShellExecute = false;
        info.CreateNoWindow = true;
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;

        // The machine variables as they are now (the user data may have just set them).
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables(EnvironmentVariableTarget.Machine))
        {
            string key = (string)entry.Key;
            if (Array.IndexOf(KeepOwn, key.ToUpperInvariant()) >= 0) continue;
            info.Environment[key] = (string)entry.Value;
        }
        info.Environment["TEMP"] = tmp;
        info.Environment["TMP"] = tmp;
        if (!info.Environment.ContainsKey("WORKER_CACHE_DIR")) info.Environment["WORKER_CACHE_DIR"] = cache;
        // What the machine variables leave unset comes from the instance's tags (IMDSv2), as on
        // Linux (foqus-worker.service); a machine variable WORKER_CONFIG_FROM_TAGS=0 turns it off.
        if (!info.Environment.ContainsKey("WORKER_CONFIG_FROM_TAGS")) info.Environment["WORKER_CONFIG_FROM_TAGS"] = "1";

        worker = new Process();
        worker.StartInfo = info;
        worker.EnableRaisingEvents = true;
        worker.OutputDataReceived += (sender, e) => { if (e.Data != null) WriteLine(e.Data); };
        worker.ErrorDataReceived += (sender, e) => { if (e.Data != null) WriteLine(e.Data); };
        worker.Exited += OnWorkerExited;
        worker.Start();
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();
        Note("started worker process " + worker.Id);
    }

    protected override void OnStop()
    {
        StopWorker();
    }

    protected override void OnShutdown()
    {
        StopWorker();
    }

    private void StopWorker()
    {
        stopping = true;
        Process process = worker;
        if (process == null || process.HasExited) return;
        RequestAdditionalTime((stopTimeoutSeconds + 10) * 1000);
        Note("stopping: closing the worker's stdin");
        try { process.StandardInput.Close(); } catch (Exception) { }
        if (!process.WaitForExit(stopTimeoutSeconds * 1000))
        {
            Note("the worker did not stop within " + stopTimeoutSeconds + " s; killing it and its engines");
            KillTree(process.Id);
            process.WaitForExit(5000);
        }
        Note("stopped");
    }

    private void OnWorkerExited(object sender, EventArgs e)
    {
        if (stopping) return;
        int code = -1;
        try { code = worker.ExitCode; } catch (Exception) { }
        Note("the worker exited on its own (code " + code + "); ending the service so that its recovery actions restart it");
        // Let the output readers write the worker's last lines, then end without reporting
        // SERVICE_STOPPED: a failure to the Service Control Manager, which runs the recovery
        // actions.
        System.Threading.Thread.Sleep(1000);
        Environment.Exit(1);
    }

    private static void KillTree(int pid)
    {
        try
        {
            ProcessStartInfo kill = new ProcessStartInfo("taskkill.exe", "/T /F /PID " + pid);
            kill.UseShellExecute = false;
            kill.CreateNoWindow = true;
            using (Process process = Process.Start(kill)) { process.WaitForExit(10000); }
        }
        catch (Exception) { }
    }

    private void OpenLog(string path)
    {
        try
        {
            if (File.Exists(path) && new FileInfo(path).Length > RotateBytes)
            {
                string previous = path + ".1";
                if (File.Exists(previous)) File.Delete(previous);
                File.Move(path, previous);
            }
        }
        catch (Exception) { }
        lock (logLock)
        {
            if (log != null) log.Dispose();
            log = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false));
            log.AutoFlush = true;
        }
    }

    private void Note(string message)
    {
        WriteLine(DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'") + " [FoqusWorker service] " + message);
    }

    private void WriteLine(string line)
    {
        lock (logLock)
        {
            try { if (log != null) log.WriteLine(line); } catch (Exception) { }
        }
    }
}
'@

Add-Type -AssemblyName System.ServiceProcess
$serviceProcessAssembly = [System.ServiceProcess.ServiceBase].Assembly.Location
Add-Type -TypeDefinition $wrapperSource -Language CSharp -OutputType ConsoleApplication `
    -OutputAssembly $wrapperExe -ReferencedAssemblies $serviceProcessAssembly
if (-not (Test-Path -LiteralPath $wrapperExe)) { throw "Compiling the service wrapper produced no $wrapperExe." }

################################################################################
# The service
################################################################################

$binaryPath = '"{0}" "{1}" "{2}" "{3}" "{4}" {5}' -f $wrapperExe, $ServiceName, $NodeExe, $AppDir.TrimEnd('\'), $DataDir.TrimEnd('\'), $StopTimeoutSeconds
New-Service -Name $ServiceName -BinaryPathName $binaryPath -DisplayName 'FOQUS Cloud worker' `
    -Description 'Runs FOQUS Cloud jobs from its worker pool''s queue (configured by the instance user data).' `
    -StartupType Manual | Out-Null

function Invoke-Sc {
    & sc.exe @args | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "sc.exe $($args -join ' ') failed with exit code $LASTEXITCODE." }
}

if ($ServiceAccount -ne 'LocalSystem') {
    # A virtual account needs no password; Windows creates it with the service.
    Invoke-Sc config $ServiceName obj= $ServiceAccount
}
if ($Interactive) {
    # WIN32_OWN_PROCESS + INTERACTIVE_PROCESS (type 0x110).
    Invoke-Sc config $ServiceName type= interact type= own
}
# Recovery: restart after 5 s, 5 s, then 30 s; the failure count resets after a day. failureflag 1
# also counts a stop with a non-zero exit code as a failure.
Invoke-Sc failure $ServiceName reset= 86400 actions= restart/5000/restart/5000/restart/30000
Invoke-Sc failureflag $ServiceName 1

################################################################################
# File permissions
#
# Inherited ACLs under C:\ let every authenticated user modify new folders' contents. The code
# (and the wrapper) becomes read-only to all but administrators and SYSTEM; the service account
# may write only DataDir.
################################################################################

$administrators = '*S-1-5-32-544'
$system = '*S-1-5-18'
$serviceSid = if ($ServiceAccount -eq 'LocalSystem') { $system } else { $ServiceAccount }
function Invoke-Icacls {
    & icacls.exe @args | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls $($args -join ' ') failed with exit code $LASTEXITCODE." }
}
# Set on the folders themselves; Windows propagates the inheritable entries to their contents.
Invoke-Icacls $AppDir /inheritance:r /grant:r "${administrators}:(OI)(CI)F" "${system}:(OI)(CI)F" "${serviceSid}:(OI)(CI)RX" /Q
Invoke-Icacls $DataDir /inheritance:r /grant:r "${administrators}:(OI)(CI)F" "${system}:(OI)(CI)F" "${serviceSid}:(OI)(CI)M" /Q

$interactiveNote = if ($Interactive) { ' (interactive)' } else { '' }
Write-Host "Installed service $ServiceName ($binaryPath) running as $ServiceAccount$interactiveNote; start type Manual until the user data configures it."
