/**
 * @module errors
 * Domain errors. Each carries a stable `code` (the JSON `error` field) and a message that says how
 * to fix the problem. handlers/http/respond.ts is the one place that turns them into HTTP statuses.
 */

export interface FoqusErrorOptions extends ErrorOptions {
  details?: Record<string, unknown>;
}

/** Base of every error the service reports to a caller on purpose. */
export class FoqusError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: FoqusErrorOptions = {}) {
    super(message, options);
    this.name = "FoqusError";
    this.code = code;
    this.details = options.details;
  }
}

/** The request is malformed; `field` names the offending part of it (a JSON path such as `[3].Input`). */
export class ValidationError extends FoqusError {
  readonly field: string | undefined;
  constructor(message: string, field?: string, code = "InvalidRequest", options: FoqusErrorOptions = {}) {
    const located = field && !message.includes(field) ? `${message} (at ${field})` : message;
    super(code, located, { ...options, details: { ...options.details, ...(field ? { field } : {}) } });
    this.name = "ValidationError";
    this.field = field;
  }
}

/** The resource does not exist, or belongs to somebody else: both answer the same. */
export class NotFoundError extends FoqusError {
  constructor(code: string, message: string, options: FoqusErrorOptions = {}) {
    super(code, message, options);
    this.name = "NotFoundError";
  }
}

/** The route exists but not with this method. */
export class MethodNotAllowedError extends FoqusError {
  readonly allowed: string[];
  constructor(method: string, path: string, allowed: string[]) {
    super("MethodNotAllowed", `${method} is not allowed on ${path}; use ${allowed.join(" or ")}.`);
    this.name = "MethodNotAllowedError";
    this.allowed = allowed;
  }
}

/** The request conflicts with the current state (killed session, reused idempotency key…). */
export class ConflictError extends FoqusError {
  constructor(code: string, message: string, options: FoqusErrorOptions = {}) {
    super(code, message, options);
    this.name = "ConflictError";
  }
}

/** The request, or the answer it asks for, is larger than a documented limit. */
export class PayloadTooLargeError extends FoqusError {
  constructor(message: string, options: FoqusErrorOptions = {}, code = "PayloadTooLarge") {
    super(code, message, options);
    this.name = "PayloadTooLargeError";
  }
}

/** Missing or wrong credentials. */
export class AuthError extends FoqusError {
  constructor(code: string, message: string) {
    super(code, message);
    this.name = "AuthError";
  }
}

/** Authenticated, but not allowed to do this (e.g. an admin-only route). */
export class ForbiddenError extends FoqusError {
  constructor(message: string) {
    super("Forbidden", message);
    this.name = "ForbiddenError";
  }
}

/** The results exist but sit in archive storage until restored. */
export class ArchivedError extends FoqusError {
  constructor(message: string, options: FoqusErrorOptions = {}) {
    super("ResultsArchived", message, options);
    this.name = "ArchivedError";
  }
}

/** A configuration value is missing or invalid: a deployment problem, never a caller's. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * True when `error` is an instance of `type`, also when a bundle holds two copies of the class
 * (matching by `name`, as Powertools' error registry does).
 */
export function isErrorOf<T extends Error>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
): error is T {
  return error instanceof type || (error instanceof Error && error.name === type.name);
}
