/**
 * @module deploy/staged-root
 * The Terraform root as the deploy chain runs it: terraform/ plus one generated file that names
 * the state backend (S3 for a real environment, a local file for the emulator test).
 *
 * Why not a `backend "s3" {}` block in terraform/ itself: the emulator runs (make local, the test
 * suites, local/env/terraform.ts) apply the same root with local state of their own per run
 * (`-state=<file>` and their own TF_DATA_DIR). With an S3 backend declared there, every one of
 * those commands fails ("Backend initialization required"), and `init -backend=false` does not
 * help: plan and apply still refuse an uninitialised backend. So the backend is added here, in
 * a staged copy made of symlinks: terraform/'s files and folders, the generated backend file,
 * and beside it the repository's other top-level entries (the root reads ../handlers/). The
 * files are the same; only the backend differs, and terraform/ stays as the emulator runs need it.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REPOSITORY_ROOT } from "./environment.ts";

export type Backend =
  /** Remote state: a partial `backend "s3" {}` completed by this file's settings. */
  | { kind: "s3"; configFile: string }
  /** A state file at `path` (the emulator test). */
  | { kind: "local"; path: string };

export const BACKEND_FILE_NAME = "deploy_backend.tf";

/** Repository entries not linked into the stage: the root itself, deploy output, git. */
const NOT_LINKED_AT_TOP = new Set(["terraform", ".deploy", ".git"]);

/** What `terraform init` and runs leave in a root: never shared with the stage. */
function isRunOutput(name: string): boolean {
  return name === ".terraform" || name.includes(".tfstate") || name.endsWith(".tfplan");
}

export function backendConfiguration(backend: Backend): string {
  // S3-native locking (use_lockfile in the backend files) needs Terraform 1.10.
  const block =
    backend.kind === "s3"
      ? 'required_version = ">= 1.10"\n\n  backend "s3" {}'
      : `backend "local" {\n    path = ${JSON.stringify(backend.path)}\n  }`;
  return `# Written by deploy/staged-root.ts for this run; see that file for why.\nterraform {\n  ${block}\n}\n`;
}

/** (Re)creates <stageDir>/terraform and returns its path, the directory to run Terraform in. */
export function stageRoot(stageDir: string, backend: Backend): string {
  const terraformSource = join(REPOSITORY_ROOT, "terraform");
  if (existsSync(join(terraformSource, BACKEND_FILE_NAME))) {
    throw new Error(
      `terraform/${BACKEND_FILE_NAME} is the deploy chain's generated file name: rename that file.`,
    );
  }
  rmSync(stageDir, { recursive: true, force: true });
  const root = join(stageDir, "terraform");
  mkdirSync(root, { recursive: true });
  for (const entry of readdirSync(REPOSITORY_ROOT)) {
    if (!NOT_LINKED_AT_TOP.has(entry)) symlinkSync(join(REPOSITORY_ROOT, entry), join(stageDir, entry));
  }
  for (const entry of readdirSync(terraformSource)) {
    if (!isRunOutput(entry)) symlinkSync(join(terraformSource, entry), join(root, entry));
  }
  writeFileSync(join(root, BACKEND_FILE_NAME), backendConfiguration(backend));
  return root;
}
