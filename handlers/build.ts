/**
 * @module build
 * Bundles every Lambda handler into one minified ES module each (dist/lambda/<name>.mjs), SDK
 * included, for the one container image (images/lambda/Dockerfile), and writes their sizes to
 * dist/lambda/sizes.json. Fails when a bundle holds two copies of a Powertools package (two
 * copies broke idempotency for users: notes/pitfalls.md); warns when one is over the 500 KB
 * target of DESIGN section 10 (reported by the benchmark, not enforced here).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { build, type Metafile } from "esbuild";
import { readConsoleSources } from "./http/console-assets.ts";
import routesFile from "./routes.json" with { type: "json" };

const OUT_DIR = "dist/lambda";
const MAX_BUNDLE_BYTES = 500 * 1024;

/** Function name → entry file. HTTP functions are the values of routes.json. */
export function lambdaEntries(): Record<string, string> {
  const entries: Record<string, string> = {
    authorizer: "handlers/authorizer.ts",
    "update-processor": "handlers/update-processor.ts",
    "submit-publisher": "handlers/submit-publisher.ts",
    archiver: "handlers/archiver.ts",
    restorer: "handlers/restorer.ts",
  };
  for (const name of new Set(Object.values(routesFile.routes as Record<string, string>))) {
    entries[name] = `handlers/http/${name}.ts`;
  }
  return entries;
}

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

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const sizes: Record<string, number> = {};
  const problems: string[] = [];
  const warnings: string[] = [];
  // The web console's files, inlined into the bundles that serve them (http/console-assets.ts).
  const consoleAssets = JSON.stringify(readConsoleSources());
  for (const [name, entry] of Object.entries(lambdaEntries())) {
    const result = await build({
      entryPoints: [entry],
      outfile: `${OUT_DIR}/${name}.mjs`,
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
      define: { CONSOLE_ASSETS: consoleAssets },
      // Some CommonJS dependencies call require(); give ESM bundles one.
      banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
      logLevel: "warning",
    });
    const output = Object.values(result.metafile.outputs)[0];
    sizes[name] = output?.bytes ?? 0;
    if (sizes[name] > MAX_BUNDLE_BYTES)
      warnings.push(`${name} is ${sizes[name]} bytes (budget ${MAX_BUNDLE_BYTES})`);
    const duplicates = duplicatePackages(result.metafile);
    if (duplicates.length > 0) problems.push(`${name} bundles two copies of ${duplicates.join(", ")}`);
  }
  writeFileSync(`${OUT_DIR}/sizes.json`, `${JSON.stringify(sizes, null, 2)}\n`);
  for (const [name, bytes] of Object.entries(sizes))
    console.log(`${name.padEnd(18)} ${(bytes / 1024).toFixed(1)} KB`);
  if (warnings.length > 0) console.warn(`over the size target:\n  ${warnings.join("\n  ")}`);
  if (problems.length > 0) {
    console.error(`build failed:\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
