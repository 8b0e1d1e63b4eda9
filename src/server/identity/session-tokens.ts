// Bearer tokens from password login, held only in this process's memory as SHA-256(token), so a
// heap dump or a log of the table yields nothing that authenticates.
import { createHash, randomBytes } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';

const TOKEN_BYTES = 32;
/** 32 bytes in base64url without padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const DEFAULT_MAX_TOKENS = 100_000;

export interface TokenSession {
  readonly principalId: string;
  /** For the audit entry of a refused token; never used to authorise. */
  readonly principalName: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export type TokenLookup =
  | { readonly status: 'valid'; readonly session: TokenSession }
  | { readonly status: 'expired'; readonly session: TokenSession }
  | { readonly status: 'unknown' };

/**
 * Looking up by digest is what makes the lookup safe from timing: the map compares digests, which
 * an attacker cannot steer towards a live token's digest, never the token bytes themselves.
 */
function digest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export class SessionTokens {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxTokens: number;
  /** digest → session, in issue order; with one TTL for all, that is also expiry order. */
  readonly #sessions = new Map<string, TokenSession>();

  constructor(clock: Clock, ttlSeconds: number, maxTokens: number = DEFAULT_MAX_TOKENS) {
    this.#clock = clock;
    this.#ttlMs = ttlSeconds * 1000;
    this.#maxTokens = maxTokens;
  }

  /** A fresh opaque token; RATE_LIMITED if the table is full of live sessions (memory stays bounded). */
  issue(principalId: string, principalName: string): { token: string; expiresAt: number } {
    const now = this.#clock.now().getTime();
    this.#sweep(now);
    if (this.#sessions.size >= this.#maxTokens) throw new CofferError('RATE_LIMITED', 'too many live sessions; try again later');
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = now + this.#ttlMs;
    this.#sessions.set(digest(token), { principalId, principalName, expiresAt });
    return { token, expiresAt };
  }

  lookup(token: string): TokenLookup {
    if (!TOKEN_PATTERN.test(token)) return { status: 'unknown' };
    const key = digest(token);
    const session = this.#sessions.get(key);
    if (session === undefined) return { status: 'unknown' };
    if (this.#clock.now().getTime() >= session.expiresAt) {
      this.#sessions.delete(key);
      return { status: 'expired', session };
    }
    return { status: 'valid', session };
  }

  /** Ends one session; the session it ended, if any. */
  revoke(token: string): TokenSession | undefined {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const key = digest(token);
    const session = this.#sessions.get(key);
    this.#sessions.delete(key);
    return session;
  }

  /** Ends every session of a principal (disabled, deleted, or its password changed). */
  revokePrincipal(principalId: string): number {
    let revoked = 0;
    for (const [key, session] of this.#sessions) {
      if (session.principalId === principalId) {
        this.#sessions.delete(key);
        revoked++;
      }
    }
    return revoked;
  }

  clear(): void {
    this.#sessions.clear();
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Drops expired sessions from the front; amortised O(1) per issue. */
  #sweep(now: number): void {
    for (const [key, session] of this.#sessions) {
      if (session.expiresAt > now) return;
      this.#sessions.delete(key);
    }
  }
}
