/**
 * @module build
 * Bundles every Lambda handler into minified ES modules, SDK included, for the one container
 * image (images/lambda/Dockerfile): dist/lambda/<name>.mjs per function and its chunks,
 * dist/lambda/<name>-chunk-<hash>.mjs (esbuild code splitting, one build per function: chunks
 * shared between functions would cut what each loads into more, smaller files, which costs
 * bytes and cold-init time).
 *
 * A function's bundle is what it loads before its handler runs: its entry file, every chunk that
 * imports statically, and the Tracer chunk, which core/observability.ts loads at init wherever
 * tracing is on (in Lambda). What core loads with `import()` on the paths that need it (S3, SNS,
 * the Scheduler, the presigner, Powertools idempotency, the SDK's other credential providers,
 * the fallback's routes of one function) is the bundle's on-demand part.
 *
 * Writes each bundle's size to dist/lambda/sizes.json (what the benchmark reports) and the
 * on-demand parts beside it to dist/lambda/bundles.json. Fails, naming them, when a bundle is
 * over the 500 KiB budget of DESIGN section 10, or holds two copies of a Powertools package (two
 * copies broke idempotency for users: notes/pitfalls.md).
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BuildOptions, build, type Metafile, type Plugin } from "esbuild";
import { readConsoleSources } from "./http/console-assets.ts";
import routesFile from "./routes.json" with { type: "json" };

const OUT_DIR = "dist/lambda";
export const MAX_BUNDLE_BYTES = 500 * 1024;

/** Packages behind an `import()` that runs at init where tracing is on (core/observability.ts). */
const LOADED_AT_INIT = ["@aws-lambda-powertools/tracer"];

/** Function name → entry file. HTTP functions are the values of routes.json. */
export function lambdaEntries(): Record<string, string> {
  const entries: Record<string, string> = {
    authorizer: "handlers/authorizer.ts",
    "update-processor": "handlers/update-processor.ts",
    "submit-publisher": "handlers/submit-publisher.ts",
    archiver: "handlers/archiver.ts",
    restorer: "handlers/restorer.ts",
    "fan-out": "handlers/fan-out.ts",
  };
  for (const name of new Set(Object.values(routesFile.routes as Record<string, string>))) {
    entries[name] = `handlers/http/${name}.ts`;
  }
  return entries;
}

export interface BundleSize {
  /** What the function loads before its handler runs (the budget's figure). */
  bytes: number;
  /** What it may load later, on the paths that need it. */
  onDemandBytes: number;
  /** Output files of each part. */
  files: string[];
  onDemandFiles: string[];
}

function isLoadedAtInit(entryPoint: string | undefined): boolean {
  return LOADED_AT_INIT.some((name) => entryPoint?.includes(`node_modules/${name}/`));
}

/** The outputs `start` reaches through imports of the given kinds. */
function reachable(metafile: Metafile, start: string, kinds: ReadonlySet<string>): Set<string> {
  const seen = new Set([start]);
  const queue = [start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const { path, kind } of metafile.outputs[file]?.imports ?? []) {
      if (kinds.has(kind) && metafile.outputs[path] && !seen.has(path)) {
        seen.add(path);
        queue.push(path);
      }
    }
  }
  return seen;
}

const STATIC = new Set(["import-statement"]);
const ANY = new Set(["import-statement", "dynamic-import"]);

/** The size of the bundle whose entry file is `entryFile` (an output path of `metafile`). */
export function bundleSize(metafile: Metafile, entryFile: string): BundleSize {
  const all = reachable(metafile, entryFile, ANY);
  const atInit = reachable(metafile, entryFile, STATIC);
  for (const file of all) {
    if (isLoadedAtInit(metafile.outputs[file]?.entryPoint))
      for (const loaded of reachable(metafile, file, STATIC)) atInit.add(loaded);
  }
  const onDemand = [...all].filter((file) => !atInit.has(file));
  const bytes = (files: Iterable<string>) =>
    [...files].reduce((sum, file) => sum + (metafile.outputs[file]?.bytes ?? 0), 0);
  return {
    bytes: bytes(atInit),
    onDemandBytes: bytes(onDemand),
    files: [...atInit].sort(),
    onDemandFiles: onDemand.sort(),
  };
}

