// Idempotency keys for writes: a request that carries `Idempotency-Key` runs once per (principal,
// key); a retry with the same method, path and body gets the first answer again (header
// `Idempotent-Replay: true`), even on another node, because the record lives in the shared store.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CofferError } from '../core/errors.ts';
import type { Barrier } from '../barrier/index.ts';
import type { Store, StoreEntry } from '../store/index.ts';
import type { NodeServices } from './node-services.ts';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENT_REPLAY_HEADER = 'idempotent-replay';

/** 1-128 printable ASCII characters (Node has already trimmed surrounding spaces). */
const KEY_PATTERN = /^[\x20-\x7e]{1,128}$/;
const PREFIX = 'idem/';
/** The barrier kind of every record: the path is the record id, so a record moved to another key fails. */
const KIND = 'idempotency';
/** A retry more than a day later is a new request; records older than this are pruned. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * An in-flight marker older than this belongs to a request that died with its node (the request
 * deadline is 30 s by default): a retry takes it over instead of waiting a whole day.
 */
const IN_FLIGHT_LEASE_MS = 2 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;
const PRUNE_PAGE = 256;
/** Methods whose effect is a write; GET/HEAD/OPTIONS never record. */
const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/**
 * Routes that never record: crypto is idempotent by nature and its answers (plaintexts, data keys)
 * must never be stored; auth answers carry tokens, and so do join tokens (shown once, never stored; a
 * retry issues another, and the unseen one expires unused); domain routes are per-node and run while sealed.
 */
const UNRECORDED = ['/v1/crypto/', '/v1/auth/', '/v1/domain', '/v1/cluster/join-tokens'];

interface InFlight {
  readonly state: 'in-flight';
  readonly fingerprint: string;
  readonly createdAt: number;
}
interface Completed {
  readonly state: 'completed';
  readonly fingerprint: string;
  readonly createdAt: number;
  readonly status: number;
  readonly body: string;
}
type IdempotencyRecord = InFlight | Completed;

/** What the request holds between the pre-handler (marker written) and onSend (answer recorded). */
interface Pending {
  readonly path: string;
  readonly version: number;
  readonly fingerprint: string;
  readonly createdAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set while this request owns an idempotency marker in the store. */
    idempotency: Pending | undefined;
  }
}

/** The header's value, MALFORMED_REQUEST when it is not 1-128 printable ASCII; undefined when absent. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const value = request.headers[IDEMPOTENCY_KEY_HEADER];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !KEY_PATTERN.test(value)) {
    throw new CofferError('MALFORMED_REQUEST', 'the Idempotency-Key header must be 1-128 printable ASCII characters');
  }
  return value;
}

function recordPath(principalId: string, key: string): string {
  // A principal id is a uuid, so the newline separates the two unambiguously.
  return `${PREFIX}${createHash('sha256').update(`${principalId}\n${key}`, 'utf8').digest('hex')}`;
}

function fingerprintOf(request: FastifyRequest): string {
  const body = request.body === undefined ? '' : JSON.stringify(request.body);
  return `${request.method} ${request.url} ${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}

/** Value layout: 8-byte big-endian creation time in ms (a pruning hint only) ‖ the sealed record. */
function encodeValue(barrier: Barrier, path: string, version: number, record: IdempotencyRecord): Uint8Array {
  const sealed = barrier.encryptRecord(KIND, path, version, Buffer.from(JSON.stringify(record), 'utf8'));
  const value = Buffer.alloc(8 + sealed.length);
  value.writeBigUInt64BE(BigInt(record.createdAt), 0);
  value.set(sealed, 8);
  return value;
}

function decodeValue(barrier: Barrier, entry: StoreEntry): IdempotencyRecord {
  const plaintext = barrier.decryptRecord(KIND, entry.key, entry.version, entry.value.subarray(8));
  // Authenticated by the barrier: the shape is ours.
  return JSON.parse(Buffer.from(plaintext).toString('utf8')) as IdempotencyRecord;
}

function createdHint(entry: StoreEntry): number {
  return entry.value.length >= 8 ? Number(Buffer.from(entry.value.buffer, entry.value.byteOffset, 8).readBigUInt64BE(0)) : 0;
}

function isConflict(error: unknown): boolean {
  return error instanceof CofferError && error.code === 'STORE_CONFLICT';
}

/**
 * Registers the hooks. Requests without the header pay one header lookup; with it, one store read and
 * one write before the handler and one write after it.
 */
