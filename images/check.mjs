/**
 * @module images/check
 * Static checks of the worker image builds, for machines without Packer, PowerShell or AWS:
 * - both Packer templates parse with HashiCorp's HCL parser (@cdktf/hcl2json, HCL's Go parser
 *   compiled to WebAssembly);
 * - every variable is described, typed and defaulted, every `var.X` used is declared and every
 *   declared variable is used;
 * - the shell provisioners' inline scripts and images/worker/install-foqus.sh pass `bash -n`
 *   (and shellcheck, when it is installed);
 * - the PowerShell provisioners' inline scripts (Packer interpolations rendered: variables with
 *   their defaults), the Windows user data and images/worker/*.ps1 parse with
 *   tree-sitter-powershell (WebAssembly; its grammar is not PowerShell's own parser, but it
 *   rejects unbalanced brackets, unterminated strings and the like).
 *
 * The three packages stay out of package.json: install them into a scratch prefix and point
 * IMAGES_CHECK_PREFIX at it (no install scripts are needed; only their .wasm files are used):
 *
 *   npm install --prefix /tmp/images-check --no-save --no-audit --no-fund --ignore-scripts \
 *     @cdktf/hcl2json@0.21.0 web-tree-sitter@0.27.2 tree-sitter-powershell@0.26.4
 *   IMAGES_CHECK_PREFIX=/tmp/images-check node images/check.mjs
 *
 * Exit code 0 when everything passes, 1 otherwise; one line per check.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const prefix = process.env.IMAGES_CHECK_PREFIX;
if (!prefix) {
  console.error(
    "Set IMAGES_CHECK_PREFIX to the npm prefix holding @cdktf/hcl2json, web-tree-sitter and tree-sitter-powershell (see the header of images/check.mjs).",
  );
  process.exit(2);
}
const load = createRequire(join(resolve(prefix), "node_modules", "images-check.js"));
const { parse } = load("@cdktf/hcl2json");
const { Parser, Language } = load("web-tree-sitter");
await Parser.init();
const powershell = new Parser();
powershell.setLanguage(
  await Language.load(load.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm")),
);

const scratch = mkdtempSync(join(tmpdir(), "images-check-"));
let failures = 0;
const fail = (what, why) => {
  failures++;
  console.log(`FAIL ${what}: ${why}`);
};
const ok = (what) => console.log(`ok   ${what}`);
const list = (value) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

// tree-sitter-powershell rejects native-command arguments of the form --name=value (valid
// PowerShell, e.g. `node --input-type=module`): they are parsed as "--name value".
function checkPowerShell(what, source) {
  const tolerant = source.replace(/(\s--[A-Za-z][\w-]*)=(?=\S)/g, "$1 ");
  const errors = [];
  const walk = (node) => {
    if (node.isError || node.isMissing) errors.push(node);
    for (const child of node.children) walk(child);
  };
  walk(powershell.parse(tolerant).rootNode);
  if (errors.length === 0) return ok(what);
  const shown = errors.slice(0, 3).map((node) => {
    const text = tolerant.slice(node.startIndex, node.startIndex + 60).replace(/\n/g, "\\n");
    return `${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.isMissing ? `missing ${node.type}` : text}`;
  });
  fail(what, shown.join(" | "));
}

function checkShell(what, source) {
  const file = join(scratch, "snippet.sh");
  writeFileSync(file, source);
  try {
    execFileSync("bash", ["-n", file], { stdio: "pipe" });
    ok(`${what} (bash -n)`);
  } catch (error) {
    fail(`${what} (bash -n)`, String(error.stderr).trim());
  }
}

for (const name of ["linux-worker.pkr.hcl", "windows-worker.pkr.hcl"]) {
  const path = join(root, "images", "packer", name);
  const text = readFileSync(path, "utf8");
  let template;
  try {
    template = await parse(path, text);
    ok(`${name} parses`);
  } catch (error) {
    fail(`${name} parses`, error?.message ?? String(error));
    continue;
  }

  const variables = template.variable ?? {};
  // A variable without a default must say so: its description starts with "Required.".
  for (const [variable, [body]] of Object.entries(variables))
    for (const key of ["description", "type", "default"])
      if (!(key in body) && !(key === "default" && /^Required\./.test(body.description ?? "")))
        fail(`${name} variable ${variable}`, `no ${key}`);
  const used = new Set([...text.matchAll(/\bvar\.([A-Za-z0-9_]+)/g)].map((match) => match[1]));
  const undeclared = [...used].filter((variable) => !(variable in variables));
  const unused = Object.keys(variables).filter((variable) => !used.has(variable));
  for (const variable of undeclared) fail(name, `var.${variable} is not declared`);
  for (const variable of unused) fail(name, `variable ${variable} is never used`);
  if (undeclared.length + unused.length === 0)
    ok(`${name}: ${Object.keys(variables).length} variables, each declared and used`);

  // Packer interpolations rendered: a variable as its default, a local as the longest it gets.
  const render = (source) =>
    source.replace(/\$\{([^}]+)\}/g, (_, expression) => {
      const variable = /^var\.(\w+)$/.exec(expression.trim());
      if (variable && variables[variable[1]]) return String(variables[variable[1]][0].default ?? "");
      if (expression.trim() === "local.service_options") return " -ServiceAccount 'LocalSystem' -Interactive";
      return "packer-value";
    });
  for (const build of list(template.build))
    for (const [type, blocks] of Object.entries(build.provisioner ?? {}))
      list(blocks).forEach((block, index) => {
        const inline = list(block.inline);
        if (inline.length === 0) return;
        const what = `${name} ${type} provisioner ${index + 1}`;
        if (type === "shell") checkShell(what, inline.join("\n"));
        if (type === "powershell") checkPowerShell(what, render(inline.join("\n")));
      });
  for (const sources of Object.values(template.source ?? {}))
    for (const [id, [body]] of Object.entries(sources)) {
      const userData = /<powershell>([\s\S]*)<\/powershell>/.exec(body.user_data ?? "");
      if (userData) checkPowerShell(`${name} source ${id} user_data`, userData[1]);
    }
}

for (const file of ["images/worker/install-foqus.ps1", "images/worker/install-windows-service.ps1"])
  checkPowerShell(file, readFileSync(join(root, file), "utf8"));

const shellScript = join(root, "images", "worker", "install-foqus.sh");
checkShell("images/worker/install-foqus.sh", readFileSync(shellScript, "utf8"));
try {
  execFileSync("shellcheck", ["--shell=bash", shellScript], { stdio: "pipe" });
  ok("images/worker/install-foqus.sh (shellcheck)");
} catch (error) {
  if (error.code === "ENOENT")
    console.log("skip images/worker/install-foqus.sh (shellcheck is not installed)");
  else fail("images/worker/install-foqus.sh (shellcheck)", String(error.stdout).trim());
}

rmSync(scratch, { recursive: true, force: true });
console.log(failures === 0 ? "images: all checks passed" : `images: ${failures} checks failed`);
process.exit(failures === 0 ? 0 : 1);
