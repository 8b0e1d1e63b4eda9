// Key-use request records (kind 'key-use-request', `key-use/request/<uuid>`), barrier-encrypted and
// changed only by compare-and-set: the binding and its digest, the stored input the use needs, the
// approvals (signatures and released shares) and rejections, the status, and the result or error.
import type { Barrier } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import { SealedJsonStore, type SealedJson } from '../quorum/sealed-json-store.ts';
import { keyUseRequestDigest } from './key-use-binding.ts';
import type { KeyUseBinding, KeyUseRequestView, KeyUseStatus, ReleasedShare } from './key-use-types.ts';

export { keyUseRequestDigest } from './key-use-binding.ts';

const KIND = 'key-use-request';
const PREFIX = 'key-use/request/';
const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Messages above this are signed by digest: a request record holds its input until it runs. */
export const MAX_STORED_MESSAGE_BYTES = 1024 * 1024;

type Ref = string | { readonly project: string; readonly name: string };

/** The bytes and names the use needs when it runs; byte fields base64url. Inside the encrypted record only. */
export type StoredInput =
  | { readonly use: 'sign'; readonly keyId: string; readonly algorithm: string; readonly message?: string; readonly digest?: string; readonly format?: 'DER' | 'RAW' }
  | { readonly use: 'decrypt'; readonly ciphertext: string; readonly context?: Readonly<Record<string, string>> }
  | { readonly use: 'export'; readonly keyId: string; readonly wrappingKeyId: string; readonly algorithm: string }
  | { readonly use: 'unwrap'; readonly wrappingKeyId: string; readonly wrappingAlgorithm: string; readonly wrappedMaterial: string; readonly newKey: Readonly<Record<string, unknown>> }
  | { readonly use: 'rotate'; readonly keyId: string }
  | { readonly use: 'change-approvers'; readonly keyId: string; readonly approval: unknown };

export interface StoredApproval {
  readonly approver: string;
  /** base64url signature over the approve statement. */
  readonly signature: string;
  readonly approvedAt: string;
  /** Sealed keys: the share HPKE-encrypted to the request's ephemeral key; dropped once the use ran. */
  readonly share?: ReleasedShare;
}

export interface StoredRejection {
  readonly approver: string;
  readonly signature: string;
  readonly rejectedAt: string;
  readonly reason?: string;
}

/** The stored status; 'expired' is never stored, it is computed from expiresAt on the clock. */
export type StoredStatus = Exclude<KeyUseStatus, 'expired'>;

/** A stored result: the KeyUseResult with bytes as base64url. */
export type StoredResult = Readonly<Record<string, string | number>> & { readonly use: string };

export interface KeyUseRecord {
  readonly binding: KeyUseBinding;
  readonly digest: string;
  readonly project: string;
  readonly sealed: boolean;
  readonly rejectionEnds: boolean;
  readonly input: StoredInput;
  readonly approvals: readonly StoredApproval[];
  readonly rejections: readonly StoredRejection[];
  readonly status: StoredStatus;
  readonly completedAt?: string;
  readonly result?: StoredResult;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface StoredKeyUse {
  readonly record: KeyUseRecord;
  readonly version: number;
}

export function isRequestId(value: unknown): value is string {
  return typeof value === 'string' && REQUEST_ID.test(value);
}

export function isExpired(record: KeyUseRecord, clock: Clock): boolean {
  return clock.now().getTime() >= Date.parse(record.binding.expiresAt);
}

/** Pending past its expiry shows as expired; every other status stands. */
export function statusOf(record: KeyUseRecord, clock: Clock): KeyUseStatus {
  return record.status === 'pending' && isExpired(record, clock) ? 'expired' : record.status;
}

export function viewOf(record: KeyUseRecord, clock: Clock): KeyUseRequestView {
  return {
    ...record.binding,
    approvers: [...record.binding.approvers],
    metadata: { ...record.binding.metadata },
    digest: record.digest,
    project: record.project,
    sealed: record.sealed,
    rejectionEnds: record.rejectionEnds,
    status: statusOf(record, clock),
    approvals: record.approvals.map(({ approver, approvedAt }) => ({ approver, approvedAt })),
    rejections: record.rejections.map(({ approver, rejectedAt, reason }) => ({ approver, rejectedAt, ...(reason === undefined ? {} : { reason }) })),
    ...(record.completedAt === undefined ? {} : { completedAt: record.completedAt }),
    ...(record.error === undefined ? {} : { error: { ...record.error } }),
  };
}

export function refOf(ref: Ref): Ref {
  return typeof ref === 'string' ? ref : { project: ref.project, name: ref.name };
}

function corrupt(): CofferError {
  return new CofferError('STORE_CORRUPT', 'a stored key-use request is malformed');
}

function checkRecord(value: unknown): KeyUseRecord {
  if (typeof value !== 'object' || value === null) throw corrupt();
  const r = value as Partial<KeyUseRecord>;
  const b = r.binding;
  if (typeof b !== 'object' || !isRequestId(b.requestId) || typeof b.keyId !== 'string' || typeof b.keyVersion !== 'number' || !Array.isArray(b.approvers)) throw corrupt();
  if (typeof r.digest !== 'string' || typeof r.input !== 'object' || !Array.isArray(r.approvals) || !Array.isArray(r.rejections) || typeof r.status !== 'string') throw corrupt();
  return value as KeyUseRecord;
}

export class KeyUseRequestRepository {
  readonly #records: SealedJsonStore;
  readonly #store: Store;

  constructor(store: Store, barrier: Barrier) {
    this.#records = new SealedJsonStore(store, barrier, KIND);
    this.#store = store;
  }

  #decode(sealed: SealedJson): StoredKeyUse {
    const record = checkRecord(sealed.value);
    // The path is authenticated by the barrier; the id inside must agree, and the digest must still be the binding's.
    if (sealed.path !== `${PREFIX}${record.binding.requestId}` || keyUseRequestDigest(record.binding) !== record.digest) {
      throw new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
    }
    return { record, version: sealed.version };
  }

  async get(requestId: string): Promise<StoredKeyUse | undefined> {
    if (!isRequestId(requestId)) return undefined;
    const sealed = await this.#records.get(`${PREFIX}${requestId}`);
    return sealed === undefined ? undefined : this.#decode(sealed);
  }

  async list(): Promise<StoredKeyUse[]> {
    return (await this.#records.list(PREFIX)).map((sealed) => this.#decode(sealed));
  }

  /** Compare-and-set of one request (0: a new one); STORE_CONFLICT if it changed since `currentVersion`. */
  put(record: KeyUseRecord, currentVersion: number): Promise<number> {
    return this.#records.put(`${PREFIX}${record.binding.requestId}`, record, currentVersion);
  }

  /** Deletes the request if it is still at `currentVersion` (pruning); STORE_CONFLICT otherwise. */
  async remove(requestId: string, currentVersion: number): Promise<void> {
    await this.#store.commit([this.#records.remove(`${PREFIX}${requestId}`, currentVersion)]);
  }
}
