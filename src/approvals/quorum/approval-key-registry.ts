// Officers' approval public keys, barrier-encrypted in the store and keyed by officer name.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import type { Barrier } from '../../barrier/index.ts';
import type { Store } from '../../store/index.ts';
import { isOfficerName } from './officer-names.ts';
import { approvalKeyAlgorithm, type ApprovalKeyAlgorithm } from './quorum-statement.ts';
import { SealedJsonStore } from './sealed-json-store.ts';

const KIND = 'approval-key';
const PREFIX = 'quorum/approval-key/';

export interface ApprovalKeyInfo {
  readonly officer: string;
  readonly algorithm: ApprovalKeyAlgorithm;
  /** Lowercase hex SHA-256 of the SPKI DER: what an officer compares with their own key. */
  readonly fingerprint: string;
  readonly registeredAt: string;
}

export interface ApprovalKey extends ApprovalKeyInfo {
  readonly publicKey: KeyObject;
}

interface StoredApprovalKey {
  readonly officer: string;
  readonly spki: string;
  readonly registeredAt: string;
}

const pathOf = (officer: string): string => `${PREFIX}${officer}`;

function integrityFailed(): CofferError {
  return new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
}

export function spkiFingerprint(spki: Uint8Array): string {
  return createHash('sha256').update(spki).digest('hex');
}

export class ApprovalKeyRegistry {
  readonly #records: SealedJsonStore;

  constructor(store: Store, barrier: Barrier) {
    this.#records = new SealedJsonStore(store, barrier, KIND);
  }

  /** The officer's registered key, or undefined when none is. */
  async get(officer: string): Promise<ApprovalKey | undefined> {
    if (!isOfficerName(officer)) return undefined;
    const sealed = await this.#records.get(pathOf(officer));
    if (sealed === undefined) return undefined;
    const record = sealed.value as Partial<StoredApprovalKey> | null;
    if (typeof record !== 'object' || record === null || typeof record.spki !== 'string' || typeof record.registeredAt !== 'string') {
      throw new CofferError('STORE_CORRUPT', 'a stored approval key is malformed');
    }
    // The path is authenticated by the barrier; the name inside must agree with it.
    if (record.officer !== officer) throw integrityFailed();
    const spki = Buffer.from(record.spki, 'base64url');
    const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const algorithm = approvalKeyAlgorithm(publicKey);
    if (algorithm === undefined) throw new CofferError('STORE_CORRUPT', 'a stored approval key is malformed');
    return { officer, algorithm, fingerprint: spkiFingerprint(spki), registeredAt: record.registeredAt, publicKey };
  }

  /** Registers or replaces the officer's key (compare-and-set, so a racing replacement conflicts). */
  async put(officer: string, spki: Uint8Array, registeredAt: string): Promise<void> {
    const record: StoredApprovalKey = { officer, spki: Buffer.from(spki).toString('base64url'), registeredAt };
    await this.#records.replace(pathOf(officer), record);
  }
}
