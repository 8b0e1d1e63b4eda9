// The engine's seams: what it is handed (a key repository, an audit sink, a clock), never imports.

import type { KeyRecord, StoredKey } from './key-record.ts';

/** Persistence for key records. Implementations encrypt through the barrier (see src/store). */
export interface KeyRepository {
  get(id: string): Promise<StoredKey | undefined>;
  getByName(project: string, name: string): Promise<StoredKey | undefined>;
  /** Creates the record and its name index atomically; KEY_ALREADY_EXISTS if the name is taken. */
  create(record: KeyRecord): Promise<StoredKey>;
  /** Replaces the record if its revision is still `expectedRevision`; STORE_CONFLICT otherwise. */
  update(record: KeyRecord, expectedRevision: number): Promise<StoredKey>;
  /** Keys of one project, ordered by name, after `after` (a name), at most `limit`. */
  list(project: string, options?: { after?: string; limit?: number }): Promise<StoredKey[]>;
  /** Every key in id order, after `after` (an id), at most `limit`: for sweeps such as deletion. */
  scan(options?: { after?: string; limit?: number }): Promise<StoredKey[]>;
}

export type AuditOutcome = 'ALLOWED' | 'DENIED' | 'FAILED';

/** What the engine reports for every operation. Never holds key material or plaintext. */
export interface AuditEvent {
  readonly time: string;
  readonly principal: string;
  readonly operation: string;
  readonly outcome: AuditOutcome;
  readonly requestId: string;
  readonly project?: string;
  readonly keyId?: string;
  readonly keyVersion?: number;
  /** Hex SHA-256 of the operation's main input (message, ciphertext, digest), where relevant. */
  readonly inputDigest?: string;
  readonly errorCode?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** Durable audit: `append` resolves only once the event is on stable storage. */
export interface AuditSink {
  append(event: AuditEvent): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
