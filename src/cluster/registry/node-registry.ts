// The node registry: each node keeps a plain-JSON record `cluster/node/<nodeId>` fresh with a
// heartbeat; live nodes are those whose heartbeat is recent. Records are addresses and states only.
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';

export const NODE_RECORD_PREFIX = 'cluster/node/';

/** The states a record may report (the barrier's, as a node reports them). */
export const NODE_STATES = ['UNINITIALIZED', 'SEALED', 'UNSEALED'] as const;
export type NodeState = (typeof NODE_STATES)[number];

export interface NodeRecord {
  readonly nodeId: string;
  /** The HTTPS API address other nodes and clients use. Clients still verify TLS: this is a hint. */
  readonly apiUrl: string;
  readonly state: NodeState;
  /** The software version the node runs. */
  readonly version: string;
  /** Random per process start: tells a restarted node from the one before it. */
  readonly instanceId: string;
  readonly startedAt: string;
  readonly lastHeartbeat: string;
}

export interface NodeRegistryOptions {
  readonly store: Store;
  readonly clock?: Clock;
  /** A node whose heartbeat is older than this is dead (default 15). */
  readonly deadAfterSeconds?: number;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_URL_LENGTH = 2048;
const MAX_TEXT_LENGTH = 128;
/** A record is a few hundred bytes: a larger one is not ours. */
const MAX_RECORD_BYTES = 8192;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const DEFAULT_DEAD_AFTER_SECONDS = 15;

export function nodeRecordKey(nodeId: string): string {
  if (!NODE_ID.test(nodeId)) throw new CofferError('INVALID_ARGUMENT', "a node id is 1-64 of letters, digits, '.', '_' or '-'");
  return `${NODE_RECORD_PREFIX}${nodeId}`;
}

function isText(value: unknown, max = MAX_TEXT_LENGTH): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && !/[\u0000-\u001f\u007f]/.test(value);
}

function isHttpsUrl(value: unknown): value is string {
  if (!isText(value, MAX_URL_LENGTH)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}

/**
 * Checks a stored record before anyone believes it: the store is untrusted, so a row that is not
 * exactly this shape (an https URL without credentials, a known state, ISO times, its own key's id)
 * is dropped, never passed on. Returns undefined for anything malformed.
 */
export function parseNodeRecord(key: string, value: Uint8Array): NodeRecord | undefined {
  if (value.length > MAX_RECORD_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const r = json as Record<string, unknown>;
  const fields = ['nodeId', 'apiUrl', 'state', 'version', 'instanceId', 'startedAt', 'lastHeartbeat'];
  if (Object.keys(r).some((k) => !fields.includes(k))) return undefined;
  const { nodeId, apiUrl, state, version, instanceId, startedAt, lastHeartbeat } = r;
  if (typeof nodeId !== 'string' || !NODE_ID.test(nodeId) || key !== `${NODE_RECORD_PREFIX}${nodeId}`) return undefined;
  if (!isHttpsUrl(apiUrl) || !(NODE_STATES as readonly unknown[]).includes(state) || !isText(version) || !isText(instanceId)) return undefined;
  if (typeof startedAt !== 'string' || !ISO_TIME.test(startedAt) || typeof lastHeartbeat !== 'string' || !ISO_TIME.test(lastHeartbeat)) return undefined;
  if (Number.isNaN(Date.parse(startedAt)) || Number.isNaN(Date.parse(lastHeartbeat))) return undefined;
  return { nodeId, apiUrl, state: state as NodeState, version, instanceId, startedAt, lastHeartbeat };
}

function encodeRecord(record: NodeRecord): Uint8Array {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** Reads and writes node records; stateless apart from its options. */
export class NodeRegistry {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly deadAfterMs: number;

  constructor(options: NodeRegistryOptions) {
    const dead = options.deadAfterSeconds ?? DEFAULT_DEAD_AFTER_SECONDS;
    if (!Number.isSafeInteger(dead) || dead < 1) throw new CofferError('INVALID_ARGUMENT', 'deadAfterSeconds must be a positive integer');
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.deadAfterMs = dead * 1000;
  }

  /** Writes (creates or replaces) a node's record. Last writer wins: one node id is one node. */
  async put(record: NodeRecord): Promise<void> {
    const key = nodeRecordKey(record.nodeId);
    if (parseNodeRecord(key, encodeRecord(record)) === undefined) throw new CofferError('INVALID_ARGUMENT', 'the node record is malformed');
    await this.#store.commit([{ op: 'put', key, value: encodeRecord(record) }]);
  }

  /**
   * Removes a node's record, only if it is still this instance's (a node restarted under the same id
   * elsewhere keeps its record). Compare-and-set on the version read.
   */
  async remove(nodeId: string, instanceId: string): Promise<void> {
    const key = nodeRecordKey(nodeId);
    const entry = await this.#store.get(key);
    if (entry === undefined) return;
    const record = parseNodeRecord(key, entry.value);
    if (record !== undefined && record.instanceId !== instanceId) return;
    try {
      await this.#store.commit([{ op: 'delete', key, expectVersion: entry.version }]);
    } catch (error) {
      // Rewritten meanwhile (a heartbeat in flight, or a new instance): the record is not ours to drop.
      if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT')) throw error;
    }
  }

  /** Every well-formed record, live or not, in node id order. */
  async all(): Promise<NodeRecord[]> {
    const entries = await this.#store.list(NODE_RECORD_PREFIX);
    const records: NodeRecord[] = [];
    for (const entry of entries) {
      const record = parseNodeRecord(entry.key, entry.value);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  /** Records whose heartbeat is within deadAfterSeconds of now (a heartbeat from the future counts as now). */
  async liveNodes(): Promise<NodeRecord[]> {
    const now = this.#clock.now().getTime();
    return (await this.all()).filter((record) => now - Date.parse(record.lastHeartbeat) <= this.deadAfterMs);
  }
}
