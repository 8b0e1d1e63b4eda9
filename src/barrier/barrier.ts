// The barrier: holds the domain key while unsealed and encrypts every record above the store.
import type { KeyObject } from 'node:crypto';
import { XaesKey } from '../core/crypto/xaes-256-gcm.ts';
import { CofferError } from '../core/errors.ts';
import { systemClock, type Clock } from '../core/ports.ts';
import { DOMAIN_KEY_BYTES, parseDomainDescriptor, parseUnsealShareEnvelope, shareLength, type CustodianEntry, type DomainDescriptor, type HpkeCiphertext, type UnsealShareEnvelope } from './domain-descriptor.ts';
import { deriveAuditSigningKey, deriveBackupKey, deriveRecordKey, keyCheckMatches, shareDigestMatches, spkiBase64url } from './domain-key-derivations.ts';
import { hpkeOpen, hpkeSeal, parseX25519PublicKey, unsealInfo } from './hpke-share-box.ts';
import { lengthPrefixed } from './length-prefixed.ts';
import { checkRecordAddress, openRecord, sealRecord } from './record-cipher.ts';
import { combineDomainKey } from './shamir-shares.ts';
import { UnsealSession } from './unseal-session.ts';
import { DEFAULT_VERSION_MEMORY_ENTRIES, VersionMemory } from './version-memory.ts';

export type BarrierState = 'UNINITIALIZED' | 'SEALED' | 'UNSEALED';

export interface BarrierOptions {
  readonly clock?: Clock;
  /** How many records rollback detection remembers (least recently used evicted first). */
  readonly versionMemoryEntries?: number;
}

export interface UnsealSessionInfo {
  readonly sessionId: string;
  /** Raw X25519 public key of the session, base64url: custodians encrypt their shares to it. */
  readonly nodePublicKey: string;
  readonly expiresAt: string;
  readonly threshold: number;
  readonly received: number;
}

export interface UnsealProgress {
  readonly state: BarrierState;
  readonly received: number;
  readonly threshold: number;
}

export interface PlainShare {
  readonly custodianId: string;
  readonly share: Uint8Array;
}

/** What a domain-key transfer to a joining node is bound to (RFC 9180 §5.1 info). */
export interface DomainKeyTransferBinding {
  readonly requestId: string;
  readonly nodeName: string;
  /** The joiner's ephemeral raw X25519 public key, base64url. */
  readonly joinPublicKey: string;
}

export const JOIN_INFO_LABEL = 'coffer/join/v1';

/** info = label ‖ domainId ‖ requestId ‖ nodeName ‖ joiner key: the box opens for this one join only. */
export function domainKeyTransferInfo(domainId: string, binding: DomainKeyTransferBinding): Buffer {
  return lengthPrefixed(JOIN_INFO_LABEL, domainId, binding.requestId, binding.nodeName, binding.joinPublicKey);
}

/** Keys that exist only while unsealed. */
interface UnsealedKeys {
  readonly domainKey: Uint8Array;
  readonly recordKey: XaesKey;
  readonly auditKey: KeyObject;
}

function integrityFailed(): CofferError {
  return new CofferError('BARRIER_INTEGRITY_FAILED', 'record integrity check failed');
}

export class Barrier {
  #descriptor: DomainDescriptor | undefined;
  #session: UnsealSession | undefined;
  #keys: UnsealedKeys | undefined;
  readonly #clock: Clock;
  readonly #versions: VersionMemory;
  /** Counts seal() calls, so an unseal that was awaiting while the node was sealed is abandoned. */
  #seals = 0;
  /** Unseal steps run one at a time, so concurrent submissions cannot interleave around an await. */
  #queue: Promise<unknown> = Promise.resolve();

  /** A descriptor read from storage is re-checked here (malformed → INVALID_ARGUMENT). */
  constructor(descriptor: DomainDescriptor | undefined, options: BarrierOptions = {}) {
    this.#descriptor = descriptor === undefined ? undefined : parseDomainDescriptor(descriptor);
    this.#clock = options.clock ?? systemClock;
    this.#versions = new VersionMemory(options.versionMemoryEntries ?? DEFAULT_VERSION_MEMORY_ENTRIES);
  }

