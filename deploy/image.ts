/**
 * `make image`: builds the one Lambda image (images/lambda/Dockerfile) from dist/lambda for the
 * functions' architecture (the environment's lambda_architectures, else the root's default):
 * `docker buildx build --platform linux/arm64|linux/amd64`, without provenance or SBOM
 * attestations, which would turn the push into an image index that Lambda refuses. The image is
 * loaded into the local engine as foqus-cloud-lambda:<env>; `make push` pushes it.
 * Usage: node --import tsx deploy/image.ts <env>
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { dockerPlatform, environment, REPOSITORY_ROOT, settings } from "./environment.ts";

export const DOCKERFILE = join(REPOSITORY_ROOT, "images", "lambda", "Dockerfile");

export function localImageName(env: string): string {
  return `foqus-cloud-lambda:${env}`;
}

/** The docker arguments of the build; the static image test reads them too. */
export function buildArgs(env: string, platform: string): string[] {
  return [
    "buildx",
    "build",
    `--platform=${platform}`,
    "--provenance=false",
    "--sbom=false",
    "--load",
    "--file",
    DOCKERFILE,
    "--tag",
    localImageName(env),
    REPOSITORY_ROOT,
  ];
}

async function main(): Promise<void> {
  const env = environment(process.argv[2]);
  const { architecture } = await settings(env);
  if (!existsSync(join(REPOSITORY_ROOT, "dist", "lambda"))) {
    throw new Error("dist/lambda does not exist: run make build first (make image does).");
  }
  const args = buildArgs(env.name, dockerPlatform(architecture));
  console.log(`$ docker ${args.join(" ")}`);
  const result = spawnSync("docker", args, { stdio: "inherit" });
  if (result.error)
    throw new Error(`Cannot run docker (${result.error.message}): install Docker with buildx.`);
  if (result.status !== 0) process.exit(result.status ?? 1);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
