/**
 * @module validation
 * Request validation through Powertools parser (zod schemas), with failures turned into a
 * ValidationError that names the field, e.g. `[3].Simulation`.
 */
import { parse } from "@aws-lambda-powertools/parser";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { ValidationError } from "./errors.ts";

type Issue = { path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>; message: string };

export function issuePath(path: Issue["path"]): string {
  let out = "";
  for (const part of path ?? []) {
    const key = typeof part === "object" && part !== null && "key" in part ? part.key : part;
    out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Validates `data` against `schema`; the first problem becomes a ValidationError naming its field. */
export function validate<T extends StandardSchemaV1>(
  schema: T,
  data: unknown,
  what: string,
): StandardSchemaV1.InferOutput<T> {
  const result = parse(data, undefined, schema, true);
  if (result.success) return result.data as StandardSchemaV1.InferOutput<T>;
  // Powertools puts the Standard Schema issues in `cause` (an array; older versions a ZodError).
  const cause = result.error.cause as Issue[] | { issues?: Issue[] } | undefined;
  const issues = (Array.isArray(cause) ? cause : (cause?.issues ?? [])) as Issue[];
  const first = issues[0];
  const field = first ? issuePath(first.path) : undefined;
  const where = field ? ` at ${field}` : "";
  throw new ValidationError(
    `The ${what} is invalid${where}: ${first?.message ?? result.error.message}.`,
    field,
  );
}

/** Parses a JSON body; a clear 400 when it is not JSON. */
export function parseJsonBody(body: string | undefined, example: string): unknown {
  if (body === undefined || body.trim() === "") {
    throw new ValidationError(`The request body is empty; send JSON like ${example}.`, "body", "InvalidJson");
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new ValidationError(
      `The request body is not valid JSON (${(error as Error).message}); send JSON like ${example}.`,
      "body",
      "InvalidJson",
    );
  }
}
