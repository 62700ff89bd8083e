/**
 * @module zod
 * The one zod entry point of the code that ships in Lambda bundles: zod/mini, whose functions
 * tree-shake (the classic build's methods carry all of zod into every bundle), with English
 * messages. zod/mini loads no locale by itself, and without one every default message would be
 * a bare "Invalid input"; classic zod's messages are the ones our errors and tests quote.
 * Import it as `import * as z from "…/zod.ts"`.
 */
import { en } from "zod/locales";
import { config } from "zod/mini";

config(en());

// Named exports, not a namespace object: esbuild keeps only the functions a schema calls.
export * from "zod/mini";
