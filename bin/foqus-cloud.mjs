#!/usr/bin/env node
// The command line for running jobs on FOQUS Cloud; see cli/foqus-cloud.ts. Runs the TypeScript
// source through tsx.
import { register } from "tsx/esm/api";

// The SDK's Node-version notice has no place on a user's command line (the CLI uses no SDK, but
// shared modules may load it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
const { runFoqusCloud } = await import("../cli/foqus-cloud.ts");
const code = await runFoqusCloud(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exitCode = code;
// Open handles (a keep-alive socket, stdin) must not keep a finished command waiting.
process.stdout.write("", () => process.exit(code));
