/**
 * @module users/credential-cache
 * Credentials already checked, kept so the slow hash runs once per credential and TTL, not per
 * request. Keyed by a SHA-256 of the whole Authorization header, so no password is held in
 * memory as a key; bounded in size (oldest evicted first) and in time. The authenticator keeps
 * two (users/authenticate.ts): successes for minutes, failures only briefly, so a user whose
 * password was just reset is not locked out for long by a stale failure.
 */
import { createHash } from "node:crypto";

export class CredentialCache<T> {
  private readonly entries = new Map<string, { value: T; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(header: string): string {
    return createHash("sha256").update(header).digest("hex");
  }

  get(header: string): T | undefined {
    const key = CredentialCache.keyOf(header);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(header: string, value: T): void {
    const key = CredentialCache.keyOf(header);
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
