// One Coffer node assembled from its parts: the store, the security domain behind the barrier, the
// audit journal and the key engine. The HTTP layer drives this object; tests use it in-process.
//
// Life cycle: open → (UNINITIALIZED → initDomain) → SEALED → unseal → UNSEALED ⇄ seal → close.
// The engine and the journal exist only while the node is unsealed: the journal's checkpoints are
// signed with the domain's audit key, which the barrier derives from the domain key.
import { createPublicKey, sign as signBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { CofferError } from '../core/errors.ts';
import { KeyEngine } from '../core/engine/index.ts';
import { systemClock, type AuditEvent, type AuditSink, type Clock } from '../core/ports.ts';
import {
  Barrier, initDomain, parseDomainDescriptor, type BarrierState, type DomainDescriptor, type InitDomainRequest, type PlainShare,
  type UnsealProgress, type UnsealSessionInfo, type UnsealShareEnvelope,
} from '../barrier/index.ts';
import { openSqliteStore, type SqliteStore, type StoreWrite } from '../store/index.ts';
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
}

export interface NodeStatus {
  readonly state: BarrierState;
  readonly nodeId: string;
  readonly domainId?: string;
  readonly threshold?: number;
  readonly custodians?: readonly { readonly id: string; readonly name: string }[];
}

interface Unsealed {
  readonly engine: KeyEngine;
  readonly journal: AuditJournal;
}

export class CofferNode {
  readonly nodeId: string;
  readonly store: SqliteStore;
  readonly barrier: Barrier;
  readonly journalPath: string;
  readonly #clock: Clock;
  readonly #lock: DataDirLock;
  readonly #checkpointEvery: number | undefined;
  #unsealed: Unsealed | undefined;
  /** Serialises state changes (init, unseal, seal, close). */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: CofferNodeOptions, store: SqliteStore, descriptor: DomainDescriptor | undefined, lock: DataDirLock) {
    this.#lock = lock;
    this.nodeId = options.nodeId;
    this.store = store;
    this.#clock = options.clock ?? systemClock;
    this.#checkpointEvery = options.checkpointEvery;
    this.barrier = new Barrier(descriptor, { clock: this.#clock });
    this.journalPath = join(options.dataDir, 'audit.jsonl');
  }

  /** Opens the store in `dataDir` (creating it) and reads the domain descriptor; the node starts sealed. */
  static async open(options: CofferNodeOptions): Promise<CofferNode> {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const lock = DataDirLock.acquire(options.dataDir);
    let store: SqliteStore;
    try {
      store = await openSqliteStore(join(options.dataDir, 'coffer.db'));
    } catch (error) {
      lock.release();
      throw error;
    }
    try {
      const entry = await store.get(DOMAIN_DESCRIPTOR_KEY);
      let descriptor: DomainDescriptor | undefined;
      if (entry !== undefined) {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(entry.value).toString('utf8'));
        } catch (error) {
          throw new CofferError('STORE_CORRUPT', 'the stored domain descriptor is not JSON', { cause: error });
        }
        descriptor = parseDomainDescriptor(json);
      }
      return new CofferNode(options, store, descriptor, lock);
    } catch (error) {
      await store.close();
      lock.release();
      throw error;
    }
  }

  get state(): BarrierState {
    return this.barrier.state;
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
        await unsealed.journal.append(this.#event(principal, 'domain.seal', requestId));
        this.#unsealed = undefined;
        await unsealed.journal.close();
      }
      this.barrier.seal();
    });
  }

  /** Seals (if unsealed) and closes the store. */
  async close(): Promise<void> {
    if (this.barrier.state === 'UNSEALED') await this.seal('system', 'shutdown');
    await this.#serial(async () => {
      await this.store.close();
      this.#lock.release();
    });
  }

  async #afterUnseal(principal: string): Promise<void> {
    const descriptor = this.barrier.descriptor;
    if (descriptor === undefined) throw new CofferError('INTERNAL_ERROR', 'unsealed without a descriptor');
    const barrier = this.barrier;
    const journal = await AuditJournal.open({
      path: this.journalPath,
      nodeId: this.nodeId,
      clock: this.#clock,
      ...(this.#checkpointEvery === undefined ? {} : { checkpointEvery: this.#checkpointEvery }),
      checkpointSigner: {
        // Reads the key at each checkpoint: after seal() it is gone and signing refuses.
        sign: (data) => signBytes(null, data, barrier.auditSigningKey()),
        publicKey: createPublicKey({ key: Buffer.from(descriptor.auditPublicKey, 'base64url'), format: 'der', type: 'spki' }),
      },
    }).catch((error: unknown) => {
      this.barrier.seal();
      throw error;
    });
    const engine = new KeyEngine({ repository: new SealedKeyRepository(this.store, barrier), audit: journal, clock: this.#clock });
    this.#unsealed = { engine, journal };
    await journal.append(this.#event(principal, 'domain.unseal', 'unseal'));
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
