/**
 * @module authorizer
 * The Lambda REQUEST authorizer (payload 2.0, simple responses). It authenticates and never
 * denies: a failed check is passed on in the context, so the route answers 401 with a JSON
 * error that says what to fix (API Gateway's own deny is a bare 403). Every HTTP function is
 * built with createHttpHandler, which refuses any request whose context has no username.
 * API Gateway caches the answer per Authorization header (result TTL); this function also keeps
 * verified credentials in memory, keyed by a hash of the header.
 */
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from "aws-lambda";
import { AuthError, isErrorOf } from "../core/errors.ts";
import { logger } from "../core/observability.ts";
import { authenticate } from "../core/users/authenticate.ts";
import type { AuthorizerContext } from "./http/http-handler.ts";

export async function handler(
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> {
  logger.addContext(context);
  logger.resetKeys();
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  try {
    const principal = await authenticate(header);
    return {
      isAuthorized: true,
      context: { username: principal.username, plan: principal.plan, roles: principal.roles.join(",") },
    };
  } catch (error) {
    if (isErrorOf(error, AuthError)) {
      logger.info("authentication failed", { reason: error.code });
      return { isAuthorized: true, context: { authError: error.code, authMessage: error.message } };
    }
    throw error;
  }
}
