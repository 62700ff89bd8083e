/**
 * @module deploy/ami-manifest
 * From Packer's manifest (the `manifest` post-processor of images/packer/*.pkr.hcl) to the var
 * file Terraform reads: terraform/environments/<env>.amis.tfvars.json,
 * `{ "worker_ami_ids": { "linux": "ami-…", "windows": "ami-…" } }`. A pool whose ami_id is ""
 * boots the image of its OS.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** What the manifest post-processor writes (the parts read here). */
export interface PackerManifest {
  builds: Array<{
    artifact_id: string;
    packer_run_uuid: string;
    custom_data?: Record<string, string>;
  }>;
  last_run_uuid: string;
}

export interface AmiVarFile {
  worker_ami_ids: Record<string, string>;
}

/**
 * The AMI of the manifest's last run in `region`, by the OS its template records in custom_data.
 * artifact_id is "<region>:<ami>[,<region>:<ami>…]".
 */
export function amisFromManifest(manifest: PackerManifest, region: string): Record<string, string> {
  const amis: Record<string, string> = {};
  for (const build of manifest.builds) {
    if (build.packer_run_uuid !== manifest.last_run_uuid) continue;
    const os = build.custom_data?.os;
    if (!os)
      throw new Error(
        "A Packer build has no custom_data.os: the template's manifest post-processor must set it.",
      );
    const ami = build.artifact_id
      .split(",")
      .map((pair) => pair.split(":"))
      .find(([artifactRegion]) => artifactRegion === region)?.[1];
    if (!ami) throw new Error(`Packer built no AMI in ${region} for ${os} (artifact ${build.artifact_id}).`);
    amis[os] = ami;
  }
  if (Object.keys(amis).length === 0) throw new Error("The Packer manifest's last run built nothing.");
  return amis;
}

/** The var file with these AMIs in, keeping those of the other OS from earlier runs. */
export function mergeAmiVarFile(existing: AmiVarFile | undefined, amis: Record<string, string>): AmiVarFile {
  return { worker_ami_ids: { ...existing?.worker_ami_ids, ...amis } };
}

export function writeAmiVarFile(path: string, amis: Record<string, string>): AmiVarFile {
  const existing = existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as AmiVarFile) : undefined;
  const merged = mergeAmiVarFile(existing, amis);
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}
