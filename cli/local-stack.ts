/**
 * @module cli/local-stack
 * The local defaults layer: the one module that knows `.local/stack.json`, the file `make local`
 * writes (API URL, demo user and the functions' environment, mode 0600) and removes when it stops.
 * Command-line tools fall back to it last, after their flags and the environment, so inside a
 * checkout with `make local` running they work with no configuration at all.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** What `make local` writes. */
export interface LocalStack {
  apiUrl: string;
  user: string;
  password: string;
  awsEndpoint: string;
  /** The functions' environment (table and bucket names…) plus the emulator's endpoint and keys. */
  environment: Record<string, string>;
}

/** Where the file is: FOQUS_STACK_FILE, else `.local/stack.json` at the checkout's root. */
export function localStackFile(): string {
  return process.env.FOQUS_STACK_FILE ?? fileURLToPath(new URL("../.local/stack.json", import.meta.url));
}

/** The running local stack's settings, or undefined when no `make local` runs here. */
export function readLocalStack(): LocalStack | undefined {
  const file = localStackFile();
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as LocalStack;
}
