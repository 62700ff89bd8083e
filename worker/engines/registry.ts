/**
 * @module engines/registry
 * Which engine runs which application on this worker: `fake` always; `foqus` through the foqus
 * engine when FOQUS_PYTHON is set; every application listed in COMMAND_APPLICATIONS through the
 * command engine (the sample `cstr` model is built in).
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { config } from "../../core/config.ts";
import { createCommandEngine } from "./command.ts";
import type { Engine } from "./engine.ts";
import { createFakeEngine } from "./fake.ts";
import { createFoqusEngine } from "./foqus.ts";

export const SAMPLE_APPLICATIONS: Record<string, string[]> = {
  cstr: [process.execPath, fileURLToPath(new URL("../apps/cstr.mjs", import.meta.url))],
};

export function createEngineRegistry(): (application: string) => Engine | undefined {
  const fake = createFakeEngine({ delayMs: config.fakeDelayMs, failureRate: config.fakeFailureRate });
  const executables = { ...SAMPLE_APPLICATIONS, ...config.commandApplications };
  const command = createCommandEngine({ executables, timeoutSeconds: config.commandTimeoutSeconds });
  const foqusPython = config.foqusPython;
  const foqus = foqusPython
    ? createFoqusEngine({
        python: foqusPython,
        foqusPath: config.foqusPath,
        timeoutSeconds: config.foqusTimeoutSeconds,
        workDir: join(config.workerCacheDir, ".foqus-engine"),
        maxProcesses: config.workerConcurrency,
      })
    : undefined;
  return (application) => {
    if (application === "fake") return fake;
    if (application === "foqus" && foqus) return foqus;
    if (application in executables) return command;
    return undefined;
  };
}
