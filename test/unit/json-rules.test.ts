/** What a stored JSON value must be so that it comes back exactly as sent. */
import test from "ava";
import { isErrorOf, ValidationError } from "../../core/errors.ts";
import { assertStorableJson } from "../../core/json-rules.ts";

const refused = (t: import("ava").ExecutionContext, value: unknown, field: RegExp, why: RegExp) => {
  const error = t.throws(() => assertStorableJson(value, "[0].Input", 32));
  t.true(isErrorOf(error, ValidationError));
  t.regex((error as ValidationError).field ?? "", field);
  t.regex(error?.message ?? "", why);
};

test("ordinary values, deep but within the limit, pass", (t) => {
  let nested: unknown = { leaf: [1, "two", null, true, -2.75e-145] };
  for (let i = 0; i < 30; i++) nested = { level: nested };
  t.notThrows(() => assertStorableJson(nested, "[0].Input", 32));
  t.notThrows(() => assertStorableJson({ constructor: 1, toString: "x" }, "[0].Input", 32));
});

test("a number JSON cannot hold is refused, naming its field", (t) => {
  refused(t, JSON.parse('{"a":{"b":[1,1e400]}}'), /^\[0\]\.Input\.a\.b\[1\]$/, /cannot hold.*Infinity/);
});

test("a __proto__ key is refused rather than dropped", (t) => {
  refused(t, JSON.parse('{"x":{"__proto__":{"polluted":1}}}'), /^\[0\]\.Input\.x\.__proto__$/, /rename it/);
});

test("nesting thousands of levels deep is refused without exhausting the stack", (t) => {
  const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
  refused(t, deep, /^\[0\]\.Input(\[0\]){32}$/, /nested more than 32 levels/);
});
