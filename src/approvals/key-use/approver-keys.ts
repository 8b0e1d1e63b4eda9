// Approvers' registered public keys (kind 'approver-keys', `key-use/approver/<principal>`),
// barrier-encrypted: a signing key (Ed25519 or ECDSA P-256 SPKI) that approval statements verify
// with, and optionally a raw X25519 key that shares of sealed keys are encrypted to.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import type { Barrier } from '../../barrier/index.ts';
import { encodeBase64url } from '../../barrier/base64url.ts';
import { parseX25519PublicKey } from '../../barrier/hpke-share-box.ts';
import { CofferError } from '../../core/errors.ts';
import type { Store } from '../../store/index.ts';
import { isOfficerName } from '../quorum/officer-names.ts';
import { approvalKeyAlgorithm, parseApprovalPublicKey } from '../quorum/quorum-statement.ts';
import { SealedJsonStore } from '../quorum/sealed-json-store.ts';
import type { ApproverKeysInfo } from './key-use-types.ts';

const KIND = 'approver-keys';
const PREFIX = 'key-use/approver/';

export interface ApproverKeys {
  readonly info: ApproverKeysInfo;
  readonly signingKey: KeyObject;
  /** Raw X25519 public key (32 bytes), when registered. */
  readonly shareKey?: Buffer;
}

interface StoredApproverKeys {
  readonly principal: string;
  readonly spki: string;
  readonly shareKey?: string;
  readonly registeredAt: string;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const pathOf = (principal: string): string => `${PREFIX}${principal}`;

function corrupt(): CofferError {
  return new CofferError('STORE_CORRUPT', 'stored approver keys are malformed');
}

/** Parses what an approver registers: SPKI (PEM text or DER bytes; private keys refused) and an optional raw X25519 key. */
export function parseApproverKeys(signingKey: string | Uint8Array, shareKey: unknown): { spki: Buffer; shareKey?: Buffer } {
  const { spki } = parseApprovalPublicKey(signingKey);
  return { spki, ...(shareKey === undefined ? {} : { shareKey: parseX25519PublicKey(shareKey, 'shareKey') }) };
}

export class ApproverKeyRegistry {
  readonly #records: SealedJsonStore;

  constructor(store: Store, barrier: Barrier) {
    this.#records = new SealedJsonStore(store, barrier, KIND);
  }

  async get(principal: string): Promise<ApproverKeys | undefined> {
    if (!isOfficerName(principal)) return undefined;
    const sealed = await this.#records.get(pathOf(principal));
    if (sealed === undefined) return undefined;
    const record = sealed.value as Partial<StoredApproverKeys> | null;
    if (typeof record !== 'object' || record === null || typeof record.spki !== 'string' || typeof record.registeredAt !== 'string') throw corrupt();
    if (record.shareKey !== undefined && typeof record.shareKey !== 'string') throw corrupt();
    // The path is authenticated by the barrier; the name inside must agree with it.
    if (record.principal !== principal) throw new CofferError('BARRIER_INTEGRITY_FAILED', 'a stored record failed authentication');
    const spki = Buffer.from(record.spki, 'base64url');
    const signingKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const algorithm = approvalKeyAlgorithm(signingKey);
    if (algorithm === undefined) throw corrupt();
    const shareKey = record.shareKey === undefined ? undefined : Buffer.from(record.shareKey, 'base64url');
    const info: ApproverKeysInfo = {
      principal, signingAlgorithm: algorithm, signingFingerprint: sha256Hex(spki), registeredAt: record.registeredAt,
      ...(record.shareKey === undefined ? {} : { shareKey: record.shareKey }),
    };
    return { info, signingKey, ...(shareKey === undefined ? {} : { shareKey }) };
  }

  /** Registers or replaces the principal's keys (compare-and-set: a racing replacement conflicts). */
  async put(principal: string, keys: { spki: Uint8Array; shareKey?: Uint8Array }, registeredAt: string): Promise<void> {
    const record: StoredApproverKeys = {
      principal, spki: encodeBase64url(keys.spki), registeredAt,
      ...(keys.shareKey === undefined ? {} : { shareKey: encodeBase64url(keys.shareKey) }),
    };
    await this.#records.replace(pathOf(principal), record);
  }
}
