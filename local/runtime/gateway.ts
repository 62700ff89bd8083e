/**
 * @module local/runtime/gateway
 * A local stand-in for API Gateway (HTTP API, payload 2.0), which moto does not serve: an HTTP
 * server on 127.0.0.1 that matches routes.json, runs the Lambda authorizer first (as API
 * Gateway does, answering 401 itself when the Authorization header is missing), turns the
 * request into an API Gateway v2 event and invokes the same handler code in-process. It keeps
 * API Gateway's limits: 10 MB request bodies, 6 MB Lambda payloads, CORS preflight without auth.
 *
 * It serves plain http, https (`node:https` with a given key and certificate, for clients such
 * as FOQUS desktop that send credentials only over https), or both at once: every server it
 * starts calls the one request handler, so both answer exactly alike.
 */
import { randomUUID } from "node:crypto";
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type {
  APIGatewayProxyStructuredResultV2,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from "aws-lambda";
import type { AuthorizerContext, HttpEvent } from "../../handlers/http/http-handler.ts";
import { CORS_HEADERS } from "../../handlers/http/respond.ts";
import {
  DEFAULT_FUNCTION,
  DEFAULT_ROUTE,
  decodePathParameter,
  ROUTES,
  UNAUTHENTICATED_ROUTES,
} from "../../handlers/route-table.ts";
import { lambdaContext, observed } from "./lambda-context.ts";

const MAX_BODY_BYTES = 10 * 1024 * 1024; // API Gateway HTTP API payload limit
const MAX_LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024; // Lambda synchronous invocation limit

type HttpHandler = (event: HttpEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type Authorizer = (
  event: APIGatewayRequestAuthorizerEventV2,
  context: Context,
) => Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>>;

const TEXT_TYPES = /^(application\/(json|xml|x-www-form-urlencoded)|text\/)/i;

async function loadHandler(functionName: string): Promise<HttpHandler> {
  const module = (await import(`../../handlers/http/${functionName}.ts`)) as { handler: HttpHandler };
  return module.handler;
}

async function loadAuthorizer(): Promise<Authorizer> {
  return ((await import("../../handlers/authorizer.ts")) as { handler: Authorizer }).handler;
}

function readBody(request: IncomingMessage): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("end", () => resolve(size > MAX_BODY_BYTES ? "too-large" : Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function send(
  response: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer | string,
): void {
  response.writeHead(status, headers);
  response.end(body);
}

function gatewayError(response: ServerResponse, status: number, message: string): void {
  send(
    response,
    status,
    { ...CORS_HEADERS, "content-type": "application/json" },
    JSON.stringify({ message }),
  );
}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  return headers;
}

/** What the gateway reads of a request's target. */
type RequestTarget = Pick<URL, "host" | "pathname" | "search" | "searchParams">;

/**
 * The request target with its path exactly as sent, as API Gateway passes it on (rawPath): no
 * folding of doubled slashes (the `$default` route, handlers/http/fallback.ts, does that) and no
 * resolving of `.`/`..` or `%2e` segments (input-path rules refuse those). `new URL(target, base)`
 * would do both, and read `//session//x` as the host "session" with the path "//x".
 */
function requestTarget(raw: string | undefined): RequestTarget {
  const target = raw ?? "/";
  if (!target.startsWith("/")) return new URL(target); // absolute-form, as sent to a proxy
  const query = target.indexOf("?");
  const search = query < 0 ? "" : target.slice(query);
  return {
    host: "localhost",
    pathname: query < 0 ? target : target.slice(0, query),
    search: search === "?" ? "" : search,
    searchParams: new URLSearchParams(search),
  };
}

function queryOf(url: RequestTarget): Record<string, string> | undefined {
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
  return Object.keys(query).length > 0 ? query : undefined;
}

function matchExact(method: string, path: string) {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    try {
      route.paramNames.forEach((name, i) => {
        params[name] = decodePathParameter(match[i + 1] ?? "", name);
      });
    } catch {
      // Bad percent-encoding: the `$default` route answers it with a 400.
      break;
    }
    return { routeKey: route.routeKey, functionName: route.functionName, params };
  }
  return { routeKey: DEFAULT_ROUTE, functionName: DEFAULT_FUNCTION ?? "fallback", params: undefined };
}

export interface GatewayOptions {
  /** The plain http port on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Serve plain http (default true); false with `https` serves https only. */
  http?: boolean;
  /** Also (or, with `http: false`, instead) serve https with this key and certificate (PEM). */
  https?: { key: string | Buffer; cert: string | Buffer; port?: number };
  /** Called for every request with its status (for logs). */
  onRequest?: (line: string) => void;
}

export interface Gateway {
  /** The http URL, or the https one when only https is served. */
  url: string;
  /** `http://127.0.0.1:<port>`, when plain http is served. */
  httpUrl: string | undefined;
  /** `https://127.0.0.1:<port>`, when https is served. */
  httpsUrl: string | undefined;
  /** The first server (http, else https). */
  server: Server | HttpsServer;
  servers: (Server | HttpsServer)[];
  close(): Promise<void>;
}

/**
 * The gateway's one request handler (route, authorizer, event, integration), shared by every
 * server the gateway starts.
 */
export async function createGatewayHandler(
  options: Pick<GatewayOptions, "onRequest"> = {},
): Promise<RequestListener> {
  const authorize = observed("authorizer", await loadAuthorizer());
  const handlers = new Map<string, HttpHandler>();
  const handlerFor = async (name: string) => {
    let handler = handlers.get(name);
    if (!handler) {
      handler = observed(name, await loadHandler(name));
      handlers.set(name, handler);
    }
    return handler;
  };

  const listener: RequestListener = async (request, response) => {
    const started = Date.now();
    const method = request.method ?? "GET";
    const url = requestTarget(request.url);
    let status = 500;
    try {
      status = await serve(request, response, method, url);
    } catch (error) {
      console.error("local gateway: integration failed", error);
      gatewayError(response, 500, "Internal Server Error");
    } finally {
      options.onRequest?.(`${method} ${url.pathname} ${status} ${Date.now() - started}ms`);
    }
  };

  async function serve(
    request: IncomingMessage,
    response: ServerResponse,
    method: string,
    url: RequestTarget,
  ): Promise<number> {
    const headers = headersOf(request);
    if (method === "OPTIONS") {
      send(response, 204, { ...CORS_HEADERS, "access-control-max-age": "3600" }, "");
      return 204;
    }
    const body = await readBody(request);
    if (body === "too-large") {
      gatewayError(response, 413, "Request Entity Too Large");
      return 413;
    }
    const route = matchExact(method, url.pathname);
    const now = new Date();
    const requestContext = {
      accountId: "123456789012",
      apiId: "local",
      domainName: url.host,
      domainPrefix: "local",
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    };

    // The authorizer runs first, except on routes.json's `unauthenticated` routes (authorization
    // NONE); without the identity source API Gateway answers 401 itself.
    const authorization = headers.authorization;
    const anonymous = UNAUTHENTICATED_ROUTES.has(route.routeKey);
    if (!authorization && !anonymous) {
      gatewayError(response, 401, "Unauthorized");
      return 401;
    }
    const auth = anonymous
      ? { isAuthorized: true, context: undefined }
      : await authorize(
          {
            version: "2.0",
            type: "REQUEST",
            routeArn: `arn:aws:execute-api:us-east-1:123456789012:local/$default/${method}${url.pathname}`,
            identitySource: [authorization ?? ""],
            routeKey: route.routeKey,
            rawPath: url.pathname,
            rawQueryString: url.search.slice(1),
            cookies: [],
            headers,
            queryStringParameters: queryOf(url) ?? {},
            requestContext,
            pathParameters: route.params ?? {},
            stageVariables: {},
          } as unknown as APIGatewayRequestAuthorizerEventV2,
          lambdaContext("authorizer", 5000),
        );
    if (!auth.isAuthorized) {
      gatewayError(response, 403, "Forbidden");
      return 403;
    }

    const text = TEXT_TYPES.test(headers["content-type"] ?? "") || body.length === 0;
    const event: HttpEvent = {
      version: "2.0",
      routeKey: route.routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(queryOf(url) ? { queryStringParameters: queryOf(url) } : {}),
      ...(route.params ? { pathParameters: route.params } : {}),
      requestContext: {
        ...requestContext,
        ...(anonymous ? {} : { authorizer: { lambda: auth.context ?? {} } }),
      },
      ...(body.length > 0 ? { body: text ? body.toString("utf8") : body.toString("base64") } : {}),
      isBase64Encoded: !text && body.length > 0,
    } as HttpEvent;
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_LAMBDA_PAYLOAD_BYTES) {
      gatewayError(response, 413, "Request Entity Too Large");
      return 413;
    }

    const handler = await handlerFor(route.functionName);
    const result = await handler(event, lambdaContext(route.functionName));
    const payload = Buffer.from(
      result.isBase64Encoded
        ? Buffer.from(result.body ?? "", "base64")
        : Buffer.from(result.body ?? "", "utf8"),
    );
    if (Buffer.byteLength(JSON.stringify(result)) > MAX_LAMBDA_PAYLOAD_BYTES) {
      // Lambda refuses a response this large; API Gateway reports an integration failure.
      gatewayError(response, 500, "Internal Server Error");
      return 500;
    }
    const status = result.statusCode ?? 200;
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) responseHeaders[name] = String(value);
    send(response, status, responseHeaders, payload);
    return status;
  }

  return listener;
}

function listen(server: Server | HttpsServer, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
}

function closeServer(server: Server | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const serveHttp = options.http ?? true;
  if (!serveHttp && !options.https) throw new Error("startGateway: neither http nor https to serve");
  const listener = await createGatewayHandler(options);
  const servers: (Server | HttpsServer)[] = [];
  let httpUrl: string | undefined;
  let httpsUrl: string | undefined;
  try {
    if (serveHttp) {
      const server = createServer(listener);
      servers.push(server);
      httpUrl = `http://127.0.0.1:${await listen(server, options.port ?? 0)}`;
    }
    if (options.https) {
      const server = createHttpsServer({ key: options.https.key, cert: options.https.cert }, listener);
      servers.push(server);
      httpsUrl = `https://127.0.0.1:${await listen(server, options.https.port ?? 0)}`;
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  return {
    url: (httpUrl ?? httpsUrl)!,
    httpUrl,
    httpsUrl,
    server: servers[0]!,
    servers,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}
