/**
 * `make plan`, `make deploy`, `make destroy`: Terraform for a named environment, on the staged
 * root with the environment's S3 backend (deploy/staged-root.ts), its var files, and the image
 * `make push` recorded, by digest.
 *
 *   plan    <env>   terraform plan
 *   apply   <env>   terraform apply (asks for confirmation unless AUTO_APPROVE=1)
 *                   IMAGE_DIGEST=sha256:… runs that image of the repository instead of the one
 *                   recorded: a rollback (README, "Operations runbook")
 *   destroy <env>   first an apply that lifts the data guards (deletion protection on the tables,
 *                   buckets and the image repository refusing to go while not empty), then
 *                   terraform destroy; both ask unless AUTO_APPROVE=1
 *
 * Usage: node --import tsx deploy/terraform.ts plan|apply|destroy <env>
 */
import { existsSync } from "node:fs";
import { environmentDeployment } from "./deployment.ts";
import { environment } from "./environment.ts";
import { readImageRecord } from "./image-record.ts";
import { apply, type Deployment, destroy, init, plan, type TerraformResult } from "./terraform-stack.ts";

/** What lets `terraform destroy` delete stores that still hold data. */
export const DESTROY_GUARDS_OFF = { force_destroy: "true", deletion_protection_enabled: "false" };

async function must(step: string, result: Promise<TerraformResult>): Promise<void> {
  const { code } = await result;
  if (code !== 0) throw new Error(`terraform ${step} failed (exit ${code}).`);
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const env = environment(name);
  const deployment = environmentDeployment(env);
  const autoApprove = process.env.AUTO_APPROVE === "1";
  await must("init", init(deployment));

  if (command === "plan" || command === "apply") {
    // IMAGE_DIGEST: an earlier image of the repository (a rollback); else the one just pushed.
    const digest = process.env.IMAGE_DIGEST || readImageRecord(env.imageRecord).digest;
    console.log(`${env.name}: functions run the image ${digest} of its ECR repository`);
    await must(
      command,
      (command === "plan" ? plan : apply)(deployment, { imageDigest: digest, autoApprove }),
    );
    return;
  }
  if (command === "destroy") {
    // The digest only keeps the functions unchanged while the guards come off.
    const imageDigest = existsSync(env.imageRecord) ? readImageRecord(env.imageRecord).digest : undefined;
    const unguarded: Deployment = { ...deployment, vars: { ...deployment.vars, ...DESTROY_GUARDS_OFF } };
    console.log(`${env.name}: lifting deletion protection and emptying guards, then destroying everything.`);
    await must("apply", apply(unguarded, { imageDigest, autoApprove }));
    await must("destroy", destroy(unguarded, { imageDigest, autoApprove }));
    return;
  }
  throw new Error("usage: deploy/terraform.ts plan|apply|destroy <env>");
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
