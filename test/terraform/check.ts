/**
 * `make terraform-check`: terraform fmt -check and validate, offline (the provider comes from the
 * machine's mirror when it has one). Uses its own data directory, so it never touches a stack's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPluginDir, TERRAFORM_DIR } from "../../local/env/terraform.ts";

const dataDir = mkdtempSync(join(tmpdir(), "foqus-tf-check-"));
const env = { ...process.env, TF_DATA_DIR: join(dataDir, ".terraform"), TF_IN_AUTOMATION: "1" };
const pluginDir = findPluginDir();

function run(args: string[]): void {
  const result = spawnSync("terraform", [`-chdir=${TERRAFORM_DIR}`, ...args], { env, encoding: "utf8" });
  if (result.status !== 0) {
    console.error(`terraform ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(1);
  }
  console.log(`terraform ${args[0]}: ok`);
}

run(["fmt", "-check", "-recursive", "-diff"]);
run([
  "init",
  "-backend=false",
  "-input=false",
  "-no-color",
  ...(pluginDir ? [`-plugin-dir=${pluginDir}`] : []),
]);
run(["validate", "-no-color"]);
rmSync(dataDir, { recursive: true, force: true });
