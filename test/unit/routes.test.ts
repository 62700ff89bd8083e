import test from "ava";
import { normalizePath, routeLoaders } from "../../handlers/http/fallback.ts";
import { matchRoute } from "../../handlers/route-table.ts";
import routesFile from "../../handlers/routes.json" with { type: "json" };

const declared = Object.keys(routesFile.routes).filter((key) => key !== "$default");

test("every route in routes.json has a handler, and every handler a route", async (t) => {
  const allRoutes = Object.assign(
    {},
    ...(await Promise.all(Object.values(routeLoaders).map((load) => load()))),
  );
  t.deepEqual(Object.keys(allRoutes).sort(), [...declared].sort());
});

test("the fallback loads the routes of every function routes.json names, under that name", async (t) => {
  const functions = new Set(
    Object.values(routesFile.routes).filter((fn) => fn !== routesFile.routes.$default),
  );
  t.deepEqual(Object.keys(routeLoaders).sort(), [...functions].sort());
  for (const [fn, load] of Object.entries(routeLoaders)) {
    const routes = await load();
    for (const [key, owner] of Object.entries(routesFile.routes))
      if (owner === fn) t.truthy(routes[key], `the fallback's ${fn} routes serve ${key}`);
  }
});

test("each route is served by the function routes.json names", async (t) => {
  for (const [key, fn] of Object.entries(routesFile.routes)) {
    const module = (await import(`../../handlers/http/${fn}.ts`)) as {
      routes?: Record<string, unknown>;
      handler: unknown;
    };
    t.is(typeof module.handler, "function", fn);
    if (key !== "$default") t.truthy(module.routes?.[key], `${fn} serves ${key}`);
  }
});

test("matches path parameters, including a greedy one", (t) => {
  const match = matchRoute("PUT", "/simulation/sim-1/input/dir/file.json");
  t.true("route" in match);
  if ("route" in match) {
    t.is(match.route.routeKey, "PUT /simulation/{name}/input/{path+}");
    t.deepEqual(match.params, { name: "sim-1", path: "dir/file.json" });
  }
});

test("a known path with another method reports the allowed methods", (t) => {
  const match = matchRoute("PATCH", "/session");
  t.deepEqual("allowed" in match ? match.allowed.sort() : [], ["GET", "POST"]);
});

test("FOQUS's trailing and doubled slashes normalise to the route", (t) => {
  t.is(normalizePath("/session/"), "/session");
  t.is(normalizePath("/simulation//sim/input"), "/simulation/sim/input");
  t.is(normalizePath("/"), "/");
});

test("bad percent-encoding in a path parameter is a 400 naming the parameter, never a URIError", (t) => {
  for (const bad of ["%zz", "%", "%E0%A4%A", "%C0%AF", "%ff"]) {
    const error = t.throws(() => matchRoute("GET", `/session/${bad}`), { name: "ValidationError" });
    t.is((error as unknown as { code: string }).code, "InvalidPath");
    t.regex(error?.message ?? "", /\{sid\}/);
  }
  const ok = matchRoute("GET", "/simulation/sim-1/input/a%20b.txt");
  t.deepEqual("route" in ok ? ok.params : {}, { name: "sim-1", path: "a b.txt" });
});
