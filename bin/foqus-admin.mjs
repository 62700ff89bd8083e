#!/usr/bin/env node
// Operator command for users; see core/users/admin-cli.ts. Runs the TypeScript source through tsx.
import { register } from "tsx/esm/api";

register();
const { runAdmin } = await import("../core/users/admin-cli.ts");
try {
  const output = await runAdmin(process.argv.slice(2));
  if (output) console.log(output);
} catch (error) {
  console.error(`foqus-admin: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
