/**
 * @module local/foqus-runtime
 * Finds a FOQUS the foqus engine can run, for tests, the benchmark and the local stack:
 * FOQUS_PYTHON (with FOQUS_PATH, optional) from the environment if set, else the vendored
 * runtime unpacked by local/env/foqus-runtime.sh (.local/foqus-runtime) with Debian's
 * /usr/bin/python3. Either is checked by importing FOQUS the way the engine's bridge does.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { config } from "../../core/config.ts";

export const VENDORED_FOQUS_PATH = resolve(
  fileURLToPath(new URL("../../.local/foqus-runtime", import.meta.url)),
);
export const SYSTEM_PYTHON = "/usr/bin/python3";

export type FoqusRuntime =
  | { available: true; python: string; foqusPath: string | undefined; source: "FOQUS_PYTHON" | "vendored" }
  | { available: false; reason: string };

/** Whether `python` (with `foqusPath` on PYTHONPATH) imports FOQUS; the failure if not. */
export function importsFoqus(python: string, foqusPath: string | undefined): string | undefined {
  const home = mkdtempSync(join(tmpdir(), "foqus-check-"));
  try {
    const pythonPath = [foqusPath, process.env.PYTHONPATH].filter((part) => part).join(delimiter);
    const check = spawnSync(python, ["-c", "import foqus_lib.framework.session.session"], {
      cwd: home,
      env: { ...process.env, HOME: home, ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
      encoding: "utf8",
      timeout: 120_000,
    });
    if (check.error) return `${python} cannot run: ${check.error.message}`;
    if (check.status !== 0) {
      const last = (check.stderr ?? "").trim().split("\n").slice(-1)[0] ?? "";
      return `${python} cannot import FOQUS${foqusPath ? ` from ${foqusPath}` : ""}: ${last}`;
    }
    return undefined;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

export function findFoqusRuntime(): FoqusRuntime {
  const python = config.foqusPython;
  if (python) {
    const foqusPath = config.foqusPath;
    const problem = importsFoqus(python, foqusPath);
    return problem
      ? { available: false, reason: `FOQUS_PYTHON is set, but ${problem}` }
      : { available: true, python, foqusPath, source: "FOQUS_PYTHON" };
  }
  if (!existsSync(join(VENDORED_FOQUS_PATH, "foqus_lib"))) {
    return {
      available: false,
      reason: `FOQUS_PYTHON is not set and the vendored FOQUS is not unpacked (${VENDORED_FOQUS_PATH}); run: bash local/env/foqus-runtime.sh`,
    };
  }
  const problem = importsFoqus(SYSTEM_PYTHON, VENDORED_FOQUS_PATH);
  return problem
    ? {
        available: false,
        reason: `FOQUS_PYTHON is not set and ${problem}; run: bash local/env/foqus-runtime.sh`,
      }
    : { available: true, python: SYSTEM_PYTHON, foqusPath: VENDORED_FOQUS_PATH, source: "vendored" };
}

/** The worker settings that turn its foqus engine on, for a runtime that was found. */
export function foqusWorkerEnvironment(runtime: FoqusRuntime): Record<string, string> {
  if (!runtime.available) return {};
  return { FOQUS_PYTHON: runtime.python, ...(runtime.foqusPath ? { FOQUS_PATH: runtime.foqusPath } : {}) };
}
