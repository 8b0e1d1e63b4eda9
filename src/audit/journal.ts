// The node-local audit journal: hash-chained JSON lines, group-committed, checkpointed, fail closed.

import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CofferError } from '../core/errors.ts';
import type { AuditEvent, AuditSink, Clock } from '../core/ports.ts';
import { encodeEntry, type AuditEntry, type ChainHead } from './audit-entry.ts';
import { BatchBuffer } from './batch-buffer.ts';
import { BatchSizer } from './batch-sizer.ts';
import { createCheckpoint, encodeCheckpoint, type CheckpointSigner } from './checkpoint.ts';
import { eventProblem } from './event-validation.ts';
import { drainQueues, ForwardQueue } from './forward-queue.ts';
import { openJournalFile, writeDurably, type JournalFile } from './journal-file.ts';
import { checkJournalOptions, type AuditJournalOptions, type JournalConfig } from './journal-options.ts';
import { recoverJournal, type RecoveredJournal } from './journal-recovery.ts';
import { entryLeafHash, type CompactRange } from './merkle.ts';

export interface JournalStats {
  /** Entries made durable by this instance. */
  readonly entries: number;
  /** Write + fdatasync rounds (group commits). */
  readonly batches: number;
  /** Checkpoints made durable by this instance. */
  readonly checkpoints: number;
  /** Forwarder deliveries that failed or were dropped. */
  readonly forwardErrors: number;
}

interface Waiter {
  /** The entry's seq; -1 for a barrier that only waits for everything before it. */
  readonly seq: number;
  readonly resolve: (seq: number) => void;
  readonly reject: (error: unknown) => void;
}

/** One group commit: its lines in file order, the appends waiting on it, copies for forwarders. */
interface Batch {
  readonly bytes: BatchBuffer;
  readonly waiters: Waiter[];
  readonly entries: AuditEntry[];
  entryCount: number;
  checkpointCount: number;
  /** performance.now() when its first line or waiter was queued. */
  readonly queuedAt: number;
  /** The chain head after its last entry; set when the batch is closed to further appends. */
  head: ChainHead | undefined;
}

function newBatch(): Batch {
  return { bytes: new BatchBuffer(), waiters: [], entries: [], entryCount: 0, checkpointCount: 0, queuedAt: performance.now(), head: undefined };
}

// How long close() waits for forwarders to finish: they are best effort and must not hang a shutdown.
const FORWARDER_DRAIN_MS = 5000;
// A second writer in this process would fork the chain; other processes are the operator's concern.
const openPaths = new Set<string>();

/**
 * Appends audit events to a file as hash-chained JSON lines. `append` (and `record`, which also
 * gives the entry's seq) resolves only once the entry is on stable storage. One durable write is in
 * flight at a time; appends that arrive meanwhile gather into the next batches (each bounded, see
 * batch-sizer.ts), written in order. After any write failure the journal refuses every append with
 * AUDIT_UNAVAILABLE until it is closed and reopened.
 */
export class AuditJournal implements AuditSink {
  readonly #file: JournalFile;
  readonly #path: string;
  readonly #node: string;
  readonly #signer: CheckpointSigner | undefined;
  readonly #every: number;
  readonly #clock: Clock;
  readonly #queues: readonly ForwardQueue[];
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #range: CompactRange;

  #nextSeq: number;
  #prevHash: string;
  #checkpointedSize: number;
  #durable: ChainHead;

  // Batches in file order: `#full` reached the sizer's bound and wait for the writer; `#gathering`
  // takes new lines. Invariant: every line of #full precedes every line of #gathering.
  #full: Batch[] = [];
  #gathering: Batch | undefined;
  readonly #sizer = new BatchSizer();

  #writing = false;
  #failure: CofferError | undefined;
  #closed: Promise<void> | undefined;
  #totals = { entries: 0, batches: 0, checkpoints: 0 };

  private constructor(file: JournalFile, path: string, config: JournalConfig, recovered: RecoveredJournal) {
    this.#file = file;
    this.#path = path;
    this.#node = config.nodeId;
    this.#signer = config.signer;
    this.#every = config.checkpointEvery;
    this.#clock = config.clock;
    this.#queues = config.sinks.map((sink) => new ForwardQueue(sink));
    this.#range = recovered.range;
    this.#nextSeq = recovered.head.seq + 1;
    this.#prevHash = recovered.head.hash;
    this.#checkpointedSize = recovered.checkpointedSize;
    this.#durable = recovered.head;
    // A crash can tear the checkpoint that was due; write it before any new entry so that no run of
    // entries without a checkpoint is ever longer than checkpointEvery.
    if (this.#nextSeq - this.#checkpointedSize >= this.#every) this.#queueCheckpoint();
    if (config.checkpointIntervalMs !== undefined) {
      this.#timer = setInterval(() => {
        if (this.#failure !== undefined || this.#closed !== undefined || this.#nextSeq === this.#checkpointedSize) return;
        this.#queueCheckpoint();
        this.#schedule();
      }, config.checkpointIntervalMs);
      this.#timer.unref();
    }
  }

