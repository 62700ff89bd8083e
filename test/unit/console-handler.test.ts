/**
 * The console's static files: served by the console function from source and, the same bytes,
 * from its Lambda bundle, where handlers/build.ts inlines them (no files beside the bundle).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import test from "ava";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { build } from "esbuild";
import { readConsoleSources } from "../../handlers/http/console-assets.ts";
import { lambdaContext } from "../../local/runtime/lambda-context.ts";
import { makeHttpEvent } from "../helpers/factories.ts";

type Handler = (event: unknown, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

const page = (routeKey: string, asset?: string) =>
  makeHttpEvent({ routeKey, caller: null, ...(asset ? { pathParameters: { asset } } : {}) });

const bodyOf = (response: APIGatewayProxyStructuredResultV2) =>
  response.isBase64Encoded
    ? Buffer.from(response.body ?? "", "base64").toString("utf8")
    : (response.body ?? "");

test("serves index.html, its script and style with a strict Content-Security-Policy", async (t) => {
  const { handler } = (await import("../../handlers/http/console.ts")) as unknown as { handler: Handler };
  const index = await handler(page("GET /console"), lambdaContext("console"));
  t.is(index.statusCode, 200);
  t.is(bodyOf(index), readFileSync(new URL("../../console/index.html", import.meta.url), "utf8"));
  t.regex(String(index.headers?.["content-security-policy"]), /default-src 'none'.*script-src 'self'/);
  t.is(index.headers?.["access-control-allow-origin"], "*");
  const script = await handler(page("GET /console/{asset}", "console.js"), lambdaContext("console"));
  t.regex(String(script.headers?.["content-type"]), /^text\/javascript/);
  const missing = await handler(page("GET /console/{asset}", "../secrets"), lambdaContext("console"));
  t.is(missing.statusCode, 404);
  t.is((JSON.parse(missing.body ?? "{}") as { error: string }).error, "AssetNotFound");
});

test("the Lambda bundle carries the files inline and serves the same bytes", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "console-bundle-"));
  const outfile = join(dir, "console.mjs");
  await build({
    entryPoints: [new URL("../../handlers/http/console.ts", import.meta.url).pathname],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    logLevel: "silent",
    define: { CONSOLE_ASSETS: JSON.stringify(JSON.stringify(readConsoleSources())) },
    banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" },
  });
  // Only the bundle's own directory exists there: a read from console/ would fail.
  const { handler } = (await import(pathToFileURL(outfile).href)) as { handler: Handler };
  const script = await handler(page("GET /console/{asset}", "console.js"), lambdaContext("console"));
  t.is(script.statusCode, 200);
  t.is(bodyOf(script), readConsoleSources()["console.js"] ?? "missing");
});
