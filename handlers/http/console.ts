/**
 * @module http/console
 * `GET /console` and `GET /console/{asset}`: the web console's static files, served without the
 * authorizer (routes.json `unauthenticated`). They hold no data and are the same for everyone;
 * the console asks for the user's name and password, keeps them in the page's memory only (never
 * in localStorage, sessionStorage or a cookie), and sends them as HTTP Basic on each API request
 * it makes, like any other client. So the browser never holds ambient credentials that another
 * site's page could make it send (no CSRF surface), closing the tab or reloading signs out, and
 * every data request passes the same authorizer as FOQUS's. The Content-Security-Policy allows
 * only the console's own script and style and requests to this API.
 */
import { NotFoundError } from "../../core/errors.ts";
import { consoleAssets } from "./console-assets.ts";
import { createPublicHandler, type PublicRoute } from "./public-handler.ts";
import { bytes } from "./respond.ts";

const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

function asset(name: string) {
  const file = consoleAssets().get(name);
  if (!file) {
    throw new NotFoundError(
      "AssetNotFound",
      `The console has no file "${name}"; open /console and let it load its own files.`,
    );
  }
  return bytes(file.body, file.contentType, SECURITY_HEADERS);
}

export const routes: Record<string, PublicRoute> = {
  "GET /console": async () => asset("index.html"),
  "GET /console/{asset}": async ({ params }) => asset(params.asset ?? ""),
};

export const handler = createPublicHandler(routes);
