/**
 * @module json-rules
 * What a stored JSON value must be so that it comes back exactly as sent: no number JSON cannot
 * hold (`1e400` parses to Infinity, which JSON.stringify writes as null), no `__proto__` key
 * (JavaScript objects built by assignment drop it, so it would vanish silently), and no deeper
 * nesting than a job may have. Checked on the parsed request before anything is written; each
 * problem is a 400 naming the field.
 */
import { ValidationError } from "./errors.ts";

export function assertStorableJson(value: unknown, field: string, maxDepth: number): void {
  // Iterative, so a hostile body nested 100,000 deep is refused instead of exhausting the stack.
  const pending: { value: unknown; path: string; depth: number }[] = [{ value, path: field, depth: 0 }];
  while (pending.length > 0) {
    const { value: current, path, depth } = pending.pop()!;
    if (typeof current === "number" && !Number.isFinite(current)) {
      throw new ValidationError(
        `${path} is a number JSON cannot hold (it parses as ${current}); send a finite number, or the value as a string such as "Infinity".`,
        path,
      );
    }
    if (typeof current !== "object" || current === null) continue;
    if (depth >= maxDepth) {
      throw new ValidationError(
        `${path} is nested more than ${maxDepth} levels deep; flatten it, or stage large structured data as a simulation input file.`,
        path,
      );
    }
    if (Array.isArray(current)) {
      current.forEach((item, i) => {
        pending.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 });
      });
      continue;
    }
    for (const key of Object.keys(current)) {
      const child = `${path}.${key}`;
      if (key === "__proto__") {
        throw new ValidationError(
          `${child}: the key "__proto__" cannot be stored (JavaScript objects drop it); rename it.`,
          child,
        );
      }
      pending.push({ value: (current as Record<string, unknown>)[key], path: child, depth: depth + 1 });
    }
  }
}
