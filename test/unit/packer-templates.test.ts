/**
 * The Packer templates (images/packer), read with HashiCorp's HCL parser: each takes the build's
 * VPC and subnet as required variables and uses them (no default VPC is assumed), ends with the
 * manifest post-processor that `make ami` turns into Terraform's worker_ami_ids, and builds an
 * image of the OS of the pools it is for; both install the CloudWatch agent, enabled at boot, and
 * write the worker's log to the file it ships, which the pools' user data configure it for. Also
 * the manifest → var file step itself.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { templateFor, WORKER_OS } from "../../deploy/ami.ts";
import { amisFromManifest, mergeAmiVarFile, type PackerManifest } from "../../deploy/ami-manifest.ts";
import { REPOSITORY_ROOT } from "../../deploy/environment.ts";
import { labelledBlocks, readHcl } from "../../deploy/hcl.ts";
import { interpolation } from "../helpers/terraform-config.ts";

type Body = Record<string, unknown>;

async function template(os: string) {
  const document = await readHcl(templateFor(os));
  const sources = (document.source ?? {}) as Record<string, Record<string, Body[]>>;
  const [[sourceName, [source]] = ["", []]] = Object.entries(sources["amazon-ebs"] ?? {});
  const [build] = (document.build ?? []) as Body[];
  return {
    variables: labelledBlocks(document, "variable"),
    sourceName,
    source: source ?? {},
    build: build ?? {},
  };
}

/** The pools' OS in the root's default worker_pools (os defaults to "linux"). */
async function poolSystems(): Promise<string[]> {
  const variables = labelledBlocks(
    await readHcl(join(REPOSITORY_ROOT, "terraform", "variables.tf")),
    "variable",
  );
  const pools = variables.worker_pools?.default as Record<string, { os?: string }>;
  return [...new Set(Object.values(pools).map((pool) => pool.os ?? "linux"))].sort();
}

for (const os of WORKER_OS) {
  test(`${os}: vpc_id and subnet_id are required variables, and the build instance runs there`, async (t) => {
    const { variables, source } = await template(os);
    for (const name of ["vpc_id", "subnet_id"]) {
      const variable = variables[name];
      t.truthy(variable, `variable ${name} is declared`);
      t.is(variable?.type, interpolation("string"));
      t.false("default" in (variable ?? {}), `${name} has no default: the network is always named`);
      t.regex(String(variable?.description), /^Required\./);
      t.is(source[name], interpolation(`var.${name}`), `the amazon-ebs source sets ${name}`);
    }
  });

  test(`${os}: a manifest post-processor records the AMI with its OS`, async (t) => {
    const { variables, build } = await template(os);
    const postProcessors = (build["post-processor"] ?? {}) as Record<string, Body[]>;
    const [manifest] = postProcessors.manifest ?? [];
    t.truthy(manifest, "the build has a manifest post-processor");
    t.is(manifest?.output, interpolation("var.manifest_path"));
    t.true(manifest?.strip_path);
    t.deepEqual(manifest?.custom_data, { os });
    t.truthy(variables.manifest_path?.default, "manifest_path has a default for hand-run builds");
  });
}