/** One line per bundle over `maxBytes`, naming it and its size. */
export function overBudget(sizes: Record<string, number>, maxBytes = MAX_BUNDLE_BYTES): string[] {
  return Object.entries(sizes)
    .filter(([, bytes]) => bytes > maxBytes)
    .map(
      ([name, bytes]) =>
        `${name} is ${(bytes / 1024).toFixed(1)} KiB (${bytes} bytes), over the ${maxBytes / 1024} KiB budget`,
    );
}

/**
 * The X-Ray SDK under Powertools Tracer requires all of semver (28 KiB) for one call, gte(), in
 * the patcher of the AWS SDK v2 (patchers/aws_p.js), which this code never uses (it captures v3
 * clients). The bundles give it semver's own gte and nothing else of semver. Remove when
 * aws-xray-sdk-core no longer requires the whole package.
 */
export const xraySemverGteOnly: Plugin = {
  name: "xray-semver-gte-only",
  setup(build) {
    build.onResolve({ filter: /^semver$/ }, (args) =>
      /node_modules\/aws-xray-sdk-core\//.test(args.importer)
        ? { path: "semver-gte-only", namespace: "xray-semver" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "xray-semver" }, () => ({
      contents: 'module.exports = { gte: require("semver/functions/gte") };',
      resolveDir: process.cwd(),
      loader: "js",
    }));
  },
};

/** Powertools packages that appear under more than one path in a bundle. */
export function duplicatePackages(metafile: Metafile): string[] {
  const roots = new Map<string, Set<string>>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(@aws-lambda-powertools\/[^/]+))\//.exec(input);
    if (!match?.[1] || !match[2]) continue;
    const set = roots.get(match[2]) ?? new Set<string>();
    set.add(match[1]);
    roots.set(match[2], set);
  }
  return [...roots].filter(([, paths]) => paths.size > 1).map(([name]) => name);
}

/** Every function's build options but its entry and its chunks' names. */
const buildOptions = () =>
  ({
    bundle: true,
    minify: true,
    platform: "node",
    target: "node22",
    format: "esm",
    // The packages' ES module builds first: esbuild can drop what a handler never uses from
    // those (the SDK's CommonJS builds keep every protocol and command they export).
    mainFields: ["module", "main"],
    metafile: true,
    legalComments: "none",
    // The web console's files, inlined into the bundles that serve them (http/console-assets.ts).
    define: { CONSOLE_ASSETS: JSON.stringify(JSON.stringify(readConsoleSources())) },
    plugins: [xraySemverGteOnly],
    // Some CommonJS dependencies call require(); give ESM bundles one.
    banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
    logLevel: "warning",
  }) satisfies BuildOptions;

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  // Chunk names change with their content: drop the last build's files.
  for (const file of readdirSync(OUT_DIR)) if (file.endsWith(".mjs")) rmSync(join(OUT_DIR, file));
  const entries = Object.entries(lambdaEntries());
  const options = buildOptions();
  const buildOne = ([name, entry]: [string, string]) =>
    build({
      entryPoints: { [name]: entry },
      outdir: OUT_DIR,
      outExtension: { ".js": ".mjs" },
      // Chunks beside the entries: the image copies dist/lambda/*.mjs to the task root.
      splitting: true,
      chunkNames: `${name}-chunk-[hash]`,
      ...options,
    });
  const results = await Promise.all(entries.map(buildOne));
  const sizes: Record<string, number> = {};
  const bundles: Record<string, BundleSize> = {};
  const problems: string[] = [];
  for (const [i, [name]] of entries.entries()) {
    const { metafile } = results[i]!;
    const bundle = bundleSize(metafile, `${OUT_DIR}/${name}.mjs`);
    sizes[name] = bundle.bytes;
    bundles[name] = bundle;
    const duplicates = duplicatePackages(metafile);
    if (duplicates.length > 0) problems.push(`${name} bundles two copies of ${duplicates.join(", ")}`);
  }

  writeFileSync(`${OUT_DIR}/sizes.json`, `${JSON.stringify(sizes, null, 2)}\n`);
  writeFileSync(`${OUT_DIR}/bundles.json`, `${JSON.stringify(bundles, null, 2)}\n`);
  console.log(`${"function".padEnd(18)} ${"bundle".padStart(9)}  on demand`);
  for (const [name, { bytes, onDemandBytes }] of Object.entries(bundles))
    console.log(
      `${name.padEnd(18)} ${`${(bytes / 1024).toFixed(1)} KiB`.padStart(9)}  ${(onDemandBytes / 1024).toFixed(1)} KiB`,
    );
  problems.push(...overBudget(sizes));
  if (problems.length > 0) {
    console.error(`build failed:\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
