#!/usr/bin/env node
// Operator command for users; see cli/admin.ts. Runs the TypeScript source through tsx.
import { register } from "tsx/esm/api";

// The SDK warns on every run that its 2027 releases need Node 22; an operator's command line is
// no place for that notice (the Lambda runtime is Node 22).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
const { runAdmin } = await import("../cli/admin.ts");
try {
  const output = await runAdmin(process.argv.slice(2));
  if (output) console.log(output);
} catch (error) {
  console.error(`foqus-admin: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
