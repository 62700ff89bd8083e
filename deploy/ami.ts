/**
 * `make ami`: bakes the worker images with Packer (images/packer/<os>-worker.pkr.hcl) in the
 * environment's region, in a VPC and subnet you name, and writes the AMI ids from Packer's
 * manifest into terraform/environments/<env>.amis.tfvars.json, which `make plan` / `make deploy`
 * read. The next deploy updates the launch templates and the pools roll onto the new image by
 * instance refresh (busy workers are replaced once idle).
 *
 *   ENV=prod AMI_OS=linux AMI_VPC_ID=vpc-… AMI_SUBNET_ID=subnet-… make ami
 *
 * AMI_VPC_ID / AMI_SUBNET_ID default to the environment's worker_vpc_id and first of
 * worker_subnet_ids. The subnet needs outbound internet access (packages, npm, PyPI) and must
 * give the build instance an address Packer can reach (SSH, or WinRM over HTTPS).
 * Usage: node --import tsx deploy/ami.ts <env> [linux] [windows]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { amisFromManifest, type PackerManifest, writeAmiVarFile } from "./ami-manifest.ts";
import { environment, REPOSITORY_ROOT, settings } from "./environment.ts";
import { readHcl } from "./hcl.ts";

export const WORKER_OS = ["linux", "windows"] as const;

export function templateFor(os: string): string {
  return join(REPOSITORY_ROOT, "images", "packer", `${os}-worker.pkr.hcl`);
}

function packer(args: string[]): void {
  console.log(`$ packer ${args.join(" ")}`);
  const result = spawnSync("packer", args, { stdio: "inherit", cwd: REPOSITORY_ROOT });
  if (result.error)
    throw new Error(`Cannot run packer (${result.error.message}): install Packer 1.9 or newer.`);
  if (result.status !== 0) throw new Error(`packer ${args[0]} failed (exit ${result.status}).`);
}

async function main(): Promise<void> {
  const [name, ...requested] = process.argv.slice(2);
  const env = environment(name);
  const systems = requested.length > 0 ? requested : [...WORKER_OS];
  for (const os of systems) {
    if (!(WORKER_OS as readonly string[]).includes(os))
      throw new Error(`No worker image for ${os}: linux or windows.`);
  }
  const { region } = await settings(env);
  const values = await readHcl(env.varFile);
  const vpcId = process.env.AMI_VPC_ID ?? (values.worker_vpc_id as string | undefined);
  const subnetId = process.env.AMI_SUBNET_ID ?? (values.worker_subnet_ids as string[] | undefined)?.[0];
  if (!vpcId || !subnetId) {
    throw new Error(
      `Name the build's network: AMI_VPC_ID and AMI_SUBNET_ID, or worker_vpc_id and worker_subnet_ids in ${env.varFile}.`,
    );
  }
  mkdirSync(env.workDir, { recursive: true });
  for (const os of systems) {
    const manifest = join(env.workDir, `ami-manifest-${os}.json`);
    // One run per manifest: the file then names only this build.
    rmSync(manifest, { force: true });
    packer(["init", templateFor(os)]);
    packer([
      "build",
      `-var=region=${region}`,
      `-var=vpc_id=${vpcId}`,
      `-var=subnet_id=${subnetId}`,
      `-var=manifest_path=${manifest}`,
      templateFor(os),
    ]);
    const amis = amisFromManifest(JSON.parse(readFileSync(manifest, "utf8")) as PackerManifest, region);
    const written = writeAmiVarFile(env.amiVarFile, amis);
    console.log(`${env.amiVarFile}: ${JSON.stringify(written.worker_ami_ids)}`);
  }
  console.log(`Next: ENV=${env.name} make deploy (the pools roll onto the new images by instance refresh).`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
