/**
 * @module http/fallback
 * The `$default` route: every request that no route key matched. FOQUS builds URLs with
 * trailing and doubled slashes (`/session/`, `/simulation//name/input`), which API Gateway does
 * not match, so the path is normalised and matched again against every route; what still
 * matches nothing answers 405 (known path, other method) or 404, as JSON like every error.
 *
 * A request needs the routes of one function: each function's module is loaded when the
 * fallback first serves one of its routes, so the fallback's bundle is not every function's.
 */
import { MethodNotAllowedError, NotFoundError } from "../../core/errors.ts";
import { matchRoute } from "../route-table.ts";
import { createHttpHandler, type HttpEvent, type Route, type Routes } from "./http-handler.ts";

/** Function name (routes.json) → its routes, loaded on first use. */
export const routeLoaders: Record<string, () => Promise<Routes>> = {
  application: async () => (await import("./application.ts")).routes,
  user: async () => (await import("./user.ts")).routes,
  session: async () => (await import("./session.ts")).routes,
  job: async () => (await import("./job.ts")).routes,
  result: async () => (await import("./result.ts")).routes,
  simulation: async () => (await import("./simulation.ts")).routes,
  console: async () => (await import("./console.ts")).routes,
};

/** The route `routeKey` of `functionName`, loading that function's routes when it is called. */
function loadedRoute(functionName: string, routeKey: string): Route | undefined {
  const load = routeLoaders[functionName];
  if (!load) return undefined;
  return async (request) => {
    const route = (await load())[routeKey];
    if (!route) throw new Error(`${functionName} serves no ${routeKey}; check handlers/routes.json`);
    return route(request);
  };
}

/** Collapses repeated slashes and drops a trailing one. */
export function normalizePath(path: string): string {
  const collapsed = path.replace(/\/{2,}/g, "/");
  return collapsed.length > 1 ? collapsed.replace(/\/$/, "") : collapsed;
}

function resolve(event: HttpEvent) {
  const { method } = event.requestContext.http;
  const path = normalizePath(event.rawPath ?? event.requestContext.http.path);
  const match = matchRoute(method, path);
  if ("route" in match) {
    const route = loadedRoute(match.route.functionName, match.route.routeKey);
    if (route) return { route, params: match.params };
  } else if (match.allowed.length > 0) {
    throw new MethodNotAllowedError(method, path, match.allowed);
  }
  throw new NotFoundError(
    "RouteNotFound",
    `There is no ${method} ${path}; the README lists the API's routes.`,
  );
}

export const handler = createHttpHandler({}, resolve);
