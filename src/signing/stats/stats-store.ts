// Signing statistics in a Store: one counter per day, project, profile, node, path and outcome,
// incremented by compare-and-set, with concurrent increments of one counter merged in process.
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { StatsDimension, StatsRow } from '../service/signer-api.ts';
import {
  badField, checkDimensions, checkName, checkNode, checkOutcome, checkPath, daysBetween, SIGNING_OUTCOMES, SIGNING_PATHS, UNKNOWN_NODE, utcDay,
  type SigningOutcome, type SigningPath,
} from './stats-fields.ts';

export const STATS_PREFIX = 'signing/stats/';
/** Compare-and-set attempts per write before STORE_CONFLICT reaches the caller. */
export const CONFLICT_TRIES = 20;
/** Upper bound of the random pause (ms) before a retry, so writers on other nodes fall out of step. */
const MAX_JITTER_MS = 5;

/** One signing, as the service (a job that ended) or a builder's telemetry (direct) reports it. */
export interface StatsEvent {
  readonly at: Date;
  readonly project: string;
  readonly profile: string;
  /** The Coffer node that signed; absent or undefined: counted under UNKNOWN_NODE. */
  readonly node?: string | undefined;
  readonly path: SigningPath;
  readonly outcome: SigningOutcome;
  /** The artifact's size in bytes. */
  readonly size: number;
  readonly durationMs: number;
}

export interface StatsFilter {
  /** First and last UTC day, YYYY-MM-DD, both included. */
  readonly from: string;
  readonly to: string;
  readonly project?: string;
  readonly profile?: string;
  /** A node name, or UNKNOWN_NODE for events that named none. */
  readonly node?: string;
  readonly path?: SigningPath;
  readonly outcome?: SigningOutcome;
  /** Only these projects (a non-admin caller's); an empty list matches nothing. */
  readonly projects?: readonly string[];
}

export interface SigningStatsOptions {
  readonly store: Store;
}

interface Counter {
  count: number;
  bytes: number;
  durationMs: number;
}

/** Increments of one key waiting for its writer, and the record() calls to settle when they land. */
interface PendingIncrement extends Counter {
  readonly waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** The key segments after the prefix, in key order; `day` first so a day is one prefix. */
const KEY_DIMENSIONS = ['day', 'project', 'profile', 'node', 'path', 'outcome'] as const satisfies readonly StatsDimension[];
interface CounterKey {
  readonly day: string;
  readonly project: string;
  readonly profile: string;
  readonly node: string;
  readonly path: SigningPath;
  readonly outcome: SigningOutcome;
}

export class SigningStats {
  readonly #store: Store;
  /** Keys with a writer running: new increments for them wait in #pending for its next round. */
  readonly #writing = new Set<string>();
  readonly #pending = new Map<string, PendingIncrement>();

  constructor(options: SigningStatsOptions) {
    this.#store = options.store;
  }

  /**
   * Adds one signing to its counter; resolves once the increment is committed. Concurrent calls for
   * one counter share commits: one writer per key, which takes everything pending at each round.
   * STORE_CONFLICT after CONFLICT_TRIES rounds of contention from other nodes; other store errors
   * reject every call of the batch and are not retried (STORE_UNAVAILABLE may have committed it).
   */
  async record(event: StatsEvent): Promise<void> {
    const key = counterKey(event);
    // The executor runs before record() first yields, so a batch never misses a call made before it.
    await new Promise<void>((resolve, reject) => {
      const pending = this.#pending.get(key) ?? { count: 0, bytes: 0, durationMs: 0, waiters: [] };
      pending.count += 1;
      pending.bytes += event.size;
      pending.durationMs += event.durationMs;
      pending.waiters.push({ resolve, reject });
      this.#pending.set(key, pending);
      if (!this.#writing.has(key)) {
        this.#writing.add(key);
        void this.#drain(key);
      }
    });
  }

  /**
   * The counters of the days from..to that pass the filter, summed per distinct value of the
   * `groupBy` dimensions (rows carry only those), sorted by them in that order. Lists one prefix per
   * day, narrowed by the project (and further fixed segments) when the filter names them.
   */
  async query(filter: StatsFilter, groupBy: readonly StatsDimension[]): Promise<StatsRow[]> {
    const dimensions = checkDimensions(groupBy, 'groupBy');
    const days = daysBetween(filter.from, filter.to);
    const wanted = checkFilter(filter);
    const allowed = filter.projects === undefined ? undefined : new Set(filter.projects);
    if (allowed !== undefined && (allowed.size === 0 || (wanted.project !== undefined && !allowed.has(wanted.project)))) return [];
    const groups = new Map<string, { key: CounterKey; values: string[]; counter: Counter }>();
    for (const day of days) {
      for (const entry of await this.#store.list(prefixOf({ ...wanted, day }))) {
        const key = parseCounterKey(entry.key);
        if (allowed !== undefined && !allowed.has(key.project)) continue;
        if (KEY_DIMENSIONS.some((dimension) => wanted[dimension] !== undefined && wanted[dimension] !== key[dimension])) continue;
        const counter = decodeCounter(entry.key, entry.value);
        const values = dimensions.map((dimension) => key[dimension]);
        const id = JSON.stringify(values);
        const group = groups.get(id) ?? { key, values, counter: { count: 0, bytes: 0, durationMs: 0 } };
        group.counter.count += counter.count;
        group.counter.bytes += counter.bytes;
        group.counter.durationMs += counter.durationMs;
        groups.set(id, group);
      }
    }
    return [...groups.values()].sort((a, b) => compareValues(a.values, b.values)).map(({ key, counter }) => ({ ...pick(key, dimensions), ...counter }));
  }

