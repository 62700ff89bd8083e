/**
 * @module http/public-handler
 * The Lambda handler for the routes that routes.json lists as `unauthenticated` (the console's
 * static files): API Gateway runs no authorizer for them, so there is no caller, and a route
 * gets only its path, query and headers. Everything else is as in http-handler.ts: dispatch on
 * `routeKey`, answers and errors through respond.ts. A route that reads or changes anybody's
 * data must never be built with this; use createHttpHandler.
 */
import type { APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { logger } from "../../core/observability.ts";
import type { HttpEvent, HttpRequest } from "./http-handler.ts";
import { type RouteResult, toErrorResponse, toResponse } from "./respond.ts";

/** What an unauthenticated route sees of a request: no caller, no body. */
export type PublicRequest = Pick<HttpRequest, "params" | "query" | "headers">;
/** Assignable to http-handler's Route, so the `$default` route can dispatch to these too. */
export type PublicRoute = (request: PublicRequest) => Promise<RouteResult>;

function stringValues(record: Record<string, string | undefined> | undefined, lowerCase = false) {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {}))
    if (value !== undefined) out[lowerCase ? key.toLowerCase() : key] = value;
  return out;
}

export function createPublicHandler(routes: Record<string, PublicRoute>) {
  return async (event: HttpEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context);
    logger.resetKeys();
    try {
      const route = routes[event.routeKey];
      if (!route)
        throw new Error(`No route for ${event.routeKey} in this function; check handlers/routes.json`);
      const headers = stringValues(event.headers, true);
      const result = await route({
        params: stringValues(event.pathParameters),
        query: stringValues(event.queryStringParameters),
        headers,
      });
      return toResponse(result, headers["accept-encoding"]);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
