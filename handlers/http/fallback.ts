/**
 * @module http/fallback
 * The `$default` route: every request that no route key matched. FOQUS builds URLs with
 * trailing and doubled slashes (`/session/`, `/simulation//name/input`), which API Gateway does
 * not match, so the path is normalised and matched again against every route; what still
 * matches nothing answers 405 (known path, other method) or 404, as JSON like every error.
 */
import { MethodNotAllowedError, NotFoundError } from "../../core/errors.ts";
import { matchRoute } from "../route-table.ts";
import { routes as applicationRoutes } from "./application.ts";
import { routes as consoleRoutes } from "./console.ts";
import { createHttpHandler, type HttpEvent, type Routes } from "./http-handler.ts";
import { routes as jobRoutes } from "./job.ts";
import { routes as resultRoutes } from "./result.ts";
import { routes as sessionRoutes } from "./session.ts";
import { routes as simulationRoutes } from "./simulation.ts";
import { routes as userRoutes } from "./user.ts";

export const allRoutes: Routes = {
  ...applicationRoutes,
  ...userRoutes,
  ...sessionRoutes,
  ...jobRoutes,
  ...resultRoutes,
  ...simulationRoutes,
  ...consoleRoutes,
};

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
    const route = allRoutes[match.route.routeKey];
    if (route) return { route, params: match.params };
  } else if (match.allowed.length > 0) {
    throw new MethodNotAllowedError(method, path, match.allowed);
  }
  throw new NotFoundError(
    "RouteNotFound",
    `There is no ${method} ${path}; the README lists the API's routes.`,
  );
}

export const handler = createHttpHandler(allRoutes, resolve);
