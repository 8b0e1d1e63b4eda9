// Change propagation between two nodes of a cluster, sampled one change at a time: a write through a
// client bound to node A, then a client bound to node B polling as fast as it can (one call after
// another) until B shows the change. The reference is the raw PostgreSQL LISTEN/NOTIFY round trip,
// the path the change feed's hints take.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { CofferApiError, type CofferClient } from '../src/client/index.ts';

/** A sample gives up after this: no change on loopback should take longer than several poll periods. */
const SAMPLE_TIMEOUT_MS = 10_000;
const ALGORITHM = 'ECDSA_SHA_256';
const message = randomBytes(32);

export interface Series {
  /** Milliseconds per sample, ascending. */
  readonly ms: Float64Array;
  /** Calls B made per sample (1: B showed the change on the first try). */
  readonly polls: readonly number[];
}

function series(samples: readonly { ms: number; polls: number }[]): Series {
  return { ms: Float64Array.from(samples.map((s) => s.ms)).sort(), polls: samples.map((s) => s.polls) };
}

/** Calls `check` back to back from now until it says true; the time from now to that answer. */
async function pollUntil(what: string, check: () => Promise<boolean>): Promise<{ ms: number; polls: number }> {
  const start = performance.now();
  for (let polls = 1; ; polls++) {
    if (await check()) return { ms: performance.now() - start, polls };
    if (performance.now() - start > SAMPLE_TIMEOUT_MS) throw new Error(`${what}: no change seen on node B within ${SAMPLE_TIMEOUT_MS} ms`);
  }
}

/** Whether a sign on `client` succeeds; an error with one of `expected` codes is a "no", others throw. */
async function signs(client: CofferClient, keyId: string, expected: readonly string[]): Promise<boolean> {
  try {
    await client.crypto.sign({ keyId, algorithm: ALGORITHM, message });
    return true;
  } catch (error) {
    if (error instanceof CofferApiError && expected.includes(error.code)) return false;
    throw error;
  }
}

/** Whether a sign on `client` is refused with `code`; a success is a "no", other errors throw. */
async function refuses(client: CofferClient, keyId: string, code: string): Promise<boolean> {
  return !(await signs(client, keyId, [code]));
}

export interface PropagationOptions {
  readonly onA: CofferClient;
  readonly onB: CofferClient;
  readonly project: string;
  readonly samples: number;
  /** A series stops early (with fewer samples) once it has run this long. */
  readonly budgetMs: number;
}

async function sampled(count: number, budgetMs: number, one: (i: number) => Promise<{ ms: number; polls: number }>): Promise<Series> {
  const results: { ms: number; polls: number }[] = [];
  const stopAt = performance.now() + budgetMs;
  for (let i = 0; i < count && performance.now() < stopAt; i++) results.push(await one(i));
  return series(results);
}

/**
 * Key created on A → first successful sign on B, timed from A's answer. B caches no misses, so this
 * is read-after-write through the shared store rather than a wait for the change feed.
 */
export function createdOnAUsableOnB(options: PropagationOptions): Promise<Series> {
  const tag = randomBytes(4).toString('hex');
  return sampled(options.samples, options.budgetMs, async (i) => {
    const key = await options.onA.keys.create({ project: options.project, name: `propagation-${tag}-${i}`, spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    return pollUntil('create', () => signs(options.onB, key.id, ['KEY_NOT_FOUND']));
  });
}

/**
 * A key B has cached, disabled on A → first KEY_DISABLED on B, then enabled on A → first success on
 * B: each is only seen once B's change follower has invalidated its cached record.
 */
export async function toggledOnAThroughFeed(options: PropagationOptions): Promise<{ disabled: Series; enabled: Series }> {
  const key = await options.onA.keys.create({ project: options.project, name: `propagation-toggle-${randomBytes(4).toString('hex')}`, spec: 'EC_P256', usage: 'SIGN_VERIFY' });
  await pollUntil('toggle key', () => signs(options.onB, key.id, ['KEY_NOT_FOUND']));
  const disabled: { ms: number; polls: number }[] = [];
  const stopAt = performance.now() + options.budgetMs;
  const enabled: { ms: number; polls: number }[] = [];
  for (let i = 0; i < options.samples && performance.now() < stopAt; i++) {
    await options.onA.keys.disable(key.id);
    disabled.push(await pollUntil('disable', () => refuses(options.onB, key.id, 'KEY_DISABLED')));
    await options.onA.keys.enable(key.id);
    enabled.push(await pollUntil('enable', () => signs(options.onB, key.id, ['KEY_DISABLED'])));
  }
  return { disabled: series(disabled), enabled: series(enabled) };
}

/** One sign on B of a key B has cached, back to back: the polling's own period (its resolution). */
export async function pollPeriod(onB: CofferClient, project: string, onA: CofferClient, samples: number): Promise<Series> {
  const key = await onA.keys.create({ project, name: `propagation-period-${randomBytes(4).toString('hex')}`, spec: 'EC_P256', usage: 'SIGN_VERIFY' });
  await pollUntil('period key', () => signs(onB, key.id, ['KEY_NOT_FOUND']));
  return sampled(samples, Number.POSITIVE_INFINITY, async () => {
    const start = performance.now();
    await onB.crypto.sign({ keyId: key.id, algorithm: ALGORITHM, message });
    return { ms: performance.now() - start, polls: 1 };
  });
}

/**
 * The reference: one pg client LISTENs, another sends NOTIFY (its own transaction); the time from
 * sending the NOTIFY to the listener receiving it, one notification at a time.
 */
export async function notifyRoundTrips(url: string, samples: number): Promise<Series> {
  const channel = `bench_${randomBytes(4).toString('hex')}`;
  const listener = new pg.Client({ connectionString: url });
  const notifier = new pg.Client({ connectionString: url });
  listener.on('error', () => undefined);
  notifier.on('error', () => undefined);
  try {
    await listener.connect();
    await notifier.connect();
    await listener.query(`LISTEN ${channel}`);
    let waiting: { readonly payload: string; readonly arrived: () => void } | undefined;
    listener.on('notification', (notification) => {
      if (waiting !== undefined && notification.payload === waiting.payload) {
        const { arrived } = waiting;
        waiting = undefined;
        arrived();
      }
    });
    const one = async (i: number): Promise<{ ms: number; polls: number }> => {
      const payload = String(i);
      const start = performance.now();
      const received = new Promise<number>((resolve) => { waiting = { payload, arrived: () => { resolve(performance.now()); } }; });
      const timeout = new Promise<never>((_, reject) => setTimeout(() => { reject(new Error('a NOTIFY never reached its listener')); }, SAMPLE_TIMEOUT_MS).unref());
      // Timed to the notification's arrival; the NOTIFY's own answer is awaited too before the next.
      const [at] = await Promise.race([Promise.all([received, notifier.query(`NOTIFY ${channel}, '${payload}'`)]), timeout]);
      return { ms: at - start, polls: 1 };
    };
    for (let i = 0; i < 10; i++) await one(-1 - i); // warm-up: connections, plans
    return await sampled(samples, Number.POSITIVE_INFINITY, one);
  } finally {
    await listener.end().catch(() => undefined);
    await notifier.end().catch(() => undefined);
  }
}
