// The module engine: key management and cryptographic operations over a handed-in repository and
// audit sink. It performs no I/O of its own.
import { systemClock, type AuditSink, type Clock, type KeyRepository } from '../ports.ts';
import { CryptoOperations } from './crypto-operations.ts';
import { EngineContext } from './engine-context.ts';
import { KeyManager } from './key-manager.ts';

export interface KeyEngineOptions {
  readonly repository: KeyRepository;
  readonly audit: AuditSink;
  readonly clock?: Clock;
}

export class KeyEngine {
  readonly keys: KeyManager;
  readonly crypto: CryptoOperations;
  readonly #ctx: EngineContext;

  constructor(options: KeyEngineOptions) {
    this.#ctx = new EngineContext(options.repository, options.audit, options.clock ?? systemClock);
    this.keys = new KeyManager(this.#ctx);
    this.crypto = new CryptoOperations(this.#ctx);
  }

  /** Drops cached state for a key changed elsewhere (the cluster change feed calls this). */
  invalidate(keyId: string): void {
    this.#ctx.invalidate(keyId);
  }
}