export function installIdempotency(app: FastifyInstance, services: NodeServices): void {
  app.decorateRequest('idempotency', undefined);
  let lastPrune = 0;

  app.addHook('preHandler', async (request, reply) => {
    if (request.headers[IDEMPOTENCY_KEY_HEADER] === undefined) return;
    const key = idempotencyKeyOf(request);
    const principal = request.principal;
    if (key === undefined || principal === undefined || !WRITE_METHODS.has(request.method) || request.is404) return;
    if (UNRECORDED.some((prefix) => request.url.startsWith(prefix)) || !request.url.startsWith('/v1/')) return;
    const { store, barrier } = services.node;
    const path = recordPath(principal.id, key);
    const fingerprint = fingerprintOf(request);
    // Two rounds: a concurrent duplicate that wins the create makes the second round see its marker.
    for (let round = 0; round < 2; round++) {
      const entry = await store.get(path);
      const now = Date.now();
      const existing = entry === undefined ? undefined : decodeValue(barrier, entry);
      const stale = existing === undefined || now - existing.createdAt >= IDEMPOTENCY_TTL_MS
        || (existing.state === 'in-flight' && now - existing.createdAt >= IN_FLIGHT_LEASE_MS && existing.fingerprint === fingerprint);
      if (existing !== undefined && !stale) {
        if (existing.fingerprint !== fingerprint) throw new CofferError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a different request');
        if (existing.state === 'in-flight') throw new CofferError('IDEMPOTENCY_KEY_IN_FLIGHT', 'a request with this Idempotency-Key is still running');
        return replay(reply, existing);
      }
      // Absent, expired or abandoned: take it with compare-and-set (an expired record is overwritten
      // in place rather than deleted, so its version only grows, as the barrier's rollback check wants).
      const expectVersion = entry?.version ?? 0;
      const marker: InFlight = { state: 'in-flight', fingerprint, createdAt: now };
      try {
        await store.commit([{ op: 'put', key: path, value: encodeValue(barrier, path, expectVersion + 1, marker), expectVersion }]);
      } catch (error) {
        if (isConflict(error)) continue;
        throw error;
      }
      barrier.noteCommitted(KIND, path, expectVersion + 1);
      request.idempotency = { path, version: expectVersion + 1, fingerprint, createdAt: now };
      return undefined;
    }
    throw new CofferError('IDEMPOTENCY_KEY_IN_FLIGHT', 'a request with this Idempotency-Key is still running');
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const pending = request.idempotency;
    if (pending === undefined) return payload;
    request.idempotency = undefined;
    const { store, barrier } = services.node;
    // A 5xx (store or audit down, an internal error) or a lost race did not run the operation to an
    // answer worth repeating: the marker goes, so a retry runs it afresh.
    const keep = reply.statusCode < 500 && request.errorCode !== 'STORE_CONFLICT' && typeof payload === 'string';
    try {
      if (keep) {
        const record: Completed = { state: 'completed', fingerprint: pending.fingerprint, createdAt: pending.createdAt, status: reply.statusCode, body: payload };
        await store.commit([{ op: 'put', key: pending.path, value: encodeValue(barrier, pending.path, pending.version + 1, record), expectVersion: pending.version }]);
        barrier.noteCommitted(KIND, pending.path, pending.version + 1);
      } else {
        await store.commit([{ op: 'delete', key: pending.path, expectVersion: pending.version }]);
        barrier.forget(KIND, pending.path);
      }
    } catch (error) {
      // The answer still goes out; the marker expires after its lease and a retry then runs again.
      request.log.warn({ err: error }, 'idempotency record not written');
    }
    if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = Date.now();
      pruneIdempotencyRecords(store, barrier, Date.now()).catch((error: unknown) => {
        request.log.warn({ err: error }, 'idempotency pruning failed');
      });
    }
    return payload;
  });
}

function replay(reply: FastifyReply, record: Completed): FastifyReply {
  void reply.code(record.status).header(IDEMPOTENT_REPLAY_HEADER, 'true');
  if (record.body === '') return reply.send();
  return reply.type('application/json; charset=utf-8').send(record.body);
}

/**
 * Deletes records created more than IDEMPOTENCY_TTL_MS before `now`, reading only the clear creation
 * hint (a forged hint can only delete a record early or keep it longer: a retry then runs again).
 * Every node may prune: deletes are compare-and-set, and a lost race just skips that record.
 */
export async function pruneIdempotencyRecords(store: Store, barrier: Barrier, now: number): Promise<number> {
  let after: string | undefined;
  let removed = 0;
  for (;;) {
    const page = await store.list(PREFIX, { ...(after === undefined ? {} : { after }), limit: PRUNE_PAGE });
    for (const entry of page) {
      if (now - createdHint(entry) < IDEMPOTENCY_TTL_MS) continue;
      try {
        await store.commit([{ op: 'delete', key: entry.key, expectVersion: entry.version }]);
        barrier.forget(KIND, entry.key);
        removed++;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
    if (page.length < PRUNE_PAGE) return removed;
    after = page.at(-1)?.key;
  }
}
