/**
 * @module deploy/terraform-stack
 * Terraform steps of the deploy chain, on the staged root (staged-root.ts): init with the
 * environment's backend, plan / apply / destroy with its var files and the image by digest, the
 * targeted apply that bootstraps the ECR repository, and reads of the state. `make plan`,
 * `make deploy`, `make destroy` and the emulator test (test/terraform/apply-destroy.test.ts) all
 * go through here.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { findPluginDir } from "../local/env/terraform.ts";
import { type Backend, stageRoot } from "./staged-root.ts";

export interface Deployment {
  /** For messages: the environment's name. */
  name: string;
  /** Where the staged root and the Terraform data dir live (.deploy/<env>, or a test's dir). */
  workDir: string;
  backend: Backend;
  /** -var-file arguments, in order. */
  varFiles: string[];
  /** -var arguments every plan, apply and destroy gets (the emulator's endpoint, ...). */
  vars?: Record<string, string>;
  /** Extra environment for terraform (emulator credentials). */
  env?: NodeJS.ProcessEnv;
  /** true: terraform talks to the terminal (prompts, colours); false: output is captured. */
  interactive?: boolean;
}

export interface TerraformResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The ECR repository, created alone on a first deploy so that an image can be pushed to it. */
export const REPOSITORY_ADDRESS = "module.functions.aws_ecr_repository.this";
export const REPOSITORY_BOOTSTRAP_TARGETS = [
  REPOSITORY_ADDRESS,
  "module.functions.aws_ecr_lifecycle_policy.this",
  "module.functions.aws_ecr_repository_policy.this",
];

const roots = new Map<string, string>();

/** The staged root of this deployment, made once per process. */
function rootOf(deployment: Deployment): string {
  let root = roots.get(deployment.workDir);
  if (!root) {
    root = stageRoot(join(deployment.workDir, "root"), deployment.backend);
    roots.set(deployment.workDir, root);
  }
  return root;
}

export function runTerraform(deployment: Deployment, args: string[]): Promise<TerraformResult> {
  const root = rootOf(deployment);
  mkdirSync(deployment.workDir, { recursive: true });
  const interactive = deployment.interactive ?? false;
  const env = {
    ...process.env,
    ...deployment.env,
    TF_DATA_DIR: join(deployment.workDir, ".terraform"),
    ...(interactive ? {} : { TF_IN_AUTOMATION: "1", TF_INPUT: "0" }),
  };
  const fullArgs = [`-chdir=${root}`, ...args, ...(interactive ? [] : ["-no-color"])];
  if (interactive) console.log(`$ terraform ${fullArgs.join(" ")}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn("terraform", fullArgs, {
      env,
      stdio: interactive ? ["inherit", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", (error) =>
      reject(new Error(`Cannot run terraform (${error.message}); install Terraform 1.10 or newer.`)),
    );
    child.on("close", (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** runTerraform that fails unless terraform exits 0. */
async function mustRun(deployment: Deployment, args: string[]): Promise<TerraformResult> {
  const result = await runTerraform(deployment, args);
  if (result.code !== 0) {
    throw new Error(
      `terraform ${args[0]} failed for ${deployment.name} (exit ${result.code})${
        deployment.interactive ? "" : `:\n${result.stderr.slice(-4000) || result.stdout.slice(-4000)}`
      }`,
    );
  }
  return result;
}

export interface InitOptions {
  /** Refuse to change .terraform.lock.hcl (tests). */
  lockfileReadonly?: boolean;
}

export function init(deployment: Deployment, options: InitOptions = {}): Promise<TerraformResult> {
  const pluginDir = findPluginDir();
  return runTerraform(deployment, [
    "init",
    "-input=false",
    ...(pluginDir ? [`-plugin-dir=${pluginDir}`] : []),
    ...(deployment.backend.kind === "s3" ? [`-backend-config=${deployment.backend.configFile}`] : []),
    ...(options.lockfileReadonly ? ["-lockfile=readonly"] : []),
  ]);
}

export interface StackOptions {
  /** "sha256:<hex>" of the pushed Lambda image: every function runs exactly that image. */
  imageDigest?: string;
  autoApprove?: boolean;
}

/** -var-file and -var arguments of a plan, apply or destroy. */
export function variableArgs(deployment: Deployment, options: StackOptions): string[] {
  const vars = {
    ...deployment.vars,
    ...(options.imageDigest ? { lambda_image_digest: options.imageDigest } : {}),
  };
  return [
    ...deployment.varFiles.map((file) => `-var-file=${file}`),
    ...Object.entries(vars).map(([name, value]) => `-var=${name}=${value}`),
  ];
}

export function plan(
  deployment: Deployment,
  options: StackOptions & { detailedExitcode?: boolean } = {},
): Promise<TerraformResult> {
  return runTerraform(deployment, [
    "plan",
    "-input=false",
    ...(options.detailedExitcode ? ["-detailed-exitcode"] : []),
    ...variableArgs(deployment, options),
  ]);
}

export function apply(deployment: Deployment, options: StackOptions = {}): Promise<TerraformResult> {
  return runTerraform(deployment, [
    "apply",
    ...(options.autoApprove ? ["-auto-approve"] : []),
    ...variableArgs(deployment, options),
  ]);
}

export function destroy(deployment: Deployment, options: StackOptions = {}): Promise<TerraformResult> {
  return runTerraform(deployment, [
    "destroy",
    ...(options.autoApprove ? ["-auto-approve"] : []),
    ...variableArgs(deployment, options),
  ]);
}

/** Addresses of every resource in the state. */
export async function stateAddresses(deployment: Deployment): Promise<string[]> {
  const result = await runTerraform({ ...deployment, interactive: false }, ["state", "list"]);
  // A new state has nothing to list: terraform then exits 1 with "No state file was found!".
  if (result.code !== 0 && /No state file/i.test(result.stderr)) return [];
  if (result.code !== 0) throw new Error(`terraform state list failed:\n${result.stderr.slice(-2000)}`);
  return result.stdout.split("\n").filter(Boolean);
}

/** Whether a first deploy must create the ECR repository before it can push. */
export function needsRepositoryBootstrap(addresses: readonly string[]): boolean {
  return !addresses.includes(REPOSITORY_ADDRESS);
}

/** Creates only the ECR repository (and its policies): the first deploy's bootstrap. */
export async function bootstrapRepository(deployment: Deployment): Promise<void> {
  await mustRun(deployment, [
    "apply",
    "-auto-approve",
    ...REPOSITORY_BOOTSTRAP_TARGETS.map((address) => `-target=${address}`),
    ...variableArgs(deployment, {}),
  ]);
}

interface StateResource {
  address: string;
  values: Record<string, unknown>;
}
interface StateModule {
  resources?: StateResource[];
  child_modules?: StateModule[];
}

/** The attributes of one resource in the state, or undefined. */
export async function stateValues(
  deployment: Deployment,
  address: string,
): Promise<Record<string, unknown> | undefined> {
  const result = await mustRun({ ...deployment, interactive: false }, ["show", "-json"]);
  const state = JSON.parse(result.stdout) as { values?: { root_module?: StateModule } };
  const find = (module: StateModule | undefined): StateResource | undefined =>
    module?.resources?.find((resource) => resource.address === address) ??
    module?.child_modules?.map(find).find(Boolean);
  return find(state.values?.root_module)?.values;
}

export { mustRun };
