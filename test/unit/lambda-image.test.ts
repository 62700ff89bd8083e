/**
 * Static checks of the one Lambda image, for machines without a container engine: every
 * function Terraform creates runs `<name>.handler` (image_config.command), and <name>.mjs is a
 * bundle handlers/build.ts makes from an entry that exports `handler`; the Dockerfile copies those
 * bundles, pins its base by digest, and leaves the platform to `make image`, whose buildx
 * platform is the functions' architecture, without attestations (an index Lambda refuses).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { build } from "esbuild";
import {
  dockerPlatform,
  ENVIRONMENTS_DIR,
  environment,
  REPOSITORY_ROOT,
  settings,
} from "../../deploy/environment.ts";
import { labelledBlocks, readHcl } from "../../deploy/hcl.ts";
import { buildArgs, DOCKERFILE } from "../../deploy/image.ts";
import { lambdaEntries } from "../../handlers/build.ts";
import routesFile from "../../handlers/routes.json" with { type: "json" };
import { interpolation } from "../helpers/terraform-config.ts";

const FUNCTIONS_MAIN = join(REPOSITORY_ROOT, "terraform", "modules", "functions", "main.tf");

/** Every function name the functions module creates: the HTTP functions plus its own list. */
async function terraformFunctionNames(): Promise<string[]> {
  const document = await readHcl(FUNCTIONS_MAIN);
  const locals = Object.assign({}, ...((document.locals ?? []) as Array<Record<string, unknown>>)) as Record<
    string,
    string
  >;
  const match = /^\$\{setunion\(var\.http_function_names, (\[[^\]]*\])\)\}$/.exec(
    locals.function_names ?? "",
  );
  if (!match?.[1])
    throw new Error(`functions module: function_names is not setunion(var.http_function_names, [...])`);
  const own = JSON.parse(match[1]) as string[];
  return [...new Set([...Object.values(routesFile.routes as Record<string, string>), ...own])].sort();
}

/** The command every function's image_config sets, with `each.key` left in. */
async function imageCommand(): Promise<string[]> {
  const document = await readHcl(FUNCTIONS_MAIN);
  const resources = document.resource as Record<string, Record<string, Array<Record<string, unknown>>>>;
  const lambda = resources.aws_lambda_function?.this?.[0];
  return ((lambda?.image_config as Array<{ command: string[] }>)?.[0]?.command ?? []) as string[];
}

async function exportsOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [join(REPOSITORY_ROOT, entry)],
    bundle: false,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  return Object.values(result.metafile.outputs).flatMap((output) => output.exports);
}

test("every function's image_config.command names a handler that build.ts bundles and that exports handler", async (t) => {
  const command = await imageCommand();
  t.deepEqual(command, [`${interpolation("each.key")}.handler`], "each function runs <its name>.handler");
  const entries = lambdaEntries();
  for (const name of await terraformFunctionNames()) {
    const entry = entries[name];
    t.truthy(entry, `function ${name} runs ${name}.handler, but handlers/build.ts makes no ${name}.mjs`);
    if (!entry) continue;
    t.true(
      (await exportsOf(entry)).includes("handler"),
      `${entry} (the bundle ${name}.mjs) exports no handler`,
    );
  }
});

test("the Dockerfile pins its base by digest, copies the bundles to the task root, and fixes no platform", (t) => {
  const dockerfile = readFileSync(DOCKERFILE, "utf8");
  const from = dockerfile.split("\n").filter((line) => /^FROM\s/i.test(line));
  t.is(from.length, 1);
  t.regex(from[0] ?? "", /^FROM public\.ecr\.aws\/lambda\/nodejs:22@sha256:[0-9a-f]{64}$/);
  t.notRegex(dockerfile, /^FROM\s+--platform/im, "the platform is buildx's, not the FROM line's");
  t.regex(dockerfile, /^COPY dist\/lambda\/\*\.mjs \$\{LAMBDA_TASK_ROOT\}\/$/m);
  const cmd = /^CMD \["([^"]+)\.handler"\]$/m.exec(dockerfile)?.[1];
  t.truthy(cmd && lambdaEntries()[cmd], `the default CMD names a bundle build.ts makes (${cmd})`);
});

test("the .dockerignore sends only the bundles to the builder", (t) => {
  const rules = readFileSync(join(REPOSITORY_ROOT, ".dockerignore"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"));
  t.deepEqual(rules, ["*", "!dist/lambda/*.mjs"]);
});

test("make image builds for the functions' architecture, without provenance or SBOM attestations", async (t) => {
  const root = labelledBlocks(await readHcl(join(REPOSITORY_ROOT, "terraform", "variables.tf")), "variable");
  const module = labelledBlocks(
    await readHcl(join(REPOSITORY_ROOT, "terraform", "modules", "functions", "variables.tf")),
    "variable",
  );
  t.deepEqual(root.lambda_architectures?.default, module.architectures?.default, "root and module agree");
  t.is(dockerPlatform("arm64"), "linux/arm64");
  t.is(dockerPlatform("x86_64"), "linux/amd64");
  t.throws(() => dockerPlatform("amd64"));

  // Each environment: its lambda_architectures (or the default) becomes buildx's --platform.
  for (const file of ["prod.tfvars", "dev.tfvars"]) {
    const env = environment(file.replace(/\.tfvars$/, ""));
    const values = await readHcl(join(ENVIRONMENTS_DIR, file));
    const architectures = (values.lambda_architectures ?? root.lambda_architectures?.default) as
      | string[]
      | undefined;
    const architecture = architectures?.[0] ?? "";
    t.is((await settings(env)).architecture, architecture);
    const args = buildArgs(env.name, dockerPlatform((await settings(env)).architecture));
    t.true(args.includes(`--platform=${dockerPlatform(architecture)}`), `${file}: ${args.join(" ")}`);
    t.true(args.includes("--provenance=false"));
    t.true(args.includes("--sbom=false"));
    t.is(args[args.indexOf("--file") + 1], DOCKERFILE);
  }
});
