// Checks an audit event at the journal's edge: known fields only, each of the right shape and size.

import type { AuditOutcome } from '../core/ports.ts';

/** Longest string a field may hold; keeps a journal line small enough to stream and to forward. */
export const MAX_FIELD_LENGTH = 1024;
/** Most members a `detail` object may have. */
export const MAX_DETAIL_MEMBERS = 32;

export const EVENT_FIELDS: ReadonlySet<string> = new Set([
  'time', 'principal', 'operation', 'outcome', 'requestId', 'project', 'keyId', 'keyVersion', 'inputDigest',
  'errorCode', 'detail',
]);

const OUTCOMES: ReadonlySet<AuditOutcome> = new Set(['ALLOWED', 'DENIED', 'FAILED']);
// RFC 3339 date-time; the engine writes Date#toISOString().
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/;
// Lowercase hex of a 128- to 512-bit digest.
const DIGEST = /^(?:[0-9a-f]{2}){16,64}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
// Detail keys are identifiers. Integer-like keys are refused because V8 enumerates them before all
// others, which would break the journal's insertion-ordered canonical encoding (see audit-entry.ts).
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_LENGTH;
}

function detailProblem(detail: unknown): string | undefined {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return 'detail must be an object';
  const proto: unknown = Object.getPrototypeOf(detail);
  if (proto !== Object.prototype && proto !== null) return 'detail must be a plain object';
  let members = 0;
  for (const [key, value] of Object.entries(detail)) {
    if (++members > MAX_DETAIL_MEMBERS) return 'detail has too many members';
    if (!DETAIL_KEY.test(key)) return 'detail has a malformed key';
    if (typeof value === 'boolean') continue;
    if (typeof value === 'number' && Number.isFinite(value)) continue;
    if (typeof value === 'string' && value.length <= MAX_FIELD_LENGTH) continue;
    return 'detail values must be strings, finite numbers or booleans';
  }
  return undefined;
}

/**
 * Returns why `event` is not a valid audit event, or undefined if it is. Reasons name fields, never
 * their values: an event may carry identifiers that do not belong in a log line.
 * `extraFields` admits the journal's own fields when checking a stored entry.
 */
export function eventProblem(event: unknown, extraFields?: ReadonlySet<string>): string | undefined {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return 'an audit event must be an object';
  const e = event as Record<string, unknown>;
  for (const key in e) {
    if (!EVENT_FIELDS.has(key) && extraFields?.has(key) !== true) return 'an audit event has an unknown field';
  }
  if (typeof e['time'] !== 'string' || !TIME.test(e['time'])) return 'time must be an RFC 3339 date-time';
  if (!isText(e['principal'])) return 'principal must be a non-empty string';
  if (!isText(e['operation'])) return 'operation must be a non-empty string';
  if (typeof e['outcome'] !== 'string' || !OUTCOMES.has(e['outcome'] as AuditOutcome)) return 'outcome is unknown';
  if (!isText(e['requestId'])) return 'requestId must be a non-empty string';
  if (e['project'] !== undefined && !isText(e['project'])) return 'project must be a non-empty string';
  if (e['keyId'] !== undefined && !isText(e['keyId'])) return 'keyId must be a non-empty string';
  const version = e['keyVersion'];
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 0)) {
    return 'keyVersion must be a non-negative integer';
  }
  if (e['inputDigest'] !== undefined && !(typeof e['inputDigest'] === 'string' && DIGEST.test(e['inputDigest']))) {
    return 'inputDigest must be lowercase hex of a digest';
  }
  if (e['errorCode'] !== undefined && !(typeof e['errorCode'] === 'string' && ERROR_CODE.test(e['errorCode']))) {
    return 'errorCode must be an error code';
  }
  return e['detail'] === undefined ? undefined : detailProblem(e['detail']);
}
