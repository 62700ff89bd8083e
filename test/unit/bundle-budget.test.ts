/**
 * handlers/build.ts's size budget: a function's bundle is what it loads before its handler runs
 * (its entry file, every chunk imported statically, and the Tracer chunk that loads at init
 * where tracing is on); what it imports with import() on other paths is its on-demand part. A
 * bundle over 500 KiB fails the build, named with its size.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { build, type Metafile } from "esbuild";
import { bundleSize, MAX_BUNDLE_BYTES, overBudget, xraySemverGteOnly } from "../../handlers/build.ts";

type Output = Metafile["outputs"][string];

/** A metafile output: its size, its imports, and the module it was built for (if an entry). */
function output(bytes: number, imports: Output["imports"] = [], entryPoint?: string): Output {
  return { bytes, imports, exports: [], inputs: {}, ...(entryPoint ? { entryPoint } : {}) };
}

const staticImport = (path: string) => ({ path, kind: "import-statement" as const });
const dynamicImport = (path: string) => ({ path, kind: "dynamic-import" as const });

const TRACER = "node_modules/@aws-lambda-powertools/tracer/lib/esm/index.js";

/** A handler that imports a shared chunk, the Tracer and S3 lazily; the Tracer imports X-Ray. */
const metafile: Metafile = {
  inputs: {},
  outputs: {
    "dist/lambda/session.mjs": output(
      100,
      [
        staticImport("dist/lambda/session-chunk-SHARED.mjs"),
        dynamicImport("dist/lambda/session-chunk-TRACER.mjs"),
        dynamicImport("dist/lambda/session-chunk-S3.mjs"),
      ],
      "handlers/http/session.ts",
    ),
    "dist/lambda/session-chunk-SHARED.mjs": output(40),
    "dist/lambda/session-chunk-TRACER.mjs": output(
      20,
      [
        staticImport("dist/lambda/session-chunk-XRAY.mjs"),
        staticImport("dist/lambda/session-chunk-SHARED.mjs"),
      ],
      TRACER,
    ),
    "dist/lambda/session-chunk-XRAY.mjs": output(7),
    "dist/lambda/session-chunk-S3.mjs": output(
      300,
      [
        staticImport("dist/lambda/session-chunk-SHARED.mjs"),
        dynamicImport("dist/lambda/session-chunk-PRESIGN.mjs"),
      ],
      "core/aws/s3-client.ts",
    ),
    "dist/lambda/session-chunk-PRESIGN.mjs": output(5),
  },
};

test("a bundle counts its entry, its static chunks and the Tracer loaded at init, each once", (t) => {
  const size = bundleSize(metafile, "dist/lambda/session.mjs");
  t.is(size.bytes, 100 + 40 + 20 + 7);
  t.deepEqual(size.files, [
    "dist/lambda/session-chunk-SHARED.mjs",
    "dist/lambda/session-chunk-TRACER.mjs",
    "dist/lambda/session-chunk-XRAY.mjs",
    "dist/lambda/session.mjs",
  ]);
});

test("what a bundle imports only with import() on other paths is its on-demand part", (t) => {
  const size = bundleSize(metafile, "dist/lambda/session.mjs");
  t.is(size.onDemandBytes, 300 + 5);
  t.deepEqual(size.onDemandFiles, [
    "dist/lambda/session-chunk-PRESIGN.mjs",
    "dist/lambda/session-chunk-S3.mjs",
  ]);
});

test("a bundle over the budget is named with its size; one at the budget passes", (t) => {
  const problems = overBudget({
    authorizer: MAX_BUNDLE_BYTES,
    session: MAX_BUNDLE_BYTES + 1,
    fallback: 100 * 1024,
    archiver: 612_345,
  });
  t.deepEqual(problems, [
    "session is 500.0 KiB (512001 bytes), over the 500 KiB budget",
    "archiver is 598.0 KiB (612345 bytes), over the 500 KiB budget",
  ]);
  t.deepEqual(overBudget({ application: 1024 }), []);
});

test("the budget is 500 KiB unless told otherwise", (t) => {
  t.is(MAX_BUNDLE_BYTES, 500 * 1024);
  t.deepEqual(overBudget({ job: 2048 }, 1024), ["job is 2.0 KiB (2048 bytes), over the 1 KiB budget"]);
});

test("the X-Ray SDK gets semver's own gte and nothing else of semver; other importers get semver", async (t) => {
  // Prepare: one module where the X-Ray SDK's would be, one elsewhere, both requiring semver.
  const dir = mkdtempSync(join(tmpdir(), "semver-gte-"));
  const xray = join(dir, "node_modules", "aws-xray-sdk-core", "patcher.js");
  const other = join(dir, "other.js");
  mkdirSync(join(dir, "node_modules", "aws-xray-sdk-core"), { recursive: true });
  writeFileSync(xray, 'const semver = require("semver"); module.exports = Object.keys(semver);');
  writeFileSync(other, 'module.exports = Object.keys(require("semver")).length;');
  const entry = join(dir, "entry.js");
  writeFileSync(
    entry,
    `module.exports = { xray: require(${JSON.stringify(xray)}), other: require(${JSON.stringify(other)}) };`,
  );

  // Act
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "node",
    format: "cjs",
    plugins: [xraySemverGteOnly],
    // semver from the repository's node_modules, for the module outside the X-Ray SDK
    nodePaths: [fileURLToPath(new URL("../../node_modules", import.meta.url))],
    logLevel: "silent",
  });
  const module = { exports: {} as { xray: string[]; other: number } };
  new Function("module", "exports", "require", result.outputFiles[0]?.text ?? "")(
    module,
    module.exports,
    () => {
      throw new Error("the bundle requires nothing at run time");
    },
  );

  // Assess
  t.deepEqual(module.exports.xray, ["gte"]);
  t.true(module.exports.other > 10, "semver itself, whole, for everyone else");
});
