/**
 * @module route-table
 * The routes of handlers/routes.json compiled to matchers, for the local gateway and for the
 * `$default` route that tells 404 from 405. Path templates are API Gateway's: `{name}` matches
 * one segment, `{name+}` the rest of the path.
 */
import { ValidationError } from "../core/errors.ts";
import routesFile from "./routes.json" with { type: "json" };

export interface CompiledRoute {
  routeKey: string;
  method: string;
  template: string;
  functionName: string;
  pattern: RegExp;
  paramNames: string[];
}

export const DEFAULT_ROUTE = "$default";

function compile(routeKey: string, functionName: string): CompiledRoute {
  const [method = "", template = ""] = routeKey.split(" ");
  const paramNames: string[] = [];
  const source = template
    .split("/")
    .map((segment) => {
      const greedy = /^\{(\w+)\+\}$/.exec(segment);
      if (greedy?.[1]) {
        paramNames.push(greedy[1]);
        return "(.+)";
      }
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param?.[1]) {
        paramNames.push(param[1]);
        return "([^/]+)";
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return { routeKey, method, template, functionName, pattern: new RegExp(`^${source}$`), paramNames };
}

export const ROUTES: CompiledRoute[] = Object.entries(routesFile.routes as Record<string, string>)
  .filter(([key]) => key !== DEFAULT_ROUTE)
  .map(([key, fn]) => compile(key, fn));

export const DEFAULT_FUNCTION = (routesFile.routes as Record<string, string>)[DEFAULT_ROUTE];

/** Route keys served without the authorizer (the console's static files; routes.json `unauthenticated`). */
export const UNAUTHENTICATED_ROUTES: ReadonlySet<string> = new Set(routesFile.unauthenticated.routes);

export interface RouteMatch {
  route: CompiledRoute;
  params: Record<string, string>;
}

/**
 * A path parameter's value, percent-decoded; bad percent-encoding (`%zz`, a cut-off or overlong
 * UTF-8 sequence) is the caller's error, a 400, never a URIError.
 */
export function decodePathParameter(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ValidationError(
      `The path has bad percent-encoding in {${name}} ("${raw.slice(0, 100)}"): encode each byte that is not a letter, digit, '-', '.', '_' or '~' as %XX of its UTF-8.`,
      name,
      "InvalidPath",
    );
  }
}

/** The route for `method path`, or, when none, the methods the path does accept (maybe none). */
export function matchRoute(method: string, path: string): RouteMatch | { allowed: string[] } {
  const allowed: string[] = [];
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method) {
      allowed.push(route.method);
      continue;
    }
    const params: Record<string, string> = {};
    route.paramNames.forEach((name, i) => {
      params[name] = decodePathParameter(match[i + 1] ?? "", name);
    });
    return { route, params };
  }
  return { allowed };
}
