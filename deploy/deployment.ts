/**
 * @module deploy/deployment
 * The Terraform deployment of a named environment: its staged root with the S3 backend of
 * terraform/environments/<env>.s3.tfbackend, its var files, talking to the terminal.
 */
import { readFileSync } from "node:fs";
import { assertEnvironmentFiles, type Environment, varFiles } from "./environment.ts";
import type { Deployment } from "./terraform-stack.ts";

/** What the bootstrap writes into a backend file in place of this, once the bucket exists. */
export const BUCKET_PLACEHOLDER = "REPLACE-WITH-STATE-BUCKET";

export function environmentDeployment(env: Environment): Deployment {
  assertEnvironmentFiles(env);
  if (readFileSync(env.backendFile, "utf8").includes(BUCKET_PLACEHOLDER)) {
    throw new Error(
      `${env.backendFile} has no state bucket yet: create it once per account with \`make state-bucket\` (terraform/bootstrap/), which fills it in.`,
    );
  }
  return {
    name: env.name,
    workDir: env.workDir,
    backend: { kind: "s3", configFile: env.backendFile },
    varFiles: varFiles(env),
    interactive: true,
  };
}
