/**
 * Runs a command (the moto test suites) against a fresh emulator with the stack applied:
 * starts moto on a free port, applies terraform/ to it, passes the stack's outputs to the
 * command through FOQUS_TEST_STACK (a JSON file), and always stops moto afterwards.
 * Usage: node --import tsx test/helpers/run-with-moto.ts <command> [args…]
 */
import "../../local/env/process-defaults.ts";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMoto } from "../../local/env/moto.ts";
import { localEnvironment } from "../../local/env/stack.ts";
import { applyStack } from "../../local/env/terraform.ts";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: run-with-moto.ts <command> [args…]");
  process.exit(2);
}

const started = Date.now();
const workDir = mkdtempSync(join(tmpdir(), "foqus-test-"));
const moto = await startMoto();
let code = 1;
try {
  console.log(`moto on ${moto.endpoint}; applying terraform/ …`);
  const outputs = await applyStack({ workDir, endpoint: moto.endpoint });
  console.log(`stack applied in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const stackFile = join(workDir, "stack.json");
  writeFileSync(stackFile, JSON.stringify({ endpoint: moto.endpoint, outputs }));
  code = await new Promise<number>((resolve) => {
    const child = spawn(command, args, {
      stdio: "inherit",
      env: { ...process.env, ...localEnvironment(outputs, moto.endpoint), FOQUS_TEST_STACK: stackFile },
      shell: process.platform === "win32",
    });
    child.on("close", (status) => resolve(status ?? 1));
  });
} catch (error) {
  console.error((error as Error).message);
} finally {
  await moto.stop();
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(code);
