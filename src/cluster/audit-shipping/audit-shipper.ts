// Ships the node's local audit journal to the shared store: every durable line, verbatim, in order,
// in batches whose commit also moves a cursor, so after any failure every entry arrives exactly once.
import { CofferError } from '../../core/errors.ts';
import type { Store, StoreWrite } from '../../store/index.ts';
import { CoalescingRun, pollEvery } from '../background-loop.ts';
import { readLines, type TailLine } from './journal-tail.ts';

export const AUDIT_PREFIX = 'audit/';
export const AUDIT_CURSOR_PREFIX = 'audit-cursor/';
/** Digits of a zero-padded seq: Number.MAX_SAFE_INTEGER has 16, so key order is seq order. */
const SEQ_DIGITS = 16;

/** `audit/<node>/<seq>`; a checkpoint after entry seq is `<seq>.checkpoint`, which sorts between seq and seq + 1. */
export function auditEntryKey(nodeId: string, seq: number): string {
  return `${AUDIT_PREFIX}${nodeId}/${String(seq).padStart(SEQ_DIGITS, '0')}`;
}

export function auditCheckpointKey(nodeId: string, treeSize: number): string {
  return `${auditEntryKey(nodeId, treeSize - 1)}.checkpoint`;
}

export function auditCursorKey(nodeId: string): string {
  return `${AUDIT_CURSOR_PREFIX}${nodeId}`;
}

/** What the store has of this node's journal: the last entry shipped and the last checkpoint. */
export interface ShippingCursor {
  readonly seq: number;
  readonly hash: string;
  /** treeSize of the last checkpoint shipped (0: none). */
  readonly checkpoint: number;
}

const EMPTY_CURSOR: ShippingCursor = { seq: -1, hash: '0'.repeat(64), checkpoint: 0 };

export type ShipperState = 'idle' | 'shipping' | 'retrying' | 'diverged' | 'stopped';

export interface AuditShipperOptions {
  readonly store: Store;
  readonly nodeId: string;
  readonly journalPath: string;
  /**
   * The highest seq known durable in the open journal; Infinity when no journal is open (every
   * complete line is then durable); -1 to ship nothing new (a journal is being opened).
   */
  readonly durableSeq: () => number;
  /** Lines per commit (default 256). */
  readonly batchLines?: number;
  /** Bytes per commit (default 1 MiB). */
  readonly batchBytes?: number;
  /** Poll period, on top of nudges (default 1000 ms). */
  readonly pollMs?: number;
  /** First retry delay after a failure, doubled up to maxBackoffMs (defaults 100 and 5000 ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly onError?: (error: unknown) => void;
}

interface ParsedLine {
  readonly line: TailLine;
  readonly seq?: number;
  readonly hash?: string;
  readonly prevHash?: string;
  readonly treeSize?: number;
}

function parseLine(line: TailLine): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(line.text);
  } catch (error) {
    throw new CofferError('AUDIT_CHAIN_INVALID', 'the local journal holds a line that is not JSON', { cause: error });
  }
  const r = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  if (r['type'] === 'checkpoint' && Number.isSafeInteger(r['treeSize'])) return { line, treeSize: r['treeSize'] as number };
  if (Number.isSafeInteger(r['seq']) && typeof r['hash'] === 'string' && typeof r['prevHash'] === 'string') {
    return { line, seq: r['seq'] as number, hash: r['hash'], prevHash: r['prevHash'] };
  }
  throw new CofferError('AUDIT_CHAIN_INVALID', 'the local journal holds a line that is neither an entry nor a checkpoint');
}

function parseCursor(value: Uint8Array): ShippingCursor {
  try {
    const r = JSON.parse(Buffer.from(value).toString('utf8')) as Record<string, unknown>;
    const { seq, hash, checkpoint } = r;
    if (Number.isSafeInteger(seq) && typeof hash === 'string' && Number.isSafeInteger(checkpoint)) {
      return { seq: seq as number, hash, checkpoint: checkpoint as number };
    }
  } catch {
    // fall through
  }
  throw new CofferError('STORE_CORRUPT', 'the audit shipping cursor is malformed');
}

/**
 * Invariants: a line is shipped only once durable in the journal; lines go in file order; each batch
 * commits its lines (each expecting to be new) together with the cursor (compare-and-set on the
 * cursor's version), so a batch whose outcome was unknown is recognised on retry, never doubled.
 */
export class AuditShipper {
  readonly #o: AuditShipperOptions;
  readonly #batchLines: number;
  readonly #batchBytes: number;
  readonly #pollMs: number;
  readonly #minBackoff: number;
  readonly #maxBackoff: number;
  /** The store's cursor and its entry version (0: no cursor yet); undefined until read. */
  #cursor: { value: ShippingCursor; version: number } | undefined;
  /** Byte offset of the first line not yet consumed (shipped, or skipped as already in the store). */
  #offset = 0;
  #timer: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #backoff = 0;
  /** Shipping runs, one at a time: a nudge during one runs it once more after it. */
  readonly #run = new CoalescingRun(() => this.#shipAll(), () => this.#isShipping());
  state: ShipperState = 'idle';
  lastError: unknown = undefined;
  /** Entries this instance committed to the store. */
  shipped = 0;

  constructor(options: AuditShipperOptions) {
    this.#o = options;
    this.#batchLines = options.batchLines ?? 256;
    this.#batchBytes = options.batchBytes ?? 1024 * 1024;
    this.#pollMs = options.pollMs ?? 1000;
    this.#minBackoff = options.minBackoffMs ?? 100;
    this.#maxBackoff = options.maxBackoffMs ?? 5000;
  }

