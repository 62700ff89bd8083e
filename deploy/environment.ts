/**
 * @module deploy/environment
 * A named deployment environment (`ENV=prod make deploy`): its files and the settings the deploy
 * chain needs before Terraform runs (region, name prefix, the functions' architecture).
 *
 *   terraform/environments/<env>.tfvars             the stack's variables (committed)
 *   terraform/environments/<env>.s3.tfbackend       where its state lives (committed)
 *   terraform/environments/<env>.amis.tfvars.json   worker AMI ids, written by `make ami`
 *   .deploy/<env>/                                  image digest, Terraform data dir, staged root
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { labelledBlocks, readHcl } from "./hcl.ts";

export const REPOSITORY_ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const ENVIRONMENTS_DIR = join(REPOSITORY_ROOT, "terraform", "environments");

export interface Environment {
  name: string;
  varFile: string;
  backendFile: string;
  /** Written by `make ami`; read by Terraform after varFile when it exists. */
  amiVarFile: string;
  /** .deploy/<env>: everything the chain writes for this environment. */
  workDir: string;
  /** What push records and plan/apply read: { repositoryUrl, digest, imageUri, tag }. */
  imageRecord: string;
}

export interface EnvironmentSettings {
  region: string;
  namePrefix: string;
  /** The functions' instruction set: "arm64" or "x86_64". */
  architecture: string;
}

export function environment(name: string | undefined): Environment {
  if (!name || !/^[a-z][a-z0-9-]{0,30}$/.test(name)) {
    throw new Error(
      `Name the environment with ENV=<name> (lowercase letters, digits, hyphens), e.g. ENV=prod make deploy; got ${JSON.stringify(name)}.`,
    );
  }
  const workDir = join(REPOSITORY_ROOT, ".deploy", name);
  return {
    name,
    varFile: join(ENVIRONMENTS_DIR, `${name}.tfvars`),
    backendFile: join(ENVIRONMENTS_DIR, `${name}.s3.tfbackend`),
    amiVarFile: join(ENVIRONMENTS_DIR, `${name}.amis.tfvars.json`),
    workDir,
    imageRecord: join(workDir, "image.json"),
  };
}

/** Fails with what to do when the environment's committed files are missing. */
export function assertEnvironmentFiles(env: Environment): void {
  for (const file of [env.varFile, env.backendFile]) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} does not exist. Copy terraform/environments/prod.tfvars and prod.s3.tfbackend to ${env.name}.* and edit them (terraform/README.md, "Deploying to AWS").`,
      );
    }
  }
}

/** Var files Terraform reads for this environment, in order (later ones win). */
export function varFiles(env: Environment): string[] {
  return [env.varFile, ...(existsSync(env.amiVarFile) ? [env.amiVarFile] : [])];
}

/** The environment's value of a root variable, else the root's default. */
export async function settings(env: Environment): Promise<EnvironmentSettings> {
  const values = await readHcl(env.varFile);
  const defaults = labelledBlocks(
    await readHcl(join(REPOSITORY_ROOT, "terraform", "variables.tf")),
    "variable",
  );
  const value = (name: string): unknown => values[name] ?? defaults[name]?.default;
  const architectures = value("lambda_architectures");
  return {
    region: String(value("region")),
    namePrefix: String(value("name_prefix")),
    architecture: Array.isArray(architectures) ? String(architectures[0]) : "arm64",
  };
}

/** Docker's platform for a Lambda architecture. */
export function dockerPlatform(architecture: string): string {
  const platforms: Record<string, string> = { arm64: "linux/arm64", x86_64: "linux/amd64" };
  const platform = platforms[architecture];
  if (!platform)
    throw new Error(`Lambda has no architecture ${JSON.stringify(architecture)}: arm64 or x86_64.`);
  return platform;
}
