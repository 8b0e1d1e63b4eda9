// Counts failed logins per principal name and per remote address over a sliding minute, in bounded
// memory, so password guessing runs at a few attempts a minute whatever the attacker spreads it over.
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';

export const DEFAULT_LOGIN_FAILURES_PER_MINUTE = 5;
/** Names and addresses tracked at once. Each holds at most `maxFailures` timestamps: ~1 MB at the default. */
export const DEFAULT_MAX_TRACKED = 10_000;
const WINDOW_MS = 60_000;

export interface LoginRateLimiterOptions {
  /** Failures allowed inside any sliding minute, for one name or one address; the next attempt is refused. */
  readonly maxFailures?: number;
  readonly maxTracked?: number;
  readonly clock?: Clock;
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new CofferError('INVALID_ARGUMENT', `${what} must be a positive integer`);
  return value;
}

export class LoginRateLimiter {
  readonly #maxFailures: number;
  readonly #maxTracked: number;
  readonly #clock: Clock;
  /**
   * key → times of its most recent failures (oldest first, at most maxFailures). A Map keeps
   * insertion order and a failure re-inserts its key, so the first key is the least recently failed.
   */
  readonly #failures = new Map<string, number[]>();

  constructor(options: LoginRateLimiterOptions = {}) {
    this.#maxFailures = positiveInteger(options.maxFailures ?? DEFAULT_LOGIN_FAILURES_PER_MINUTE, 'loginFailuresPerMinute');
    this.#maxTracked = positiveInteger(options.maxTracked ?? DEFAULT_MAX_TRACKED, 'maxTracked');
    this.#clock = options.clock ?? systemClock;
  }

  // Separate key spaces, so an address can never count against a principal of the same spelling.
  static #keys(name: string, remoteAddress: string): [string, string] {
    return [`n:${name}`, `a:${remoteAddress}`];
  }

  #recent(key: string, now: number): number {
    const times = this.#failures.get(key);
    if (times === undefined) return 0;
    return times.filter((t) => t > now - WINDOW_MS).length;
  }

  /** True when either the name or the address has used up its failures in the last minute. */
  isLimited(name: string, remoteAddress: string): boolean {
    const now = this.#clock.now().getTime();
    return LoginRateLimiter.#keys(name, remoteAddress).some((key) => this.#recent(key, now) >= this.#maxFailures);
  }

  recordFailure(name: string, remoteAddress: string): void {
    const now = this.#clock.now().getTime();
    for (const key of LoginRateLimiter.#keys(name, remoteAddress)) {
      const times = (this.#failures.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
      times.push(now);
      // Only the newest maxFailures matter: the limit is reached when all of them are inside the window.
      if (times.length > this.#maxFailures) times.splice(0, times.length - this.#maxFailures);
      this.#failures.delete(key);
      this.#failures.set(key, times);
    }
    this.#evict(now);
  }

  /**
   * Drops keys from the least recently failed end: those whose failures have all aged out, and past
   * capacity live ones too (forgetting the stalest is the price of bounded memory; see README).
   */
  #evict(now: number): void {
    for (const [key, times] of this.#failures) {
      const agedOut = (times.at(-1) ?? 0) <= now - WINDOW_MS;
      if (!agedOut && this.#failures.size <= this.#maxTracked) return;
      this.#failures.delete(key);
    }
  }

  /** Keys currently tracked (for tests and metrics). */
  get size(): number {
    return this.#failures.size;
  }
}