  /** The last entry the store is known to hold (seq -1: none). */
  get shippedSeq(): number {
    return this.#cursor?.value.seq ?? -1;
  }

  start(): void {
    if (this.#timer !== undefined || this.state === 'stopped') return;
    this.#timer = pollEvery(this.#pollMs, () => {
      void this.nudge();
    });
    void this.nudge();
  }

  /** Ships what is ready now (new entries were written); shares a run in progress. Waits out a backoff. */
  nudge(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'diverged' || this.#retry !== undefined) return this.#run.running ?? Promise.resolve();
    return this.#run.request();
  }

  /** Resolves once everything durable now has reached the store (tests; a clean shutdown). */
  async flush(): Promise<void> {
    await this.#run.running;
    await this.nudge();
  }

  async #shipAll(): Promise<void> {
    this.state = 'shipping';
    try {
      this.#cursor ??= await this.#readCursor();
      while (await this.#shipBatch());
      this.#backoff = 0;
      this.lastError = undefined;
      if (this.#isShipping()) this.state = 'idle';
    } catch (error) {
      this.lastError = error;
      this.#o.onError?.(error);
      if (error instanceof CofferError && error.code === 'AUDIT_CHAIN_INVALID') {
        this.state = 'diverged';
        return;
      }
      this.#scheduleRetry();
    }
  }

  /** Read through a method: the state changes across awaits (stop() may run meanwhile). */
  #isShipping(): boolean {
    return this.state === 'shipping';
  }

  #scheduleRetry(): void {
    if (this.state === 'stopped') return;
    this.state = 'retrying';
    this.#backoff = this.#backoff === 0 ? this.#minBackoff : Math.min(this.#maxBackoff, this.#backoff * 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.nudge();
    }, this.#backoff);
    this.#retry.unref();
  }

  async #readCursor(): Promise<{ value: ShippingCursor; version: number }> {
    const entry = await this.#o.store.get(auditCursorKey(this.#o.nodeId));
    return entry === undefined ? { value: EMPTY_CURSOR, version: 0 } : { value: parseCursor(entry.value), version: entry.version };
  }

  /** Ships one batch; false when nothing more is ready. */
  async #shipBatch(): Promise<boolean> {
    const cursor = this.#cursor ?? { value: EMPTY_CURSOR, version: 0 };
    const durable = this.#o.durableSeq();
    const lines = await readLines(this.#o.journalPath, this.#offset);
    const writes: StoreWrite[] = [];
    let next = cursor.value;
    let consumed = this.#offset;
    let bytes = 0;
    for (const line of lines) {
      const parsed = parseLine(line);
      if (parsed.treeSize !== undefined) {
        // A checkpoint is durable once an entry after it is, or once no journal is open.
        if (parsed.treeSize > next.checkpoint && parsed.treeSize <= next.seq + 1) {
          if (!(durable === Infinity || durable >= parsed.treeSize)) break;
          writes.push({ op: 'put', key: auditCheckpointKey(this.#o.nodeId, parsed.treeSize), value: Buffer.from(line.text, 'utf8'), expectVersion: 0 });
          next = { ...next, checkpoint: parsed.treeSize };
        } else if (parsed.treeSize > next.seq + 1) {
          break; // its entries are not shipped yet (not durable): wait for them
        }
      } else {
        const seq = parsed.seq ?? -1;
        if (seq <= next.seq) {
          if (seq === next.seq && parsed.hash !== next.hash) throw diverged(seq);
        } else {
          if (seq !== next.seq + 1 || parsed.prevHash !== next.hash) throw diverged(seq);
          if (seq > durable) break;
          writes.push({ op: 'put', key: auditEntryKey(this.#o.nodeId, seq), value: Buffer.from(line.text, 'utf8'), expectVersion: 0 });
          next = { ...next, seq, hash: parsed.hash ?? '' };
        }
      }
      consumed = line.end;
      bytes += line.text.length;
      if (writes.length >= this.#batchLines || bytes >= this.#batchBytes) break;
    }
    if (writes.length === 0) {
      // Only lines already in the store: skip them, and read on if every line read was consumed.
      this.#offset = consumed;
      return lines.length > 0 && consumed === lines.at(-1)?.end;
    }
    writes.push({ op: 'put', key: auditCursorKey(this.#o.nodeId), value: Buffer.from(JSON.stringify(next), 'utf8'), expectVersion: cursor.version });
    try {
      const result = await this.#o.store.commit(writes);
      this.#cursor = { value: next, version: result.versions.at(-1) ?? cursor.version + 1 };
    } catch (error) {
      if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT')) {
        // STORE_UNAVAILABLE may hide a commit that happened: forget the cursor and re-read it.
        this.#cursor = undefined;
        throw error;
      }
      const stored = await this.#readCursor();
      if (stored.value.seq !== next.seq || stored.value.hash !== next.hash) {
        throw new CofferError('AUDIT_CHAIN_INVALID', `the store's audit cursor for node ${this.#o.nodeId} moved under this node (seq ${stored.value.seq}): is another node using the same id?`);
      }
      // Our earlier attempt did commit (its outcome was unknown): carry on after it.
      this.#cursor = stored;
    }
    this.shipped += writes.length - 1;
    this.#offset = consumed;
    return true;
  }

  /** Stops the loop; a commit in flight finishes. */
  async stop(): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.#timer);
    clearTimeout(this.#retry);
    this.#timer = undefined;
    this.#retry = undefined;
    await this.#run.running;
  }
}

function diverged(seq: number): CofferError {
  return new CofferError('AUDIT_CHAIN_INVALID', `the local journal and the store's copy disagree at seq ${seq}`);
}