  get state(): BarrierState {
    if (this.#descriptor === undefined) return 'UNINITIALIZED';
    return this.#keys === undefined ? 'SEALED' : 'UNSEALED';
  }

  get descriptor(): DomainDescriptor | undefined {
    return this.#descriptor;
  }

  /** Adopts a freshly created domain: UNINITIALIZED → SEALED, else DOMAIN_ALREADY_INITIALIZED. */
  initialize(descriptor: DomainDescriptor): void {
    if (this.#descriptor !== undefined) throw new CofferError('DOMAIN_ALREADY_INITIALIZED', 'the security domain is already initialised');
    this.#descriptor = parseDomainDescriptor(descriptor);
  }

  /** Starts an unseal session, or returns the current one while it has not expired. */
  beginUnseal(): UnsealSessionInfo {
    const descriptor = this.#requireSealed();
    const session = this.#currentSession() ?? (this.#session = new UnsealSession(this.#clock.now()));
    return {
      sessionId: session.id,
      nodePublicKey: session.publicKey,
      expiresAt: session.expiresAt.toISOString(),
      threshold: descriptor.threshold,
      received: session.received,
    };
  }

  /**
   * Accepts one custodian's envelope. Any rejection leaves progress as it was, except that a
   * complete set of shares which does not rebuild the domain key resets it (UNSEAL_SHARE_INVALID).
   */
  submitUnsealShare(envelope: UnsealShareEnvelope): Promise<UnsealProgress> {
    return this.#serial(async () => {
      const descriptor = this.#requireSealed();
      const parsed = parseUnsealShareEnvelope(envelope);
      const session = this.#currentSession();
      if (session?.id !== parsed.sessionId) throw new CofferError('UNSEAL_SESSION_INVALID', 'the unseal session is unknown or has expired');
      const custodian = this.#custodian(descriptor, parsed.domainId, parsed.custodianId);
      if (session.has(custodian.id)) throw new CofferError('UNSEAL_SHARE_DUPLICATE', "this custodian's share was already submitted");
      const share = await hpkeOpen(session.privateKey, unsealInfo(descriptor.domainId, custodian.id, session.id), parsed);
      if (share === undefined || this.#session !== session) {
        share?.fill(0);
        throw new CofferError('UNSEAL_SESSION_INVALID', 'the share was not encrypted to this unseal session');
      }
      try {
        this.#checkShare(descriptor, custodian, share);
      } catch (error) {
        share.fill(0);
        throw error;
      }
      session.add(custodian.id, share);
      if (session.received < descriptor.threshold) return { state: this.state, received: session.received, threshold: descriptor.threshold };
      try {
        await this.#unsealFrom(descriptor, session.shares(), () => this.#session === session);
      } catch (error) {
        session.resetProgress();
        throw error;
      }
      this.#dropSession();
      return { state: this.state, received: descriptor.threshold, threshold: descriptor.threshold };
    });
  }

