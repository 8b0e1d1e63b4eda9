// Checks AuditJournal.open's options once, at the edge: unknown keys and bad values are refused.

import { CofferError } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/ports.ts';
import { checkSigner, type CheckpointSigner } from './checkpoint.ts';
import type { AuditForwarder } from './forwarders.ts';

export interface AuditJournalOptions {
  /** The journal file; created (mode 0600) if missing. */
  readonly path: string;
  /** This node's id, written into every entry and checkpoint. */
  readonly nodeId: string;
  /** Signs checkpoints (Ed25519). Without one, checkpoints are written unsigned. */
  readonly checkpointSigner?: CheckpointSigner;
  /** Entries between checkpoints; default 1000. */
  readonly checkpointEvery?: number;
  /** Also checkpoint on this period when entries arrived since the last checkpoint. */
  readonly checkpointIntervalMs?: number;
  /** Time source for checkpoints (entries carry their event's time). */
  readonly clock?: Clock;
  /** Receive each durable batch, best effort. */
  readonly sinks?: readonly AuditForwarder[];
}

export interface JournalConfig {
  readonly path: string;
  readonly nodeId: string;
  readonly signer: CheckpointSigner | undefined;
  readonly checkpointEvery: number;
  readonly checkpointIntervalMs: number | undefined;
  readonly clock: Clock;
  readonly sinks: readonly AuditForwarder[];
}

export const DEFAULT_CHECKPOINT_EVERY = 1000;
const MAX_CHECKPOINT_EVERY = 1_000_000;
// setInterval's delay is a signed 32-bit count of milliseconds.
const MAX_INTERVAL_MS = 2 ** 31 - 1;
const OPTION_KEYS: ReadonlySet<string> = new Set([
  'path', 'nodeId', 'checkpointSigner', 'checkpointEvery', 'checkpointIntervalMs', 'clock', 'sinks',
]);
// Node ids are host names, uuids and the like: they appear in every line, so keep them plain.
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function refuse(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

function hasMethod(value: unknown, name: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

function integerIn(value: unknown, min: number, max: number): value is number {
  return Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max;
}

/** Validates the options and fills in defaults; INVALID_ARGUMENT on anything unexpected. */
export function checkJournalOptions(options: AuditJournalOptions): JournalConfig {
  const raw = options as unknown;
  if (typeof raw !== 'object' || raw === null) throw refuse('journal options must be an object');
  const o = raw as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!OPTION_KEYS.has(key)) throw refuse(`unknown journal option ${JSON.stringify(key)}`);
  const { path, nodeId, checkpointSigner, checkpointEvery, checkpointIntervalMs, clock, sinks } = o;
  if (typeof path !== 'string' || path === '' || path.includes('\0')) throw refuse('path must be a file path');
  if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId)) throw refuse('nodeId must be 1-128 letters, digits or ._:-');
  if (checkpointEvery !== undefined && !integerIn(checkpointEvery, 1, MAX_CHECKPOINT_EVERY)) {
    throw refuse(`checkpointEvery must be an integer from 1 to ${MAX_CHECKPOINT_EVERY}`);
  }
  if (checkpointIntervalMs !== undefined && !integerIn(checkpointIntervalMs, 1, MAX_INTERVAL_MS)) {
    throw refuse('checkpointIntervalMs must be a positive integer');
  }
  if (clock !== undefined && !hasMethod(clock, 'now')) throw refuse('clock must have a now() method');
  if (sinks !== undefined && !(Array.isArray(sinks) && sinks.every((sink) => hasMethod(sink, 'forward')))) {
    throw refuse('sinks must be audit forwarders');
  }
  if (checkpointSigner !== undefined) {
    if (!hasMethod(checkpointSigner, 'sign')) throw refuse('checkpointSigner must have a sign() method');
    checkSigner(checkpointSigner as CheckpointSigner);
  }
  return {
    path,
    nodeId,
    signer: checkpointSigner as CheckpointSigner | undefined,
    checkpointEvery: checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
    checkpointIntervalMs,
    clock: (clock as Clock | undefined) ?? systemClock,
    sinks: [...((sinks as readonly AuditForwarder[] | undefined) ?? [])],
  };
}