  /** Writes the key's pending increments, round after round, until none are left; never rejects. */
  async #drain(key: string): Promise<void> {
    for (let batch = this.#pending.get(key); batch !== undefined; batch = this.#pending.get(key)) {
      this.#pending.delete(key);
      try {
        await this.#increment(key, batch);
        for (const waiter of batch.waiters) waiter.resolve();
      } catch (error) {
        for (const waiter of batch.waiters) waiter.reject(error);
      }
    }
    // Synchronous with the emptiness check above: a record() after this starts a new writer.
    this.#writing.delete(key);
  }

  async #increment(key: string, delta: Counter): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#store.get(key);
      const current = entry === undefined ? { count: 0, bytes: 0, durationMs: 0 } : decodeCounter(key, entry.value);
      const next: Counter = {
        count: current.count + delta.count,
        bytes: current.bytes + delta.bytes,
        durationMs: current.durationMs + delta.durationMs,
      };
      try {
        await this.#store.commit([{ op: 'put', key, value: encodeCounter(next), expectVersion: entry?.version ?? 0 }]);
        return;
      } catch (error) {
        // Another node wrote the counter between our read and commit: re-read and add again.
        if (!isCofferError(error, 'STORE_CONFLICT') || attempt >= CONFLICT_TRIES) throw error;
        await delay(randomInt(0, MAX_JITTER_MS + 1));
      }
    }
  }
}

/** The filter's fixed segments, each checked before it can become part of a prefix. */
function checkFilter(filter: StatsFilter): Partial<CounterKey> {
  return {
    ...(filter.project === undefined ? {} : { project: checkName(filter.project, 'project') }),
    ...(filter.profile === undefined ? {} : { profile: checkName(filter.profile, 'profile') }),
    ...(filter.node === undefined ? {} : { node: checkNode(filter.node, 'node', true) }),
    ...(filter.path === undefined ? {} : { path: checkPath(filter.path, 'path') }),
    ...(filter.outcome === undefined ? {} : { outcome: checkOutcome(filter.outcome, 'outcome') }),
  };
}

/** The longest prefix the fixed segments give, in key order: day, then project, profile… while each is fixed. */
function prefixOf(fixed: Partial<CounterKey>): string {
  let prefix = STATS_PREFIX;
  for (const dimension of KEY_DIMENSIONS) {
    const value = fixed[dimension];
    if (value === undefined) break;
    prefix += `${value}/`;
  }
  return prefix;
}

function counterKey(event: StatsEvent): string {
  if (!(event.at instanceof Date) || Number.isNaN(event.at.getTime())) throw badField('at', 'must be a valid date');
  if (!Number.isSafeInteger(event.size) || event.size < 0) throw badField('size', 'must be a non-negative whole number');
  if (!Number.isFinite(event.durationMs) || event.durationMs < 0) throw badField('durationMs', 'must be a non-negative number');
  const key: CounterKey = {
    day: utcDay(event.at),
    project: checkName(event.project, 'project'),
    profile: checkName(event.profile, 'profile'),
    node: event.node === undefined ? UNKNOWN_NODE : checkNode(event.node, 'node', false),
    path: checkPath(event.path, 'path'),
    outcome: checkOutcome(event.outcome, 'outcome'),
  };
  return KEY_DIMENSIONS.reduce((prefix, dimension) => `${prefix}${key[dimension]}/`, STATS_PREFIX).slice(0, -1);
}

function parseCounterKey(key: string): CounterKey {
  const parts = key.slice(STATS_PREFIX.length).split('/');
  const [day, project, profile, node, path, outcome] = parts;
  const knownPath = SIGNING_PATHS.find((known) => known === path);
  const knownOutcome = SIGNING_OUTCOMES.find((known) => known === outcome);
  if (parts.length !== KEY_DIMENSIONS.length || day === undefined || project === undefined || profile === undefined
    || node === undefined || knownPath === undefined || knownOutcome === undefined) {
    throw new CofferError('STORE_CORRUPT', 'a signing stats key is malformed');
  }
  return { day, project, profile, node, path: knownPath, outcome: knownOutcome };
}

/** A row's dimensions: only those grouped by. */
function pick(key: CounterKey, dimensions: readonly StatsDimension[]): Partial<CounterKey> {
  return {
    ...(dimensions.includes('day') ? { day: key.day } : {}),
    ...(dimensions.includes('project') ? { project: key.project } : {}),
    ...(dimensions.includes('profile') ? { profile: key.profile } : {}),
    ...(dimensions.includes('node') ? { node: key.node } : {}),
    ...(dimensions.includes('path') ? { path: key.path } : {}),
    ...(dimensions.includes('outcome') ? { outcome: key.outcome } : {}),
  };
}

function encodeCounter(counter: Counter): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(counter));
}

/** A stored counter, shape-checked: the service's database is its own, so anything off is STORE_CORRUPT. */
function decodeCounter(key: string, bytes: Uint8Array): Counter {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', `the signing stats counter ${key} is not JSON`, { cause: error });
  }
  const counter = value as Partial<Record<keyof Counter, unknown>> | null;
  const fields = [counter?.count, counter?.bytes, counter?.durationMs];
  if (typeof counter !== 'object' || counter === null || !fields.every((field) => typeof field === 'number' && Number.isFinite(field) && field >= 0)) {
    throw new CofferError('STORE_CORRUPT', `the signing stats counter ${key} is malformed`);
  }
  return { count: counter.count as number, bytes: counter.bytes as number, durationMs: counter.durationMs as number };
}

/** Code-point order, dimension by dimension: the same on every node, unlike localeCompare. */
function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let index = 0; index < a.length; index++) {
    const left = a[index] ?? '';
    const right = b[index] ?? '';
    if (left !== right) return left < right ? -1 : 1;
  }
  return 0;
}