  /**
   * Opens (or creates) the journal at `options.path`: cuts a torn last line left by a crash (it was
   * never acknowledged), re-checks the tail since the last checkpoint, and continues seq and chain.
   * INVALID_ARGUMENT for bad options or a file of another node, AUDIT_CHAIN_INVALID for a tail that
   * does not verify, AUDIT_UNAVAILABLE when the file cannot be opened or written.
   */
  static async open(options: AuditJournalOptions): Promise<AuditJournal> {
    const config = checkJournalOptions(options);
    const path = resolve(config.path);
    if (openPaths.has(path)) throw new CofferError('INVALID_ARGUMENT', 'this audit journal is already open in this process');
    openPaths.add(path);
    let file: JournalFile | undefined;
    try {
      file = await openJournalFile(path);
      const recovered = await recoverJournal(file.handle);
      if (recovered.node !== undefined && recovered.node !== config.nodeId) {
        throw new CofferError('INVALID_ARGUMENT', 'the audit journal belongs to another node');
      }
      const journal = new AuditJournal(file, path, config, recovered);
      if (journal.#failure !== undefined) {
        clearInterval(journal.#timer);
        throw journal.#failure;
      }
      journal.#schedule();
      return journal;
    } catch (error) {
      openPaths.delete(path);
      await file?.handle.close().catch(() => undefined);
      if (error instanceof CofferError) throw error;
      throw new CofferError('AUDIT_UNAVAILABLE', 'the audit journal cannot be opened', { cause: error });
    }
  }

  /** Appends an event; resolves once it is durable. Never logs the event. */
  append(event: AuditEvent): Promise<void> {
    const { promise, resolve: done, reject } = Promise.withResolvers<undefined>();
    this.#enqueue(event, () => {
      done(undefined);
    }, reject);
    return promise;
  }

  /** Like append, but resolves with the entry's seq. */
  record(event: AuditEvent): Promise<number> {
    const { promise, resolve: done, reject } = Promise.withResolvers<number>();
    this.#enqueue(event, done, reject);
    return promise;
  }

  #enqueue(event: AuditEvent, done: (seq: number) => void, reject: (error: unknown) => void): void {
    const problem = eventProblem(event);
    const refusal = this.#failure
      ?? (this.#closed === undefined ? undefined : new CofferError('AUDIT_UNAVAILABLE', 'the audit journal is closed'))
      ?? (problem === undefined ? undefined : new CofferError('INVALID_ARGUMENT', `invalid audit event: ${problem}`));
    if (refusal !== undefined) {
      reject(refusal);
      return;
    }
    const seq = this.#nextSeq;
    const { entry, hash, line } = encodeEntry(event, seq, this.#node, this.#prevHash);
    this.#nextSeq = seq + 1;
    this.#prevHash = hash;
    this.#range.push(entryLeafHash(hash));
    const batch = this.#gatheringBatch();
    batch.bytes.push(line);
    batch.entryCount += 1;
    if (this.#queues.length > 0) {
      // Frozen: every forwarder gets the same objects, and none may change what another sees.
      if (entry.detail !== undefined) Object.freeze(entry.detail);
      batch.entries.push(Object.freeze(entry) as AuditEntry);
    }
    batch.waiters.push({ seq, resolve: done, reject });
    if (this.#nextSeq - this.#checkpointedSize >= this.#every) this.#queueCheckpoint();
    // Closed after its checkpoint, if one was due, so the checkpoint sits right after its last entry.
    if (this.#failure === undefined && batch.entryCount >= this.#sizer.limit) this.#full.push(this.#close(batch));
    this.#schedule();
  }

  #gatheringBatch(): Batch {
    this.#gathering ??= newBatch();
    return this.#gathering;
  }

  /** Ends `batch`, the gathering one, at the current chain head; later lines go to a new batch. */
  #close(batch: Batch): Batch {
    batch.head = { seq: this.#nextSeq - 1, hash: this.#prevHash };
    this.#gathering = undefined;
    return batch;
  }

  /** The last durable entry: seq -1 and the genesis hash when the journal is empty. */
  head(): ChainHead {
    return this.#durable;
  }

  stats(): JournalStats {
    const forwardErrors = this.#queues.reduce((sum, queue) => sum + queue.errors, 0);
    return { ...this.#totals, forwardErrors };
  }

  /**
   * Writes a final checkpoint, flushes, waits (boundedly) for forwarders, and closes the file. Rejects
   * with AUDIT_UNAVAILABLE only if that final flush fails; a journal that had already failed (and
   * reported it to the appends) closes quietly.
   */
  close(): Promise<void> {
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  async #shutdown(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    let failure: CofferError | undefined;
    if (this.#failure === undefined) {
      if (this.#nextSeq > this.#checkpointedSize) this.#queueCheckpoint();
      await this.#barrier().catch((error: unknown) => {
        failure = this.#failure ?? new CofferError('AUDIT_UNAVAILABLE', 'the audit journal could not be written', { cause: error });
      });
    }
    await drainQueues(this.#queues, FORWARDER_DRAIN_MS);
    try {
      await this.#file.handle.close();
    } catch (error) {
      failure ??= new CofferError('AUDIT_UNAVAILABLE', 'the audit journal could not be closed', { cause: error });
    }
    openPaths.delete(this.#path);
    if (failure !== undefined) throw failure;
  }

  /** Settles once everything queued before it is durable (or rejects if the journal failed). */
  #barrier(): Promise<number> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const { promise, resolve: done, reject } = Promise.withResolvers<number>();
    this.#gatheringBatch().waiters.push({ seq: -1, resolve: done, reject });
    this.#schedule();
    return promise;
  }

  /** Queues a checkpoint over every entry queued so far, right after the last of them. */
  #queueCheckpoint(): void {
    const treeSize = this.#nextSeq;
    let line: string;
    try {
      const time = this.#clock.now().toISOString();
      const fields = { treeSize, rootHash: this.#range.root(), time, node: this.#node, range: this.#range.roots() };
      line = encodeCheckpoint(createCheckpoint(fields, this.#signer));
    } catch (error) {
      // Without its checkpoint the journal would silently lose tamper evidence: fail closed.
      this.#fail(error, undefined);
      return;
    }
    const batch = this.#gatheringBatch();
    batch.bytes.push(line);
    batch.checkpointCount += 1;
    this.#checkpointedSize = treeSize;
  }

  /**
   * Starts the writer now if it is idle. Not deferred: a batch that starts while the event loop is
   * still busy (the rest of a burst, the next requests) is written meanwhile on the thread pool;
   * what arrives during the write gathers into the next batches.
   */
  #schedule(): void {
    if (this.#writing) return;
    void this.#drain();
  }

  /** The next batch to write, in file order, or undefined when nothing is waiting. */
  #nextBatch(): Batch | undefined {
    const full = this.#full.shift();
    if (full !== undefined) return full;
    const gathering = this.#gathering;
    return gathering === undefined ? undefined : this.#close(gathering);
  }

  /** The single writer: one durable write per batch, then every waiter of that batch. Never rejects. */
  async #drain(): Promise<void> {
    this.#writing = true;
    for (let batch = this.#nextBatch(); batch !== undefined && this.#failure === undefined; batch = this.#nextBatch()) {
      const bytes = batch.bytes.bytes();
      if (bytes.length > 0) {
        const started = performance.now();
        try {
          await writeDurably(this.#file, bytes);
        } catch (error) {
          this.#fail(error, batch);
          break;
        }
        this.#sizer.committed(batch.entryCount, batch.queuedAt, started, performance.now());
        this.#totals.batches += 1;
        this.#totals.entries += batch.entryCount;
        this.#totals.checkpoints += batch.checkpointCount;
        if (batch.head !== undefined) this.#durable = batch.head;
      }
      // Resolved even if the journal failed meanwhile (a checkpoint that could not be signed): this batch is durable.
      for (const waiter of batch.waiters) waiter.resolve(waiter.seq);
      if (batch.entries.length > 0) for (const queue of this.#queues) queue.push(batch.entries);
    }
    this.#writing = false;
  }

  /** Fails closed: rejects `inFlight` and everything queued, and refuses all later appends. */
  #fail(cause: unknown, inFlight: Batch | undefined): void {
    this.#failure ??= new CofferError('AUDIT_UNAVAILABLE', 'the audit journal could not be written', { cause });
    const batches = [...(inFlight === undefined ? [] : [inFlight]), ...this.#full, ...(this.#gathering === undefined ? [] : [this.#gathering])];
    this.#full = [];
    this.#gathering = undefined;
    for (const batch of batches) for (const waiter of batch.waiters) waiter.reject(this.#failure);
  }
}
