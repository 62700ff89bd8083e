/**
 * The deploy chain's own logic, without AWS or Docker: `make -n deploy` shows every step in
 * order; environments pair a var file with an S3 backend that locks; the staged root adds only
 * the backend to terraform/; plan/apply get the image by digest; a first deploy bootstraps ECR;
 * the digest comes from what the registry answered. (test/terraform/apply-destroy.test.ts runs
 * the Terraform steps themselves against moto.)
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { BUCKET_PLACEHOLDER } from "../../deploy/deployment.ts";
import { ENVIRONMENTS_DIR, environment, REPOSITORY_ROOT } from "../../deploy/environment.ts";
import { readHcl } from "../../deploy/hcl.ts";
import { digestFromPushOutput } from "../../deploy/image-record.ts";
import { BACKEND_FILE_NAME, backendConfiguration, stageRoot } from "../../deploy/staged-root.ts";
import { withBucket } from "../../deploy/state-bucket.ts";
import {
  needsRepositoryBootstrap,
  REPOSITORY_ADDRESS,
  REPOSITORY_BOOTSTRAP_TARGETS,
  variableArgs,
} from "../../deploy/terraform-stack.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

test("make -n deploy shows build, image, push, then terraform apply of the environment", (t) => {
  const result = spawnSync("make", ["-n", "deploy", "ENV=prod"], { cwd: REPOSITORY_ROOT, encoding: "utf8" });
  t.is(result.status, 0, result.stderr);
  const steps = result.stdout.split("\n").filter((line) => line.includes("--import tsx"));
  t.deepEqual(steps.slice(-4), [
    "node --import tsx handlers/build.ts",
    "node --import tsx deploy/image.ts prod",
    "node --import tsx deploy/push.ts prod",
    "node --import tsx deploy/terraform.ts apply prod",
  ]);
  const plan = spawnSync("make", ["-n", "plan", "ENV=dev"], { cwd: REPOSITORY_ROOT, encoding: "utf8" });
  t.regex(plan.stdout, /deploy\/push\.ts dev\n.*deploy\/terraform\.ts plan dev/);
});

test("every environment has a var file and an S3 backend of its own, with S3-native locking", async (t) => {
  const varFiles = readdirSync(ENVIRONMENTS_DIR).filter((file) => file.endsWith(".tfvars"));
  t.true(varFiles.length >= 2);
  const keys = new Set<string>();
  for (const file of varFiles) {
    const env = environment(file.replace(/\.tfvars$/, ""));
    t.true(existsSync(env.backendFile), `${env.name} has ${env.backendFile}`);
    const backend = await readHcl(env.backendFile);
    t.is(backend.use_lockfile, true, `${env.name}: use_lockfile = true`);
    t.is(backend.encrypt, true);
    t.true(typeof backend.key === "string" && !keys.has(backend.key), `${env.name}: a state key of its own`);
    keys.add(String(backend.key));
  }
  t.throws(() => environment(undefined), { message: /ENV=<name>/ });
  t.throws(() => environment("Prod"));
});

test("the state bucket's name replaces the placeholder in a backend file", (t) => {
  const text = readFileSync(join(ENVIRONMENTS_DIR, "prod.s3.tfbackend"), "utf8");
  const filled = withBucket(text, "foqus-terraform-state-123456789012-us-east-1");
  t.false(filled.includes(BUCKET_PLACEHOLDER));
  t.regex(filled, /^bucket\s+= "foqus-terraform-state-123456789012-us-east-1"$/m);
});

test("the staged root is terraform/ plus the backend file, beside the repository's other entries", (t) => {
  const stage = mkdtempSync(join(tmpdir(), "foqus-stage-"));
  t.teardown(() => rmSync(stage, { recursive: true, force: true }));
  const root = stageRoot(stage, { kind: "local", path: "/tmp/x.tfstate" });
  t.is(root, join(stage, "terraform"));
  for (const file of ["main.tf", "variables.tf", "modules", "local.tfvars"]) {
    t.true(lstatSync(join(root, file)).isSymbolicLink(), `${file} is linked`);
    t.is(readlinkSync(join(root, file)), join(REPOSITORY_ROOT, "terraform", file));
  }
  t.is(readlinkSync(join(stage, "handlers")), join(REPOSITORY_ROOT, "handlers"), "../handlers resolves");
  t.false(existsSync(join(root, ".terraform")), "no data dir is shared");
  t.regex(
    readFileSync(join(root, BACKEND_FILE_NAME), "utf8"),
    /backend "local" \{\n\s+path = "\/tmp\/x\.tfstate"/,
  );
  t.regex(
    backendConfiguration({ kind: "s3", configFile: "x" }),
    /required_version = ">= 1\.10"\n\n\s+backend "s3" \{\}/,
  );
});

test("plan and apply get the environment's var files, in order, and the image by digest", (t) => {
  const deployment = {
    name: "prod",
    workDir: "/unused",
    backend: { kind: "local" as const, path: "/unused" },
    varFiles: ["/a/prod.tfvars", "/a/prod.amis.tfvars.json"],
    vars: { aws_endpoint: "http://127.0.0.1:1" },
  };
  t.deepEqual(variableArgs(deployment, { imageDigest: DIGEST }), [
    "-var-file=/a/prod.tfvars",
    "-var-file=/a/prod.amis.tfvars.json",
    "-var=aws_endpoint=http://127.0.0.1:1",
    `-var=lambda_image_digest=${DIGEST}`,
  ]);
  t.false(variableArgs(deployment, {}).some((arg) => arg.includes("lambda_image_digest")));
});

test("a first deploy creates the ECR repository alone; later ones do not", (t) => {
  t.true(needsRepositoryBootstrap([]));
  t.true(needsRepositoryBootstrap(['module.tables.aws_dynamodb_table.this["jobs"]']));
  t.false(
    needsRepositoryBootstrap([REPOSITORY_ADDRESS, 'module.functions.aws_lambda_function.this["user"]']),
  );
  t.true(REPOSITORY_BOOTSTRAP_TARGETS.every((address) => address.startsWith("module.functions.aws_ecr_")));
});

test("the digest recorded is the one the registry answered the push with", (t) => {
  const output = `The push refers to repository [1.dkr.ecr.us-east-1.amazonaws.com/foqus-lambda]\nprod-1: digest: ${DIGEST} size: 1780\n`;
  t.is(digestFromPushOutput(output), DIGEST);
  t.throws(() => digestFromPushOutput("denied: not authorized"), { message: /no digest/ });
});
