// What the PKI keeps in the store, barrier-sealed like every other record (a swapped CA certificate
// or an edited revocation is BARRIER_INTEGRITY_FAILED): CAs and their name index, certificates
// they issued, revocations, the current CRL, and certificates attached to keys.
import { SealedJsonStore, type SealedJson } from '../approvals/quorum/sealed-json-store.ts';
import type { Barrier } from '../barrier/index.ts';
import { CofferError } from '../core/errors.ts';
import type { Store, StoreWrite } from '../store/index.ts';
import type { CaProfile } from './ca/ca-profile.ts';

const KIND = 'pki';

export const paths = {
  ca: (caId: string) => `pki/ca/${caId}`,
  caPrefix: 'pki/ca/',
  caName: (project: string, name: string) => `pki/ca-name/${project}/${name}`,
  issued: (caId: string, serial: string) => `pki/issued/${caId}/${serial}`,
  issuedPrefix: (caId: string) => `pki/issued/${caId}/`,
  revoked: (caId: string, serial: string) => `pki/revoked/${caId}/${serial}`,
  revokedPrefix: (caId: string) => `pki/revoked/${caId}/`,
  crl: (caId: string) => `pki/crl/${caId}`,
  keyCertificate: (keyId: string, certificateId: string) => `pki/key-cert/${keyId}/${certificateId}`,
  keyCertificatePrefix: (keyId: string) => `pki/key-cert/${keyId}/`,
} as const;

export interface CaRecord {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly keyId: string;
  readonly keyVersion: number;
  readonly subject: string;
  /** base64 DER of the CA's own certificate, then of each issuer up to the root. */
  readonly chain: readonly string[];
  readonly serialNumber: string;
  readonly keyIdentifier: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly pathLength?: number;
  readonly parentId?: string;
  readonly profile: CaProfile;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface IssuedRecord {
  readonly caId: string;
  readonly serialNumber: string;
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint: string;
  readonly extendedKeyUsage: readonly string[];
  readonly certificate: string;
  readonly issuedAt: string;
  readonly issuedBy: string;
  /** Set when the issued certificate is itself a CA's (an intermediate). */
  readonly childCaId?: string;
}

export interface RevokedRecord {
  readonly serialNumber: string;
  readonly revokedAt: string;
  readonly reason: string;
  readonly revokedBy: string;
}

export interface CrlRecord {
  readonly crlNumber: number;
  readonly thisUpdate: string;
  readonly nextUpdate: string;
  readonly revokedCount: number;
  readonly crl: string;
}

export interface KeyCertificateRecord {
  readonly id: string;
  readonly keyId: string;
  readonly keyVersion: number;
  /** base64 DER, leaf first. */
  readonly chain: readonly string[];
  readonly fingerprint: string;
  readonly attachedAt: string;
  readonly attachedBy: string;
}

export interface Loaded<T> {
  readonly value: T;
  readonly version: number;
}

function typed<T>(record: SealedJson | undefined): Loaded<T> | undefined {
  if (record === undefined) return undefined;
  if (typeof record.value !== 'object' || record.value === null) throw new CofferError('STORE_CORRUPT', `the PKI record ${record.path} is malformed`);
  return { value: record.value as T, version: record.version };
}

/** Typed access to the PKI's sealed records. Every read is authenticated by the barrier. */
export class PkiRecords {
  readonly #sealed: SealedJsonStore;
  readonly #store: Store;

  constructor(store: Store, barrier: Barrier) {
    this.#store = store;
    this.#sealed = new SealedJsonStore(store, barrier, KIND);
  }

  async get<T>(path: string): Promise<Loaded<T> | undefined> {
    return typed<T>(await this.#sealed.get(path));
  }

  async list<T>(prefix: string): Promise<Loaded<T>[]> {
    return (await this.#sealed.list(prefix)).map((record) => typed<T>(record) as Loaded<T>);
  }

  /** A compare-and-set write (currentVersion 0: the record must not exist yet). */
  write(path: string, value: unknown, currentVersion: number): StoreWrite {
    return this.#sealed.write(path, value, currentVersion);
  }

  remove(path: string, currentVersion: number): StoreWrite {
    return this.#sealed.remove(path, currentVersion);
  }

  /** Commits the writes at once (STORE_CONFLICT if any record moved) and records their new versions. */
  async commit(writes: readonly { readonly write: StoreWrite; readonly path: string; readonly currentVersion: number }[]): Promise<void> {
    await this.#store.commit(writes.map((item) => item.write));
    for (const item of writes) if (item.write.op === 'put') this.#sealed.noteCommitted(item.path, item.currentVersion);
  }

  /** One write, with its bookkeeping, for commit(). */
  put(path: string, value: unknown, currentVersion: number): { write: StoreWrite; path: string; currentVersion: number } {
    return { write: this.write(path, value, currentVersion), path, currentVersion };
  }

  delete(path: string, currentVersion: number): { write: StoreWrite; path: string; currentVersion: number } {
    return { write: this.remove(path, currentVersion), path, currentVersion };
  }
}
