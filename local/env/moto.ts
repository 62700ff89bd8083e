/**
 * @module local/env/moto
 * Runs the AWS emulator: moto_server through our launcher (local/env/moto_launcher.py, which
 * patches the moto bugs it lists), on loopback, and waits until it answers.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { assertPortFree, freePort } from "./ports.ts";

const LAUNCHER = fileURLToPath(new URL("./moto_launcher.py", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Clears every resource and item (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

function python(): string {
  return process.env.PYTHON ?? "python3";
}

/** Fails with install advice when moto is missing. */
export function assertMotoInstalled(): void {
  const check = spawnSync(python(), ["-c", "import moto, flask_cors"], { encoding: "utf8" });
  if (check.status !== 0) {
    throw new Error(
      `The AWS emulator is missing: '${python()} -c "import moto"' failed. Install it with: pip install 'moto[server]'\n${check.stderr ?? ""}`,
    );
  }
}

async function waitReady(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited with code ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(
    `moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s:\n${output()}`,
  );
}

export async function startMoto(options: { port?: number; portVariable?: string } = {}): Promise<MotoServer> {
  assertMotoInstalled();
  const port = options.port ?? (await freePort());
  if (options.port !== undefined) await assertPortFree(port, options.portVariable ?? "MOTO_PORT");
  let log = "";
  const child = spawn(python(), [LAUNCHER, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, MOTO_PORT: String(port) },
  });
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitReady(endpoint, child, () => log);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    endpoint,
    port,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
