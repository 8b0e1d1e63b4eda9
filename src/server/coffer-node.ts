// One Coffer node assembled from its parts: the store, the security domain behind the barrier, the
// audit journal and the key engine. The HTTP layer drives this object; tests use it in-process.
//
// Life cycle: open → (UNINITIALIZED → initDomain) → SEALED → unseal → UNSEALED ⇄ seal → close.
// The engine and the journal exist only while the node is unsealed: the journal's checkpoints are
// signed with the domain's audit key, which the barrier derives from the domain key.
// The store is either the node's own SQLite file or one injected and shared with other nodes (a
// cluster); the data directory then holds only the journal and the lock.
import { createPublicKey, sign as signBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { CofferError } from '../core/errors.ts';
import { KeyEngine } from '../core/engine/index.ts';
import { systemClock, type AuditEvent, type AuditSink, type Clock } from '../core/ports.ts';
import {
  Barrier, initDomain, parseDomainDescriptor, type BarrierState, type DomainDescriptor, type DomainKeyTransferBinding, type HpkeCiphertext, type InitDomainRequest, type PlainShare,
  type UnsealProgress, type UnsealSessionInfo, type UnsealShareEnvelope,
} from '../barrier/index.ts';
import { openSqliteStore, type SqliteStore, type Store, type StoreWrite } from '../store/index.ts';
import { SealedKeyRepository } from '../store/key-repository/index.ts';
import { AuditJournal } from '../audit/index.ts';
import { DataDirLock } from './data-dir-lock.ts';

/** Where the domain descriptor lives in the store. It is public: encrypted shares and public keys. */
export const DOMAIN_DESCRIPTOR_KEY = 'sys/domain';

export interface CofferNodeOptions {
  /** Directory for the node-local files: the SQLite store (`coffer.db`) and the audit journal. */
  readonly dataDir: string;
  /** This node's id, written into every audit entry. */
  readonly nodeId: string;
  readonly clock?: Clock;
  /** Entries between signed audit checkpoints (default: the journal's). */
  readonly checkpointEvery?: number;
  /**
   * A store shared with other nodes (cluster mode). Without it the node opens `coffer.db` in dataDir.
   * An injected store belongs to whoever opened it: close() does not close it.
   */
  readonly store?: Store;
}

/** Told when the node becomes unsealed (engine ready) and when it is about to seal or close. */
export interface NodeLifecycleListener {
  /** `revision`: the store revision read before the engine existed (undefined if the store was down then). */
  unsealed?(engine: KeyEngine, revision: number | undefined): void | Promise<void>;
  sealing?(): void | Promise<void>;
}

export interface NodeStatus {
  readonly state: BarrierState;
  readonly nodeId: string;
  readonly domainId?: string;
  readonly threshold?: number;
  readonly custodians?: readonly { readonly id: string; readonly name: string }[];
}

/**
 * Work that must finish before the node serves (restore from a backup after losing every node): it
 * runs at the next unseal with the barrier open and the journal open, before the engine exists.
 * `principal` is who unsealed (e.g. `custodian:<id>`).
 */
export type UnsealStep = (context: { readonly audit: AuditSink; readonly principal: string }) => Promise<void>;

interface Unsealed {
  readonly engine: KeyEngine;
  readonly journal: AuditJournal;
}

/** `S`: the store's own type, so a node on its SQLite file still offers SqliteStore's extras (checkIntegrity). */
export class CofferNode<S extends Store = Store> {
  readonly nodeId: string;
  readonly store: S;
  readonly barrier: Barrier;
  readonly journalPath: string;
  /** True when the store was injected (shared): close() leaves it open. */
  readonly sharedStore: boolean;
  readonly #clock: Clock;
  readonly #lock: DataDirLock;
  readonly #checkpointEvery: number | undefined;
  #unsealed: Unsealed | undefined;
  /** The newest store revision this node has seen (at open, and at each unseal). */
  #knownRevision = 0;
  /** The journal is being opened or closed: its last lines may not be durable yet. */
  #journalBusy = false;
  readonly #listeners = new Set<NodeLifecycleListener>();
  readonly #journalListeners = new Set<() => void>();
  /** Runs at the next unseal (see UnsealStep); cleared once it succeeds. */
  #unsealStep: UnsealStep | undefined;
  /** Serialises state changes (init, unseal, seal, close). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: CofferNodeOptions, store: S, descriptor: DomainDescriptor | undefined, lock: DataDirLock) {
    this.#lock = lock;
    this.nodeId = options.nodeId;
    this.store = store;
    this.sharedStore = options.store !== undefined;
    this.#clock = options.clock ?? systemClock;
    this.#checkpointEvery = options.checkpointEvery;
    this.barrier = new Barrier(descriptor, { clock: this.#clock });
    this.journalPath = join(options.dataDir, 'audit.jsonl');
  }

  /**
   * Opens the store in `dataDir` (creating it), or takes the injected one, and reads the domain
   * descriptor; the node starts sealed (or uninitialised).
   */
  static open(options: CofferNodeOptions & { readonly store?: undefined }): Promise<CofferNode<SqliteStore>>;
  static open<T extends Store>(options: CofferNodeOptions & { readonly store: T }): Promise<CofferNode<T>>;
  static open(options: CofferNodeOptions): Promise<CofferNode>;
  static async open(options: CofferNodeOptions): Promise<CofferNode> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const lock = DataDirLock.acquire(options.dataDir);
    let store: Store;
    try {
      store = options.store ?? await openSqliteStore(join(options.dataDir, 'coffer.db'));
    } catch (error) {
      lock.release();
      throw error;
    }
    try {
      // Read before the descriptor: the follower may start from here and miss nothing read after.
      const revision = await store.revision();
      const node = new CofferNode(options, store, await readDescriptor(store), lock);
      node.#knownRevision = revision;
      return node;
    } catch (error) {
      if (options.store === undefined) await store.close();
      lock.release();
      throw error;
    }
  }

  /**
   * Cluster: another node may initialise the shared domain after this one opened. While this node
   * is uninitialised, re-reads the descriptor and adopts it (the node becomes SEALED).
   */
  refreshDomain(): Promise<BarrierState> {
    if (this.barrier.state !== 'UNINITIALIZED') return Promise.resolve(this.barrier.state);
    return this.#serial(async () => {
      if (this.barrier.state !== 'UNINITIALIZED') return this.barrier.state;
      const descriptor = await readDescriptor(this.store);
      if (descriptor !== undefined) this.barrier.initialize(descriptor);
      return this.barrier.state;
    });
  }

  /** The newest store revision this node has seen; a change follower starts after it. */
  get knownRevision(): number {
    return this.#knownRevision;
  }

  /** Registers a listener for unseal and seal; returns its removal. */
  addLifecycleListener(listener: NodeLifecycleListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called (without arguments) after each group of audit entries becomes durable. */
  onJournalDurable(listener: () => void): () => void {
    this.#journalListeners.add(listener);
    return () => this.#journalListeners.delete(listener);
  }

  /**
   * The highest audit seq known durable: the open journal's head; Infinity when no journal is open
   * (every complete line in the file is durable); -1 while a journal opens or closes.
   */
  /** The durable head of this unsealed period's audit chain (undefined while sealed). */
  auditHead(): { readonly seq: number; readonly hash: string } | undefined {
    return this.#unsealed?.journal.head();
  }

  journalDurableSeq(): number {
    if (this.#journalBusy) return -1;
    return this.#unsealed === undefined ? Number.POSITIVE_INFINITY : this.#unsealed.journal.head().seq;
  }

  /** UNSEALED only once the engine exists: while the barrier opens and an unseal step runs, SEALED. */
  get state(): BarrierState {
    const state = this.barrier.state;
    return state === 'UNSEALED' && this.#unsealed === undefined ? 'SEALED' : state;
  }

  status(): NodeStatus {
    const d = this.barrier.descriptor;
    if (d === undefined) return { state: this.state, nodeId: this.nodeId };
    return {
      state: this.state, nodeId: this.nodeId, domainId: d.domainId, threshold: d.threshold,
      custodians: d.custodians.map(({ id, name }) => ({ id, name })),
    };
  }

  /** The key engine; DOMAIN_SEALED (or DOMAIN_UNINITIALIZED) unless the node is unsealed. */
  get engine(): KeyEngine {
    return this.#requireUnsealed().engine;
  }

  /** The audit sink of the unsealed node, for layers above the engine (server, approvals). */
  get audit(): AuditSink {
    return this.#requireUnsealed().journal;
  }

  /** The public key that verifies this domain's audit checkpoints. */
  auditPublicKey(): Buffer {
    const d = this.barrier.descriptor;
    if (d === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
    return Buffer.from(d.auditPublicKey, 'base64url');
  }

  /**
   * Creates the security domain and stores its descriptor. The store write is conditional, so two
   * nodes racing to initialise the same store cannot both win. The node stays sealed. `alsoWrite`
   * is committed in the same transaction (the server records the first officer this way).
   */
  initDomain(request: InitDomainRequest, options: { readonly alsoWrite?: readonly StoreWrite[] } = {}): Promise<DomainDescriptor> {
    return this.#serial(async () => {
      if (this.barrier.state !== 'UNINITIALIZED') throw new CofferError('DOMAIN_ALREADY_INITIALIZED', 'the security domain is already initialised');
      const descriptor = await initDomain(request, { clock: this.#clock });
      try {
        await this.store.commit([
          { op: 'put', key: DOMAIN_DESCRIPTOR_KEY, value: Buffer.from(JSON.stringify(descriptor)), expectVersion: 0 },
          ...(options.alsoWrite ?? []),
        ]);
      } catch (error) {
        if (error instanceof CofferError && error.code === 'STORE_CONFLICT') {
          throw new CofferError('DOMAIN_ALREADY_INITIALIZED', 'the security domain is already initialised');
        }
        throw error;
      }
      this.barrier.initialize(descriptor);
      return descriptor;
    });
  }

  /**
   * Restore after losing every node: adopts an existing domain's descriptor (taken from a verified
   * backup's manifest) on an uninitialised node; the node is then SEALED and its custodians unseal
   * it as before. The write is conditional, as initDomain's.
   */
  adoptDomain(descriptor: DomainDescriptor): Promise<DomainDescriptor> {
    return this.#serial(async () => {
      if (this.barrier.state !== 'UNINITIALIZED') throw new CofferError('DOMAIN_ALREADY_INITIALIZED', 'the security domain is already initialised');
      const parsed = parseDomainDescriptor(descriptor);
      try {
        await this.store.commit([{ op: 'put', key: DOMAIN_DESCRIPTOR_KEY, value: Buffer.from(JSON.stringify(parsed)), expectVersion: 0 }]);
      } catch (error) {
        if (error instanceof CofferError && error.code === 'STORE_CONFLICT') throw new CofferError('DOMAIN_ALREADY_INITIALIZED', 'the security domain is already initialised');
        throw error;
      }
      this.barrier.initialize(parsed);
      return parsed;
    });
  }

  /**
   * Registers work for the next unseal (one step at a time). Until it succeeds the unseal does not
   * complete: if it throws, the journal is closed, the node seals again and the unseal call fails
   * with its error; the step stays registered for the next unseal.
   */
  runOnNextUnseal(step: UnsealStep): void {
    if (this.#unsealStep !== undefined) throw new CofferError('INVALID_ARGUMENT', 'an unseal step is already registered');
    if (this.barrier.state === 'UNSEALED') throw new CofferError('INVALID_ARGUMENT', 'the node is already unsealed');
    this.#unsealStep = step;
  }

  /** Whether a step still waits for the next unseal. */
  get unsealStepPending(): boolean {
    return this.#unsealStep !== undefined;
  }

  /** Starts (or returns) the unseal session whose public key custodians encrypt their shares to. */
  beginUnseal(): UnsealSessionInfo {
    return this.barrier.beginUnseal();
  }

  /** Development and tests: unseal from plaintext shares held in this process. */
  unsealWithShares(shares: readonly PlainShare[], principal = 'system'): Promise<UnsealProgress> {
    return this.#serial(async () => {
      const progress = await this.barrier.unsealWithShares(shares);
      await this.#afterUnseal(principal);
      return progress;
    });
  }

  /**
   * Cluster join: unseals with the domain key an admitting node encrypted to this node's ephemeral
   * key (src/cluster/join), checked against the descriptor as a share-based unseal is.
   */
  unsealWithTransferredKey(transfer: HpkeCiphertext, binding: DomainKeyTransferBinding, privateKey: Uint8Array, principal = 'cluster.join'): Promise<UnsealProgress> {
    return this.#serial(async () => {
      const progress = await this.barrier.unsealWithTransferredKey(transfer, binding, privateKey);
      await this.#afterUnseal(principal);
      return progress;
    });
  }

  /** One custodian's share, encrypted to the current unseal session (see Barrier.beginUnseal). */
  submitUnsealShare(envelope: UnsealShareEnvelope, principal = 'system'): Promise<UnsealProgress> {
    return this.#serial(async () => {
      const progress = await this.barrier.submitUnsealShare(envelope);
      if (progress.state === 'UNSEALED') await this.#afterUnseal(principal);
      return progress;
    });
  }

  /** Wipes the domain key and stops the engine; the journal is closed with a final checkpoint. */
  seal(principal = 'system', requestId = 'seal'): Promise<void> {
    return this.#serial(async () => {
      const unsealed = this.#unsealed;
      if (unsealed !== undefined) {
        await this.#tell((listener) => listener.sealing?.());
        await unsealed.journal.append(this.#event(principal, 'domain.seal', requestId));
        this.#journalBusy = true;
        this.#unsealed = undefined;
        try {
          await unsealed.journal.close();
        } finally {
          this.#journalBusy = false;
        }
      }
      this.barrier.seal();
    });
  }

  /** Seals (if unsealed) and closes the store (unless it was injected). */
  async close(): Promise<void> {
    if (this.barrier.state === 'UNSEALED') await this.seal('system', 'shutdown');
    await this.#serial(async () => {
      if (!this.sharedStore) await this.store.close();
      this.#lock.release();
    });
  }

  async #afterUnseal(principal: string): Promise<void> {
    const descriptor = this.barrier.descriptor;
    if (descriptor === undefined) throw new CofferError('INTERNAL_ERROR', 'unsealed without a descriptor');
    const barrier = this.barrier;
    this.#journalBusy = true;
    const journal = await AuditJournal.open({
      path: this.journalPath,
      nodeId: this.nodeId,
      clock: this.#clock,
      ...(this.#checkpointEvery === undefined ? {} : { checkpointEvery: this.#checkpointEvery }),
      // Not a copy of the entries: a wake-up for whoever ships the journal (the cluster's audit shipper).
      sinks: [{
        forward: () => {
          for (const listener of this.#journalListeners) listener();
          return Promise.resolve();
        },
      }],
      checkpointSigner: {
        // Reads the key at each checkpoint: after seal() it is gone and signing refuses.
        sign: (data) => signBytes(null, data, barrier.auditSigningKey()),
        publicKey: createPublicKey({ key: Buffer.from(descriptor.auditPublicKey, 'base64url'), format: 'der', type: 'spki' }),
      },
    }).catch((error: unknown) => {
      this.barrier.seal();
      throw error;
    }).finally(() => {
      this.#journalBusy = false;
    });
    const step = this.#unsealStep;
    if (step !== undefined) {
      try {
        await step({ audit: journal, principal });
      } catch (error) {
        // Nothing is served from a half-made node: close this period's journal and seal again.
        this.#journalBusy = true;
        try {
          await journal.close();
        } catch {
          // the step's error is the one to report
        } finally {
          this.#journalBusy = false;
          this.barrier.seal();
        }
        throw error;
      }
      this.#unsealStep = undefined;
    }
    // Read before the engine exists (and after the step's writes), so every change after anything
    // the engine caches is followed.
    const revision = await this.store.revision().catch(() => undefined);
    if (revision !== undefined) this.#knownRevision = Math.max(this.#knownRevision, revision);
    const engine = new KeyEngine({ repository: new SealedKeyRepository(this.store, barrier), audit: journal, clock: this.#clock });
    this.#unsealed = { engine, journal };
    await journal.append(this.#event(principal, 'domain.unseal', 'unseal'));
    await this.#tell((listener) => listener.unsealed?.(engine, revision));
  }

  /** Listeners' failures are theirs: a node's unseal or seal never fails because of one. */
  async #tell(call: (listener: NodeLifecycleListener) => void | Promise<void>): Promise<void> {
    for (const listener of this.#listeners) {
      try {
        await call(listener);
      } catch {
        // ignored by design (see above)
      }
    }
  }

  #event(principal: string, operation: string, requestId: string): AuditEvent {
    return { time: this.#clock.now().toISOString(), principal, operation, outcome: 'ALLOWED', requestId };
  }

  #requireUnsealed(): Unsealed {
    if (this.#unsealed !== undefined) return this.#unsealed;
    if (this.barrier.state === 'UNINITIALIZED') throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
    throw new CofferError('DOMAIN_SEALED', 'the node is sealed');
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step, step);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

async function readDescriptor(store: Store): Promise<DomainDescriptor | undefined> {
  const entry = await store.get(DOMAIN_DESCRIPTOR_KEY);
  if (entry === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(entry.value).toString('utf8'));
  } catch (error) {
    throw new CofferError('STORE_CORRUPT', 'the stored domain descriptor is not JSON', { cause: error });
  }
  return parseDomainDescriptor(json);
}
