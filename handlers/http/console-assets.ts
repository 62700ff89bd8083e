/**
 * @module http/console-assets
 * The web console's files (console/ at the checkout's root: plain HTML, JavaScript and CSS, no
 * build step). The Lambda bundle carries them inline: handlers/build.ts defines
 * `CONSOLE_ASSETS` with their text, so the image needs no files beside the bundles. Run from
 * source (the local gateway, the tests) they are read from console/ once.
 */
import { readFileSync } from "node:fs";

/**
 * Set by esbuild's `define` in handlers/build.ts to the files as JSON text (a string, not an
 * object: with code splitting esbuild makes an object define a chunk that every function
 * imports); undeclared (typeof "undefined") from source.
 */
declare const CONSOLE_ASSETS: string | undefined;

/** The console's files, served as `GET /console` (index.html) and `GET /console/{asset}`. */
export const CONSOLE_FILES = ["index.html", "console.js", "console.css"] as const;

const CONTENT_TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

/** Reads every console file from console/ (build time and source runs). */
export function readConsoleSources(): Record<string, string> {
  const dir = new URL("../../console/", import.meta.url);
  return Object.fromEntries(CONSOLE_FILES.map((name) => [name, readFileSync(new URL(name, dir), "utf8")]));
}

let assets: Map<string, ConsoleAsset> | undefined;

/** The console's files by name, with their content types. */
export function consoleAssets(): Map<string, ConsoleAsset> {
  if (!assets) {
    const sources: Record<string, string> =
      typeof CONSOLE_ASSETS !== "undefined" ? JSON.parse(CONSOLE_ASSETS) : readConsoleSources();
    assets = new Map(
      Object.entries(sources).map(([name, text]) => [
        name,
        {
          body: Buffer.from(text, "utf8"),
          contentType: CONTENT_TYPES[name.split(".").pop() ?? ""] ?? "application/octet-stream",
        },
      ]),
    );
  }
  return assets;
}
