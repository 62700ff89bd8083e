/**
 * `make push`: pushes the image `make image` built to this environment's ECR repository and
 * records its digest in .deploy/<env>/image.json for `make plan` / `make deploy`.
 *
 * The repository is Terraform's (modules/functions). On the first deploy of an environment it
 * does not exist yet, and the functions cannot be created before their image: so when the state
 * has no repository, this creates the repository alone first (a -target apply), pushes, and the
 * full apply follows.
 * Usage: node --import tsx deploy/push.ts <env>
 */
import { spawnSync } from "node:child_process";
import { environmentDeployment } from "./deployment.ts";
import { environment, settings } from "./environment.ts";
import { localImageName } from "./image.ts";
import { digestFromPushOutput, writeImageRecord } from "./image-record.ts";
import {
  bootstrapRepository,
  init,
  needsRepositoryBootstrap,
  REPOSITORY_ADDRESS,
  stateAddresses,
  stateValues,
} from "./terraform-stack.ts";

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, {
    input,
    encoding: "utf8",
    stdio: [input === undefined ? "inherit" : "pipe", "pipe", "inherit"],
  });
  if (result.error) throw new Error(`Cannot run ${command} (${result.error.message}).`);
  if (result.status !== 0) throw new Error(`${command} ${args[0]} failed (exit ${result.status}).`);
  return result.stdout;
}

/** A tag that says what was pushed: the environment, the commit, and when. */
function imageTag(env: string): string {
  const commit = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).stdout.trim();
  const dirty = spawnSync("git", ["status", "--porcelain"], { encoding: "utf8" }).stdout.trim() !== "";
  const time = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
  return `${env}-${commit || "nogit"}${dirty ? "-dirty" : ""}-${time}`;
}

async function main(): Promise<void> {
  const env = environment(process.argv[2]);
  const { region } = await settings(env);
  const deployment = environmentDeployment(env);
  if ((await init(deployment)).code !== 0) throw new Error(`terraform init failed for ${env.name}.`);

  if (needsRepositoryBootstrap(await stateAddresses(deployment))) {
    console.log(
      `First deploy of ${env.name}: creating its ECR repository alone, so that the image can be pushed.`,
    );
    await bootstrapRepository(deployment);
  }
  const repositoryUrl = String((await stateValues(deployment, REPOSITORY_ADDRESS))?.repository_url ?? "");
  if (!repositoryUrl) throw new Error(`${REPOSITORY_ADDRESS} has no repository_url in the state.`);

  const registry = repositoryUrl.split("/")[0] ?? repositoryUrl;
  const password = run("aws", ["ecr", "get-login-password", "--region", region]);
  run("docker", ["login", "--username", "AWS", "--password-stdin", registry], password);

  const tag = imageTag(env.name);
  const target = `${repositoryUrl}:${tag}`;
  run("docker", ["tag", localImageName(env.name), target]);
  console.log(`$ docker push ${target}`);
  const output = run("docker", ["push", target]);
  process.stdout.write(output);
  const digest = digestFromPushOutput(output);
  writeImageRecord(env.imageRecord, {
    repositoryUrl,
    tag,
    digest,
    imageUri: `${repositoryUrl}@${digest}`,
    pushedAt: new Date().toISOString(),
  });
  console.log(`pushed ${repositoryUrl}@${digest} (recorded in ${env.imageRecord})`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