test("each template builds the OS and platform of the pools it is for", async (t) => {
  const linux = await template("linux");
  const windows = await template("windows");
  t.deepEqual(await poolSystems(), [...WORKER_OS].sort(), "every pool OS has a template, and no more");

  // Linux: Amazon Linux 2023 over SSH, an x86_64 or arm64 base matching the build instance.
  t.is(linux.source.communicator, undefined, "SSH, Packer's default");
  const linuxFilter = String(linux.variables.source_ami_name_filter?.default);
  t.regex(linuxFilter, /^al2023-ami-/);
  const linuxArchitecture = /x86_64|arm64/.exec(linuxFilter)?.[0];
  const graviton = /^[a-z]+\d+g[a-z]*\./.test(String(linux.variables.instance_type?.default));
  t.is(
    linuxArchitecture,
    graviton ? "arm64" : "x86_64",
    "the build instance runs the base image's architecture",
  );
  t.is((linux.source.tags as Body)?.OS, "amazon-linux-2023");

  // Windows: Windows Server over WinRM (HTTPS), x86_64 only.
  t.is(windows.source.communicator, "winrm");
  t.true(windows.source.winrm_use_ssl);
  t.regex(String(windows.variables.source_ami_name_filter?.default), /^Windows_Server-2022-/);
  t.false(
    /^[a-z]+\d+g[a-z]*\./.test(String(windows.variables.instance_type?.default)),
    "no arm64 for Windows",
  );
  t.is((windows.source.tags as Body)?.OS, "windows-server-2022");

  // The pool's user data speaks each image's language (modules/worker-pool): bash / PowerShell.
  const workerPool = (await readHcl(join(REPOSITORY_ROOT, "terraform", "modules", "worker-pool", "main.tf")))
    .locals as Array<Record<string, string>>;
  const locals = Object.assign({}, ...workerPool) as Record<string, string>;
  t.regex(locals.linux_user_data ?? "", /^#!\/bin\/bash/);
  t.regex(locals.linux_user_data ?? "", /systemctl restart foqus-worker\.service/);
  t.regex(locals.windows_user_data ?? "", /^<powershell>/);
  t.regex(locals.windows_user_data ?? "", /Restart-Service -Name FoqusWorker/);
});

test("both images' worker services read what their configuration leaves unset from instance tags", async (t) => {
  // Linux: the systemd unit the template installs sets the switch for the worker.
  const linux = await template("linux");
  const uploads = JSON.stringify(linux.build.provisioner);
  t.true(uploads.includes("images/worker/foqus-worker.service"), "the Linux template installs the unit");
  const unit = readFileSync(join(REPOSITORY_ROOT, "images", "worker", "foqus-worker.service"), "utf8");
  t.regex(unit, /^Environment=WORKER_CONFIG_FROM_TAGS=1$/m);

  // Windows: the service wrapper the template installs sets it unless a machine variable does.
  const windows = await template("windows");
  t.true(
    JSON.stringify(windows.build.provisioner).includes("install-windows-service.ps1"),
    "the Windows template installs the service",
  );
  const service = readFileSync(
    join(REPOSITORY_ROOT, "images", "worker", "install-windows-service.ps1"),
    "utf8",
  );
  t.regex(
    service,
    /if \(!info\.Environment\.ContainsKey\("WORKER_CONFIG_FROM_TAGS"\)\) info\.Environment\["WORKER_CONFIG_FROM_TAGS"\] = "1";/,
  );

  // The worker reads the tags through IMDSv2 only where the launch template lets it.
  const main = await readHcl(join(REPOSITORY_ROOT, "terraform", "modules", "worker-pool", "main.tf"));
  const resources = main.resource as Record<string, Record<string, Body[]>>;
  const [metadata] = (resources.aws_launch_template?.this?.[0]?.metadata_options ?? []) as Body[];
  t.is(metadata?.http_tokens, "required", "IMDSv2 only");
  t.is(metadata?.instance_metadata_tags, "enabled", "instance tags are readable through IMDS");
});

/** Every inline line of a build's provisioners of one type ("shell", "powershell"), in order. */
function inlineLines(build: Body, type: string): string[] {
  const provisioners = (build.provisioner ?? {}) as Record<string, Body[]>;
  return (provisioners[type] ?? []).flatMap((block) => (block.inline as string[] | undefined) ?? []);
}

const readImageFile = (name: string): string =>
  readFileSync(join(REPOSITORY_ROOT, "images", "worker", name), "utf8");

/** The worker-pool module's locals (HCL expressions as the parser leaves them: strings). */
async function workerPoolLocals(): Promise<Record<string, string>> {
  const main = await readHcl(join(REPOSITORY_ROOT, "terraform", "modules", "worker-pool", "main.tf"));
  return Object.assign({}, ...((main.locals ?? []) as Array<Record<string, string>>));
}

test("both images install the CloudWatch agent and start it at boot", async (t) => {
  // Linux: Amazon Linux 2023's own package, its unit enabled; a drop-in holds it back until the
  // pool's user data has configured it (fetch-config writes the .toml the condition names).
  const linux = await template("linux");
  const shell = inlineLines(linux.build, "shell");
  t.true(shell.includes("dnf -y install amazon-cloudwatch-agent"), "the distribution's package");
  t.true(shell.includes("systemctl enable amazon-cloudwatch-agent.service"), "enabled at boot");
  t.true(JSON.stringify(linux.build.provisioner).includes("images/worker/amazon-cloudwatch-agent-wait.conf"));
  t.true(
    shell.some((line) =>
      line.endsWith("/etc/systemd/system/amazon-cloudwatch-agent.service.d/foqus-wait-for-config.conf"),
    ),
    "the drop-in is installed beside the agent's unit",
  );
  t.regex(
    readImageFile("amazon-cloudwatch-agent-wait.conf"),
    /^\[Unit\]\nConditionPathExists=\/opt\/aws\/amazon-cloudwatch-agent\/etc\/amazon-cloudwatch-agent\.toml$/m,
  );

  // Windows: the MSI from the agent's published location, signature-checked, its service
  // (which the MSI registers) set to start at boot.
  const windows = await template("windows");
  t.is(
    windows.variables.cloudwatch_agent_msi_url?.default,
    "https://amazoncloudwatch-agent.s3.amazonaws.com/windows/amd64/latest/amazon-cloudwatch-agent.msi",
  );
  const provisioners = (windows.build.provisioner as Record<string, Body[]>).powershell ?? [];
  const agent = provisioners.find((block) =>
    ((block.environment_vars as string[] | undefined) ?? []).includes(
      `CLOUDWATCH_AGENT_MSI_URL=${interpolation("var.cloudwatch_agent_msi_url")}`,
    ),
  );
  t.truthy(agent, "a provisioner installs the agent from cloudwatch_agent_msi_url");
  const script = ((agent?.inline as string[] | undefined) ?? []).join("\n");
  t.regex(script, /Invoke-WebRequest -UseBasicParsing -Uri \$env:CLOUDWATCH_AGENT_MSI_URL/);
  t.regex(script, /Get-AuthenticodeSignature/);
  t.regex(script, /msiexec\.exe -ArgumentList @\('\/i'/);
  t.regex(script, /Set-Service -Name AmazonCloudWatchAgent -StartupType Automatic/);
  t.true(
    provisioners.indexOf(agent ?? {}) < provisioners.length - 1,
    "installed before the last step resets EC2Launch",
  );
});

test("both images write the worker's log to the file the agent ships", async (t) => {
  // Linux: the unit appends the worker's output to worker.log (stderr with it), which logrotate
  // copies and truncates under the running worker.
  const unit = readImageFile("foqus-worker.service");
  t.regex(unit, /^StandardOutput=append:\/var\/log\/foqus\/worker\.log$/m);
  t.regex(unit, /^StandardError=inherit$/m);
  const linux = await template("linux");
  const shell = inlineLines(linux.build, "shell");
  t.true(shell.includes("install -d -m 0750 -o root -g root /var/log/foqus"), "the log folder exists");
  t.true(
    shell.includes(
      "install -m 0644 -o root -g root /tmp/foqus-src/foqus-worker.logrotate /etc/logrotate.d/foqus-worker",
    ),
  );
  t.true(JSON.stringify(linux.build.provisioner).includes("images/worker/foqus-worker.logrotate"));
  const logrotate = readImageFile("foqus-worker.logrotate");
  t.regex(logrotate, /^\/var\/log\/foqus\/worker\.log \{$/m);
  t.regex(logrotate, /^\s+copytruncate$/m, "the worker keeps its descriptor: no restart to reopen");

  // Windows: the service wrapper appends the worker's output to DataDir\logs\worker.log.
  const service = readImageFile("install-windows-service.ps1");
  t.regex(service, /\$DataDir = \(Join-Path \$env:ProgramData 'foqus'\)/);
  t.regex(service, /OpenLog\(Path\.Combine\(logs, "worker\.log"\)\)/);

  // The agent's config (the pool's user data) tails exactly those files.
  const locals = await workerPoolLocals();
  t.regex(locals.worker_log_file ?? "", /"C:\\\\ProgramData\\\\foqus\\\\logs\\\\worker\.log"/);
  t.regex(locals.worker_log_file ?? "", /"\/var\/log\/foqus\/worker\.log"/);
});

test("each pool's user data configures the agent for its own log group, then starts the worker", async (t) => {
  const locals = await workerPoolLocals();
  const config = locals.cloudwatch_agent_config ?? "";
  t.regex(config, /file_path\s+= local\.worker_log_file/);
  t.regex(config, /log_group_name\s+= aws_cloudwatch_log_group\.worker\.name/);
  t.regex(config, /log_stream_name = "\{instance_id\}"/, "one stream per instance");
  t.regex(config, /traces_collected = \{\s+xray = \{\s+bind_address = local\.xray_daemon_address/);
  t.is(locals.xray_daemon_address, "127.0.0.1:2000");
  t.regex(locals.worker_environment ?? "", /AWS_XRAY_DAEMON_ADDRESS = local\.xray_daemon_address/);

  // Linux: config file, agent, then the worker (whose first lines the agent then ships).
  const agentConfig = interpolation("local.cloudwatch_agent_config");
  const agentConfigPath = interpolation("local.linux_agent_config");
  const linux = locals.linux_user_data ?? "";
  const linuxStart = linux.indexOf(
    `amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c file:${agentConfigPath} -s`,
  );
  t.true(linux.indexOf(`cat > ${agentConfigPath} <<'JSON'\n${agentConfig}\nJSON`) >= 0);
  t.true(linuxStart > 0, "the agent starts with the written config");
  t.true(linuxStart < linux.indexOf("systemctl restart foqus-worker.service"));

  // Windows: the same through the agent's PowerShell control script.
  const windows = locals.windows_user_data ?? "";
  t.true(windows.indexOf(`$agentConfigJson = @'\n${agentConfig}\n'@`) >= 0);
  const windowsStart = windows.indexOf(
    'amazon-cloudwatch-agent-ctl.ps1\' -a fetch-config -m ec2 -c "file:$agentConfig" -s',
  );
  t.true(windowsStart > 0, "the agent starts with the written config");
  t.true(windowsStart < windows.indexOf("Restart-Service -Name FoqusWorker"));

  // The group the config names: per pool, with a retention.
  const main = await readHcl(join(REPOSITORY_ROOT, "terraform", "modules", "worker-pool", "main.tf"));
  const [group] =
    (main.resource as Record<string, Record<string, Body[]>>).aws_cloudwatch_log_group?.worker ?? [];
  t.is(group?.name, `/foqus/${interpolation("var.name_prefix")}/worker/${interpolation("var.pool_name")}`);
  t.is(group?.retention_in_days, interpolation("var.log_retention_days"));
});

const MANIFEST: PackerManifest = {
  builds: [
    { artifact_id: "us-east-1:ami-0aaa", packer_run_uuid: "old", custom_data: { os: "linux" } },
    {
      artifact_id: "eu-west-1:ami-0eee,us-east-1:ami-0bbb",
      packer_run_uuid: "new",
      custom_data: { os: "linux" },
    },
  ],
  last_run_uuid: "new",
};

test("make ami takes the last run's AMI in the environment's region, by OS", (t) => {
  t.deepEqual(amisFromManifest(MANIFEST, "us-east-1"), { linux: "ami-0bbb" });
  t.deepEqual(amisFromManifest(MANIFEST, "eu-west-1"), { linux: "ami-0eee" });
  t.throws(() => amisFromManifest(MANIFEST, "ap-south-1"), { message: /no AMI in ap-south-1/ });
  t.throws(
    () =>
      amisFromManifest(
        { builds: [{ artifact_id: "us-east-1:ami-1", packer_run_uuid: "x" }], last_run_uuid: "x" },
        "us-east-1",
      ),
    { message: /custom_data\.os/ },
  );
});

test("a new AMI replaces its OS's and keeps the other's", (t) => {
  t.deepEqual(
    mergeAmiVarFile({ worker_ami_ids: { linux: "ami-old", windows: "ami-win" } }, { linux: "ami-new" }),
    {
      worker_ami_ids: { linux: "ami-new", windows: "ami-win" },
    },
  );
  t.deepEqual(mergeAmiVarFile(undefined, { windows: "ami-win" }), { worker_ami_ids: { windows: "ami-win" } });
});
