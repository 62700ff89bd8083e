/**
 * @module local/env/terraform
 * Applies the repository's Terraform (terraform/) to the emulator, with its own data directory
 * and state file per run, so test runs and a local stack never share state.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const TERRAFORM_DIR = resolve(fileURLToPath(new URL("../../terraform", import.meta.url)));

/** Root outputs the local runtime reads (names from terraform/outputs.tf). */
export interface StackOutputs {
  api_endpoint: string;
  table_names: Record<string, string>;
  bucket_names: Record<string, string>;
  update_topic_arn: string;
  update_queue_url: string;
  update_dead_letter_queue_url: string;
  job_queue_urls: Record<string, string>;
  job_dead_letter_queue_urls: Record<string, string>;
  archive_queue_url: string;
  restore_queue_url: string;
  /** Pages of large starts, stops, kills and deletes (the fan-out function). */
  fanout_queue_url: string;
  notification_topic_arn: string;
  function_names: Record<string, string>;
  function_environment: Record<string, string>;
  worker_pools: Record<string, { applications: string[] }>;
}

/** The offline provider mirror, when this machine has one (else terraform downloads as usual). */
export function findPluginDir(): string | undefined {
  const candidates = [
    process.env.TF_PLUGIN_DIR,
    "/opt/tf-plugins",
    join(process.env.HOME ?? "", ".terraform.d/plugins"),
  ];
  for (const dir of candidates) {
    if (dir && existsSync(join(dir, "registry.terraform.io/hashicorp/aws"))) return dir;
  }
  return undefined;
}

export interface TerraformRun {
  /** Directory for this run's data dir and state. */
  workDir: string;
  endpoint: string;
  /** Called with each line terraform prints (for progress). */
  onLine?: (line: string) => void;
}

function emulatorEnv(run: Pick<TerraformRun, "workDir">): NodeJS.ProcessEnv {
  return {
    ...process.env,
    TF_DATA_DIR: join(run.workDir, ".terraform"),
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: "us-east-1",
  };
}

export interface TerraformResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs terraform in terraform/ with this run's data dir and emulator credentials; resolves with
 * the exit code and output (rejects only when terraform cannot be started).
 */
export function runTerraform(
  args: string[],
  run: Pick<TerraformRun, "workDir" | "onLine">,
): Promise<TerraformResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("terraform", [`-chdir=${TERRAFORM_DIR}`, ...args], {
      env: emulatorEnv(run),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      partial += chunk.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) run.onLine?.(line);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) =>
      reject(new Error(`Cannot run terraform (${error.message}); install Terraform 1.6 or newer.`)),
    );
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** runTerraform that fails unless terraform exits 0; resolves with its stdout. */
async function terraform(args: string[], run: TerraformRun): Promise<string> {
  const { code, stdout, stderr } = await runTerraform(args, run);
  if (code !== 0) {
    throw new Error(
      `terraform ${args[0]} failed (exit ${code}):\n${stderr.slice(-4000) || stdout.slice(-4000)}`,
    );
  }
  return stdout;
}

function stateArgs(run: TerraformRun): string[] {
  return [`-state=${join(run.workDir, "terraform.tfstate")}`];
}

function varArgs(run: TerraformRun): string[] {
  return ["-var-file=local.tfvars", `-var=aws_endpoint=${run.endpoint}`];
}

export async function terraformInit(run: TerraformRun): Promise<void> {
  mkdirSync(run.workDir, { recursive: true });
  const pluginDir = findPluginDir();
  await terraform(
    ["init", "-input=false", "-no-color", ...(pluginDir ? [`-plugin-dir=${pluginDir}`] : [])],
    run,
  );
}

/**
 * init + apply; returns the root outputs. A failed apply goes once more: on a loaded machine the
 * emulator can drop the answer to a call that did succeed, and the provider's retry of a call
 * that is not idempotent then fails (AddRoleToInstanceProfile: "LimitExceeded … 1"). The second
 * apply starts from the state the first left (a half-made resource is tainted and made again).
 */
export async function applyStack(run: TerraformRun): Promise<StackOutputs> {
  await terraformInit(run);
  const apply = ["apply", "-auto-approve", "-input=false", "-no-color", ...stateArgs(run), ...varArgs(run)];
  try {
    await terraform(apply, run);
  } catch (error) {
    const reason = (error as Error).message.split("\n").find((line) => line.startsWith("Error:")) ?? "";
    run.onLine?.(`terraform apply failed (${reason || "see above"}); applying once more`);
    await terraform(apply, run);
  }
  return readOutputs(run);
}

export async function readOutputs(run: TerraformRun): Promise<StackOutputs> {
  const raw = JSON.parse(await terraform(["output", "-json", "-no-color", ...stateArgs(run)], run)) as Record<
    string,
    { value: unknown }
  >;
  return Object.fromEntries(
    Object.entries(raw).map(([key, output]) => [key, output.value]),
  ) as unknown as StackOutputs;
}
