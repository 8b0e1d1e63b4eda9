// The edge of the stats module: a builder's telemetry event and a stats query, each parsed strictly
// (unknown fields are errors; messages name the field and never repeat the input).
import { HASH_BYTES, type HashName } from '../../core/algorithms/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { PkiHash } from '../../pki/pki-signer.ts';
import type { StatsDimension, TelemetryEvent } from '../service/signer-api.ts';
import {
  badField, checkDimensions, checkName, checkNode, checkOutcome, checkPath, dayBefore, daysBetween, dayStart, utcDay,
  type SigningOutcome, type SigningPath,
} from './stats-fields.ts';
import type { StatsEvent } from './stats-store.ts';

/** The largest artifact a builder may report: 1 PiB, far past any real one, and exact as a double. */
export const MAX_TELEMETRY_SIZE = 2 ** 50;
/** The longest signing a builder may report: one day. */
export const MAX_TELEMETRY_DURATION_MS = 86_400_000;
/** The days a query covers when it names no `from`: a week ending on `to`. */
export const DEFAULT_QUERY_DAYS = 7;

/** The digest hashes of the PKI layer, by their hash-table names. */
const DIGEST_HASHES: Readonly<Record<PkiHash, HashName>> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const EVENT_FIELDS = new Set(['project', 'profile', 'digest', 'size', 'outcome', 'durationMs', 'node', 'keyId', 'errorCode']);
const QUERY_FIELDS = new Set(['from', 'to', 'groupBy', 'project', 'profile', 'node', 'path', 'outcome']);
const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
const HEX = /^[0-9A-Fa-f]*$/;

/** A parsed GET /v1/signing/stats query: the range, the grouping and the filters it named. */
export interface ParsedStatsQuery {
  readonly from: string;
  readonly to: string;
  readonly groupBy: readonly StatsDimension[];
  readonly project?: string;
  readonly profile?: string;
  readonly node?: string;
  readonly path?: SigningPath;
  readonly outcome?: SigningOutcome;
}

const SHOWN_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** An unknown field's name as a message may show it: short and plain, else not at all. */
function shown(key: string): string {
  return SHOWN_NAME.test(key) ? key : '(a field name)';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A builder's telemetry event (POST /v1/signing/telemetry), every field checked: INVALID_DIGEST for
 * a digest whose length is not its hash's, INVALID_ARGUMENT for anything else. The digest comes
 * back in lowercase hex.
 */
export function parseTelemetryEvent(value: unknown): TelemetryEvent {
  if (!isRecord(value)) throw new CofferError('INVALID_ARGUMENT', 'a telemetry event must be a JSON object');
  for (const key of Object.keys(value)) if (!EVENT_FIELDS.has(key)) throw badField(`telemetry.${shown(key)}`, 'unknown field');
  const size = value['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || size > MAX_TELEMETRY_SIZE) {
    throw badField('telemetry.size', `must be a whole number of bytes from 0 to ${MAX_TELEMETRY_SIZE}`);
  }
  const durationMs = value['durationMs'];
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0 || durationMs > MAX_TELEMETRY_DURATION_MS) {
    throw badField('telemetry.durationMs', `must be a number of milliseconds from 0 to ${MAX_TELEMETRY_DURATION_MS}`);
  }
  const { node, keyId, errorCode } = value;
  if (keyId !== undefined && (typeof keyId !== 'string' || !KEY_ID.test(keyId))) throw badField('telemetry.keyId', 'must be a key id (a lowercase uuid)');
  if (errorCode !== undefined && (typeof errorCode !== 'string' || !ERROR_CODE.test(errorCode))) {
    throw badField('telemetry.errorCode', 'must be an error code such as KEY_NOT_FOUND');
  }
  return {
    project: checkName(value['project'], 'telemetry.project'),
    profile: checkName(value['profile'], 'telemetry.profile'),
    digest: parseDigest(value['digest']),
    size,
    outcome: checkOutcome(value['outcome'], 'telemetry.outcome'),
    durationMs,
    ...(node === undefined ? {} : { node: checkNode(node, 'telemetry.node', false) }),
    ...(keyId === undefined ? {} : { keyId }),
    ...(errorCode === undefined ? {} : { errorCode }),
  };
}

function parseDigest(value: unknown): TelemetryEvent['digest'] {
  if (!isRecord(value)) throw badField('telemetry.digest', 'must be {hash, value}');
  for (const key of Object.keys(value)) if (key !== 'hash' && key !== 'value') throw badField(`telemetry.digest.${shown(key)}`, 'unknown field');
  const hash = Object.keys(DIGEST_HASHES).find((known): known is PkiHash => known === value['hash']);
  if (hash === undefined) throw badField('telemetry.digest.hash', `must be one of ${Object.keys(DIGEST_HASHES).join(', ')}`);
  const hex = value['value'];
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !HEX.test(hex)) throw badField('telemetry.digest.value', 'must be hex digits');
  const bytes = HASH_BYTES[DIGEST_HASHES[hash]];
  // A digest of another length would be counted as if it were a whole one of this hash.
  if (hex.length !== bytes * 2) throw new CofferError('INVALID_DIGEST', `telemetry.digest.value: a ${hash} digest is ${bytes} bytes`);
  return { hash, value: hex.toLowerCase() };
}

/** The stats increment of a parsed telemetry event received at `at`: a direct-mode signing. */
export function telemetryStatsEvent(event: TelemetryEvent, at: Date): StatsEvent {
  return {
    at, project: event.project, profile: event.profile, node: event.node, path: 'direct',
    outcome: event.outcome, size: event.size, durationMs: event.durationMs,
  };
}

/** One query parameter given at most once as a string (a repeated one arrives as an array). */
function single(query: Record<string, unknown>, field: string): string | undefined {
  const value = query[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badField(field, 'must be given once');
  return value;
}

/**
 * A stats query string, checked: from/to real days (to defaults to today's UTC day, from to a week
 * ending on to), from ≤ to, at most MAX_QUERY_DAYS; groupBy comma-separated STATS_DIMENSIONS without
 * repeats (default day); filters by the event fields' rules. INVALID_ARGUMENT otherwise.
 */
export function parseStatsQuery(query: Record<string, unknown>, today: Date): ParsedStatsQuery {
  for (const key of Object.keys(query)) if (!QUERY_FIELDS.has(key)) throw badField(shown(key), 'unknown query parameter');
  const to = single(query, 'to') ?? utcDay(today);
  dayStart(to, 'to');
  const from = single(query, 'from') ?? dayBefore(to, DEFAULT_QUERY_DAYS - 1);
  daysBetween(from, to);
  const groupBy = single(query, 'groupBy') ?? 'day';
  const project = single(query, 'project');
  const profile = single(query, 'profile');
  const node = single(query, 'node');
  const path = single(query, 'path');
  const outcome = single(query, 'outcome');
  return {
    from, to,
    groupBy: checkDimensions(groupBy.split(','), 'groupBy'),
    ...(project === undefined ? {} : { project: checkName(project, 'project') }),
    ...(profile === undefined ? {} : { profile: checkName(profile, 'profile') }),
    ...(node === undefined ? {} : { node: checkNode(node, 'node', true) }),
    ...(path === undefined ? {} : { path: checkPath(path, 'path') }),
    ...(outcome === undefined ? {} : { outcome: checkOutcome(outcome, 'outcome') }),
  };
}
