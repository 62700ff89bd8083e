/** @module users/user — what a user is: name rules, plans and roles. */
import { ValidationError } from "../errors.ts";

export const Plans = { free: "free", premium: "premium" } as const;
export type Plan = (typeof Plans)[keyof typeof Plans];

export const Roles = { admin: "admin" } as const;
export type Role = (typeof Roles)[keyof typeof Roles];

/** The authenticated caller, as the authorizer hands it to every handler. */
export interface Principal {
  username: string;
  plan: Plan;
  roles: Role[];
}

/**
 * The name rule: 1-64 ASCII characters, so every name is far inside DynamoDB's 2,048-byte key
 * limit and is safe in S3 keys (`<username>/…`, never containing '/').
 */
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function isPlan(value: unknown): value is Plan {
  return value === Plans.free || value === Plans.premium;
}

/** Whether `username` follows the name rule; a name that does not can belong to no user. */
export function isValidUsername(username: string): boolean {
  return USERNAME.test(username);
}

export function assertValidUsername(username: string): void {
  if (!isValidUsername(username)) {
    throw new ValidationError(
      `User name "${username}" is not valid: use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit.`,
      "username",
    );
  }
}
