/**
 * @module http/http-handler
 * Turns a map of routes into a Lambda handler for API Gateway v2 (payload 2.0) events:
 * resolves the caller from the authorizer's context, dispatches on `routeKey`, and answers
 * through respond.ts. Every HTTP function is built with this, so no route can skip the caller
 * check.
 */
import type {
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { AuthError, PayloadTooLargeError } from "../../core/errors.ts";
import { MAX_REQUEST_BYTES } from "../../core/limits.ts";
import { logger, tracer } from "../../core/observability.ts";
import type { Principal, Role } from "../../core/users/user.ts";
import { isPlan } from "../../core/users/user.ts";
import { type RouteResult, toErrorResponse, toResponse } from "./respond.ts";

/** What the authorizer puts in `requestContext.authorizer.lambda` (values are strings). */
export interface AuthorizerContext {
  username?: string;
  plan?: string;
  roles?: string;
  authError?: string;
  authMessage?: string;
}

export type HttpEvent = APIGatewayProxyEventV2WithLambdaAuthorizer<AuthorizerContext>;

export interface HttpRequest {
  caller: Principal;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The raw body bytes (decoded from base64 when API Gateway encoded them). */
  body: Buffer | undefined;
  /** The body as UTF-8 text. */
  text: string | undefined;
  event: HttpEvent;
  context: Context;
}

export type Route = (request: HttpRequest) => Promise<RouteResult>;
export type Routes = Record<string, Route>;

/** Picks the route for an event and its path parameters. */
export type RouteResolver = (event: HttpEvent) => { route: Route; params: Record<string, string> };

/** The usual resolver: API Gateway already matched the route key and extracted the parameters. */
export function byRouteKey(routes: Routes): RouteResolver {
  return (event) => {
    const route = routes[event.routeKey];
    if (!route)
      throw new Error(`No route for ${event.routeKey} in this function; check handlers/routes.json`);
    return { route, params: definedValues(event.pathParameters) };
  };
}

function callerOf(event: HttpEvent): Principal {
  const auth = event.requestContext.authorizer?.lambda ?? {};
  if (auth.authError || !auth.username) {
    throw new AuthError(
      auth.authError ?? "MissingCredentials",
      auth.authMessage ?? "This request was not authenticated.",
    );
  }
  return {
    username: auth.username,
    plan: isPlan(auth.plan) ? auth.plan : "free",
    roles: (auth.roles ? auth.roles.split(",").filter(Boolean) : []) as Role[],
  };
}

function bodyOf(event: HttpEvent): Buffer | undefined {
  if (event.body === undefined || event.body === null) return undefined;
  const body = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
  if (body.length > MAX_REQUEST_BYTES) {
    throw new PayloadTooLargeError(
      `The request body is ${body.length} bytes; the API accepts at most ${MAX_REQUEST_BYTES}.`,
    );
  }
  return body;
}

function lowerCaseKeys(record: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {}))
    if (value !== undefined) out[key.toLowerCase()] = value;
  return out;
}

function definedValues(record: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

export function createHttpHandler(routes: Routes, resolve: RouteResolver = byRouteKey(routes)) {
  return async (event: HttpEvent, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context);
    logger.resetKeys();
    try {
      const caller = callerOf(event);
      const { route, params } = resolve(event);
      logger.appendKeys({ username: caller.username, route: event.routeKey });
      tracer.putAnnotation("username", caller.username);
      const body = bodyOf(event);
      const headers = lowerCaseKeys(event.headers);
      const result = await route({
        caller,
        params,
        query: definedValues(event.queryStringParameters),
        headers,
        body,
        text: body?.toString("utf8"),
        event,
        context,
      });
      return toResponse(result, headers["accept-encoding"]);
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}
