/**
 * `make state-bucket`: once per AWS account, creates the S3 bucket that holds every
 * environment's Terraform state (terraform/bootstrap/, asking for confirmation unless
 * AUTO_APPROVE=1), then writes its name into each terraform/environments/*.s3.tfbackend that
 * still has the placeholder. REGION (default us-east-1) is the bucket's region.
 * Usage: node --import tsx deploy/state-bucket.ts
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findPluginDir } from "../local/env/terraform.ts";
import { BUCKET_PLACEHOLDER } from "./deployment.ts";
import { ENVIRONMENTS_DIR, REPOSITORY_ROOT } from "./environment.ts";

const BOOTSTRAP_ROOT = join(REPOSITORY_ROOT, "terraform", "bootstrap");
const WORK_DIR = join(REPOSITORY_ROOT, ".deploy", "bootstrap");

/** A backend file with the bucket filled in where the placeholder was. */
export function withBucket(backendFile: string, bucket: string): string {
  return backendFile.replace(BUCKET_PLACEHOLDER, bucket);
}

function terraform(args: string[], capture = false): string {
  mkdirSync(WORK_DIR, { recursive: true });
  const result = spawnSync("terraform", [`-chdir=${BOOTSTRAP_ROOT}`, ...args], {
    env: { ...process.env, TF_DATA_DIR: join(WORK_DIR, ".terraform") },
    stdio: capture ? ["inherit", "pipe", "inherit"] : "inherit",
    encoding: "utf8",
  });
  if (result.error) throw new Error(`Cannot run terraform (${result.error.message}).`);
  if (result.status !== 0) throw new Error(`terraform ${args[0]} failed (exit ${result.status}).`);
  return result.stdout ?? "";
}

function main(): void {
  const state = `-state=${join(WORK_DIR, "terraform.tfstate")}`;
  const pluginDir = findPluginDir();
  terraform(["init", "-input=false", ...(pluginDir ? [`-plugin-dir=${pluginDir}`] : [])]);
  terraform([
    "apply",
    state,
    `-var=region=${process.env.REGION ?? "us-east-1"}`,
    ...(process.env.AUTO_APPROVE === "1" ? ["-auto-approve"] : []),
  ]);
  const bucket = terraform(["output", "-raw", state, "bucket"], true).trim();
  for (const name of readdirSync(ENVIRONMENTS_DIR).filter((file) => file.endsWith(".s3.tfbackend"))) {
    const path = join(ENVIRONMENTS_DIR, name);
    const text = readFileSync(path, "utf8");
    if (!text.includes(BUCKET_PLACEHOLDER)) continue;
    writeFileSync(path, withBucket(text, bucket));
    console.log(`${path}: bucket = "${bucket}"`);
  }
  console.log(`State bucket ${bucket} is ready; commit terraform/environments/*.s3.tfbackend.`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    main();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}