  /**
   * Unseals in one step from plaintext shares held in-process (development mode, tests). Needs at
   * least the threshold; each share is checked as in submitUnsealShare. Does not touch the session
   * progress. The caller owns the share buffers and wipes them.
   */
  unsealWithShares(shares: readonly PlainShare[]): Promise<UnsealProgress> {
    return this.#serial(async () => {
      const descriptor = this.#requireSealed();
      // Checked at run time too: callers outside TypeScript may pass anything.
      const list: unknown = shares;
      if (!Array.isArray(list) || shares.length < descriptor.threshold || shares.length > descriptor.custodians.length) {
        throw new CofferError('INVALID_ARGUMENT', 'shares must hold from threshold to N shares');
      }
      const seen = new Set<string>();
      for (const entry of shares) {
        const unchecked: unknown = entry;
        if (typeof unchecked !== 'object' || unchecked === null || !(entry.share instanceof Uint8Array)) {
          throw new CofferError('INVALID_ARGUMENT', 'each share must be { custodianId, share: bytes }');
        }
        const { custodianId, share } = entry;
        const custodian = this.#custodian(descriptor, descriptor.domainId, custodianId);
        if (seen.has(custodian.id)) throw new CofferError('UNSEAL_SHARE_DUPLICATE', "this custodian's share was given twice");
        seen.add(custodian.id);
        this.#checkShare(descriptor, custodian, share);
      }
      const seals = this.#seals;
      await this.#unsealFrom(descriptor, shares.map((s) => s.share), () => this.#seals === seals);
      this.#dropSession();
      return { state: this.state, received: shares.length, threshold: descriptor.threshold };
    });
  }

  /**
   * Cluster join: the domain key HPKE-encrypted to a joining node's ephemeral key, the info binding
   * domain, request, node name and that key. The only way the domain key leaves this object; the
   * caller must have verified the joiner's attestation first (src/cluster/join).
   */
  sealDomainKeyTo(binding: DomainKeyTransferBinding): Promise<HpkeCiphertext> {
    const keys = this.#requireUnsealed();
    const descriptor = this.#descriptor;
    if (descriptor === undefined) throw new CofferError('INTERNAL_ERROR', 'unsealed without a descriptor');
    const recipient = parseX25519PublicKey(binding.joinPublicKey, 'joinPublicKey');
    return hpkeSeal(recipient, domainKeyTransferInfo(descriptor.domainId, binding), keys.domainKey);
  }

  /**
   * The joiner's side: opens a transferred domain key with its ephemeral private key (raw 32 bytes)
   * and unseals, confirming the key against keyCheck and auditPublicKey as a share-based unseal does.
   * A box that does not open, or a key that does not match → UNSEAL_SHARE_INVALID.
   */
  unsealWithTransferredKey(box: HpkeCiphertext, binding: DomainKeyTransferBinding, privateKey: Uint8Array): Promise<UnsealProgress> {
    return this.#serial(async () => {
      const descriptor = this.#requireSealed();
      const domainKey = await hpkeOpen(privateKey, domainKeyTransferInfo(descriptor.domainId, binding), box);
      if (domainKey?.length !== DOMAIN_KEY_BYTES) {
        domainKey?.fill(0);
        throw new CofferError('UNSEAL_SHARE_INVALID', 'the transferred domain key could not be opened');
      }
      const seals = this.#seals;
      this.#adopt(descriptor, domainKey, () => this.#seals === seals);
      this.#dropSession();
      return { state: this.state, received: descriptor.threshold, threshold: descriptor.threshold };
    });
  }

  /**
   * Wipes the domain key and everything derived from it, abandons any unseal in progress and
   * forgets remembered versions (deletions seen while sealed could not be reported). Sealing a
   * sealed node is a harmless no-op, so an operator can always seal.
   */
  seal(): void {
    if (this.#descriptor === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
    this.#seals++;
    this.#keys?.domainKey.fill(0);
    // XaesKey and KeyObject hold their key inside OpenSSL, out of reach; dropping them is all JS can do.
    this.#keys = undefined;
    this.#dropSession();
    this.#versions.clear();
  }

  /** format byte ‖ XAES-256-GCM(nonce ‖ ciphertext ‖ tag), bound to kind, id and version. */
  encryptRecord(kind: string, id: string, version: number, plaintext: Uint8Array): Uint8Array {
    const keys = this.#requireUnsealed();
    return sealRecord(keys.recordKey, checkRecordAddress(kind, id, version), plaintext);
  }

  /** Any failure, including a version older than one already read, → BARRIER_INTEGRITY_FAILED. */
  decryptRecord(kind: string, id: string, version: number, sealed: Uint8Array): Uint8Array {
    const keys = this.#requireUnsealed();
    const address = checkRecordAddress(kind, id, version);
    if (!(sealed instanceof Uint8Array)) throw new CofferError('INVALID_ARGUMENT', 'sealed record must be bytes');
    if (!this.#versions.allows(kind, id, version)) throw integrityFailed();
    const plaintext = openRecord(keys.recordKey, address, sealed);
    if (plaintext === undefined) throw integrityFailed();
    this.#versions.note(kind, id, version);
    return plaintext;
  }

  /**
   * Records that `version` of a record was committed by this node, so that an older version put back
   * later is refused even if this node never read the newer one. Call only after the commit succeeded.
   */
  noteCommitted(kind: string, id: string, version: number): void {
    this.#requireUnsealed();
    this.#versions.note(kind, id, checkRecordAddress(kind, id, version).version);
  }

  /** Forgets the remembered version of a deleted record, so that it may be created again from version 1. */
  forget(kind: string, id: string): void {
    this.#requireUnsealed();
    checkRecordAddress(kind, id, 1);
    this.#versions.forget(kind, id);
  }

  /**
   * Opens a record taken from a backup file, without the rollback check: the file's own signature and
   * AEAD vouch for it, and its versions are older than the live store's by nature. Any failure →
   * BARRIER_INTEGRITY_FAILED. The restorer re-encrypts the plaintext at the version it writes.
   */
  openArchivedRecord(kind: string, id: string, version: number, sealed: Uint8Array): Uint8Array {
    const keys = this.#requireUnsealed();
    const address = checkRecordAddress(kind, id, version);
    const plaintext = sealed instanceof Uint8Array ? openRecord(keys.recordKey, address, sealed) : undefined;
    if (plaintext === undefined) throw integrityFailed();
    return plaintext;
  }

  /** A backup file's AES-256 key for its 32-byte salt (src/cluster/backup). The caller wipes it. */
  backupKey(salt: Uint8Array): Buffer {
    const keys = this.#requireUnsealed();
    if (!(salt instanceof Uint8Array) || salt.length !== 32) throw new CofferError('INVALID_ARGUMENT', 'a backup salt is 32 bytes');
    return deriveBackupKey(keys.domainKey, salt);
  }

  /** The Ed25519 key that signs audit checkpoints; its public half is descriptor.auditPublicKey. */
  auditSigningKey(): KeyObject {
    return this.#requireUnsealed().auditKey;
  }

  #requireSealed(): DomainDescriptor {
    if (this.#descriptor === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
    if (this.#keys !== undefined) throw new CofferError('DOMAIN_ALREADY_UNSEALED', 'the node is already unsealed');
    return this.#descriptor;
  }

  #requireUnsealed(): UnsealedKeys {
    if (this.#descriptor === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
    if (this.#keys === undefined) throw new CofferError('DOMAIN_SEALED', 'the node is sealed');
    return this.#keys;
  }

  /** The live session; an expired one is wiped on sight. */
  #currentSession(): UnsealSession | undefined {
    if (this.#session?.isExpired(this.#clock.now()) === true) this.#dropSession();
    return this.#session;
  }

  #dropSession(): void {
    this.#session?.wipe();
    this.#session = undefined;
  }

  #custodian(descriptor: DomainDescriptor, domainId: string, custodianId: string): CustodianEntry {
    const custodian = domainId === descriptor.domainId ? descriptor.custodians.find((c) => c.id === custodianId) : undefined;
    if (custodian === undefined) throw new CofferError('UNSEAL_SHARE_INVALID', 'the share is not for this domain');
    return custodian;
  }

  /** Length and digest: a corrupted, foreign or mislabelled share is refused before it counts. */
  #checkShare(descriptor: DomainDescriptor, custodian: CustodianEntry, share: Uint8Array): void {
    if (share.length !== shareLength(descriptor.threshold) || !shareDigestMatches(custodian.shareDigest, descriptor.domainId, custodian.id, share)) {
      throw new CofferError('UNSEAL_SHARE_INVALID', 'the share does not match the domain');
    }
  }

  /** Combines, confirms the key against keyCheck and auditPublicKey, then holds the derived keys. */
  async #unsealFrom(descriptor: DomainDescriptor, shares: readonly Uint8Array[], stillWanted: () => boolean): Promise<void> {
    const domainKey = await combineDomainKey(shares, descriptor.threshold);
    if (domainKey === undefined) throw new CofferError('UNSEAL_SHARE_INVALID', 'the shares do not rebuild the domain key');
    this.#adopt(descriptor, domainKey, stillWanted);
  }

  /** Confirms a domain key against keyCheck and auditPublicKey, then holds it and the derived keys (or wipes it). */
  #adopt(descriptor: DomainDescriptor, domainKey: Uint8Array, stillWanted: () => boolean): void {
    if (!keyCheckMatches(descriptor.keyCheck, domainKey, descriptor.domainId)) {
      domainKey.fill(0);
      throw new CofferError('UNSEAL_SHARE_INVALID', 'the shares do not rebuild the domain key');
    }
    if (!stillWanted()) {
      domainKey.fill(0);
      throw new CofferError('UNSEAL_SESSION_INVALID', 'the unseal was abandoned');
    }
    const auditKey = deriveAuditSigningKey(domainKey);
    // keyCheck is right but the published audit key is not: the descriptor was altered in storage.
    if (spkiBase64url(auditKey) !== descriptor.auditPublicKey) {
      domainKey.fill(0);
      throw new CofferError('BARRIER_INTEGRITY_FAILED', 'the domain descriptor failed verification');
    }
    const recordKeyBytes = deriveRecordKey(domainKey);
    const recordKey = new XaesKey(recordKeyBytes);
    recordKeyBytes.fill(0);
    this.#keys = { domainKey, recordKey, auditKey };
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
