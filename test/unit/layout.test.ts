/**
 * The layout's one import rule: local/ (the emulated AWS services and the local environment) is
 * used only by local/ itself, the tests and the benchmarks. Production code (core, handlers,
 * worker, client, cli, bin) must run on AWS without it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";

const ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const ALLOWED = ["local", "test", "bench"];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sourceFiles(path);
    return /\.(ts|mjs|js)$/.test(name) ? [path] : [];
  });
}

const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)["'`]([^"'`]+)["'`]/g;

test("no file outside local/, test/ and bench/ imports local/", (t) => {
  const offenders: string[] = [];
  for (const area of ["core", "handlers", "worker", "client", "cli", "bin"]) {
    for (const file of sourceFiles(join(ROOT, area))) {
      for (const [, specifier] of readFileSync(file, "utf8").matchAll(IMPORT)) {
        if (!specifier?.startsWith(".")) continue;
        const target = relative(ROOT, resolve(file, "..", specifier));
        if (target.split("/")[0] === "local") offenders.push(`${relative(ROOT, file)} → ${specifier}`);
      }
    }
  }
  t.deepEqual(offenders, [], `only ${ALLOWED.join(", ")} may import local/`);
});
