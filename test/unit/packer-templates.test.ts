/**
 * The Packer templates (images/packer), read with HashiCorp's HCL parser: each takes the build's
 * VPC and subnet as required variables and uses them (no default VPC is assumed), ends with the
 * manifest post-processor that `make ami` turns into Terraform's worker_ami_ids, and builds an
 * image of the OS of the pools it is for. Also the manifest → var file step itself.
 */
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
