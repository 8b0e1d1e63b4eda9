// Maps pg failures to Store error codes. Anything about reaching or keeping a connection (refused,
// reset, timed out, server shutting down) is STORE_UNAVAILABLE; a schema or data that is not what
// this code wrote is STORE_CORRUPT; lost serialization races are retried, then STORE_CONFLICT.
import { CofferError } from '../../core/errors.ts';

/** SQLSTATEs, https://www.postgresql.org/docs/current/errcodes-appendix.html */
const SERIALIZATION_FAILURE = '40001';
const DEADLOCK_DETECTED = '40P01';
/** Someone else's tables, or ours altered: the rows cannot be the shape this code wrote. */
const SCHEMA_NOT_OURS = new Set([
  '42P01', // undefined_table
  '42703', // undefined_column
  '42P07', // duplicate_table (a foreign table where ours would go)
  '42804', // datatype_mismatch
  '42883', // undefined_function (an operator on a changed column type)
  'XX001', // data_corrupted
  'XX002', // index_corrupted
]);
/** The server or the session is going away; a fresh connection may work. */
const CONNECTION_LOST_PREFIXES = ['08', '57P0'];
/** Node socket errors seen on a connection that was established and then broke. */
const BROKEN_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** The SQLSTATE of an error the server sent (pg's DatabaseError), else undefined. */
export function sqlState(error: unknown): string | undefined {
  if (!(error instanceof Error) || !('severity' in error) || !('code' in error)) return undefined;
  return typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code) ? error.code : undefined;
}

/** A lost serialization race or a deadlock: nothing was applied and the commit may simply be run again. */
export function isRetryableRace(error: unknown): boolean {
  const state = sqlState(error);
  return state === SERIALIZATION_FAILURE || state === DEADLOCK_DETECTED;
}

/**
 * A connection that had worked broke (server restarted, socket reset): a read may be retried once
 * on a fresh one. A refused or timed-out connect is not in this set, so retrying never doubles the
 * wait while the server is down.
 */
export function isBrokenConnection(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return CONNECTION_LOST_PREFIXES.some((prefix) => state.startsWith(prefix));
  if (!(error instanceof Error)) return false;
  if ('code' in error && typeof error.code === 'string' && BROKEN_SOCKET_CODES.has(error.code)) return true;
  // pg's own errors carry no code, only these fixed messages.
  return /Connection terminated unexpectedly|not queryable/.test(error.message);
}

/**
 * CofferErrors pass through. Server errors are classified by SQLSTATE; everything else pg throws
 * (connection refused or reset, connect timeout, query read timeout, a pool that was ended) means
 * the store cannot be used. Messages carry the SQLSTATE, never the server's text, which may quote
 * row contents.
 */
export function toStoreError(error: unknown): CofferError {
  if (error instanceof CofferError) return error;
  const state = sqlState(error);
  if (state === undefined) return new CofferError('STORE_UNAVAILABLE', 'the store cannot be reached', { cause: error });
  if (state === SERIALIZATION_FAILURE || state === DEADLOCK_DETECTED) {
    return new CofferError('STORE_CONFLICT', 'the commit lost a race with a concurrent one; re-read and retry', { cause: error });
  }
  if (SCHEMA_NOT_OURS.has(state)) {
    return new CofferError('STORE_CORRUPT', `the store's schema or data is not what Coffer wrote (SQLSTATE ${state})`, { cause: error });
  }
  return new CofferError('STORE_UNAVAILABLE', `the store cannot be used (SQLSTATE ${state})`, { cause: error });
}
