// Sealed keys' requests: the ephemeral X25519 key each carries, whose private half lives only in this
// object's memory (erased after the run, rejection, expiry or close), and the shares approvers release
// to it: checked against the seal's commitments when released, combined into the KAK at the run.
import { generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import { hpkeOpen } from '../../barrier/hpke-share-box.ts';
import { combineDomainKey } from '../../barrier/shamir-shares.ts';
import { CofferError } from '../../core/errors.ts';
import type { SealedKeyRepository } from '../../store/key-repository/index.ts';
import { shareCommitment, shareReleaseInfo } from './key-use-binding.ts';
import type { KeyUseRecord } from './key-use-request.ts';
import type { ReleasedShare } from './key-use-types.ts';

export function shareInvalid(message: string): CofferError {
  return new CofferError('APPROVAL_SHARE_INVALID', message);
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** A fresh X25519 key pair, raw: the public half goes into the binding, the private half is held here. */
export function ephemeralKeyPair(): { publicKey: string; privateKey: Buffer } {
  const jwk = generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new CofferError('INTERNAL_ERROR', 'X25519 key export failed');
  return { publicKey: jwk.x, privateKey: Buffer.from(jwk.d, 'base64url') };
}

export class ReleasedShares {
  /** Reads key records below the engine for what its metadata does not show: the seal's commitments and shares. */
  readonly #keys: SealedKeyRepository;
  /** requestId → the ephemeral private key of a sealed key's request: memory only, erased after run or expiry. */
  readonly #ephemeral = new Map<string, { readonly privateKey: Buffer; readonly expiresAtMs: number }>();

  constructor(keys: SealedKeyRepository) {
    this.#keys = keys;
  }

  /** Holds a request's ephemeral private key until it is dropped (at the latest once expired and pruned). */
  hold(requestId: string, privateKey: Buffer, expiresAtMs: number): void {
    this.#ephemeral.set(requestId, { privateKey, expiresAtMs });
  }

  drop(requestId: string): void {
    this.#ephemeral.get(requestId)?.privateKey.fill(0);
    this.#ephemeral.delete(requestId);
  }

  dropExpired(nowMs: number): void {
    for (const [id, { expiresAtMs }] of this.#ephemeral) if (nowMs >= expiresAtMs) this.drop(id);
  }

  dropAll(): void {
    for (const id of [...this.#ephemeral.keys()]) this.drop(id);
  }

  /** The approver's share in the key's seal now: what a released share must match. */
  async sealedShareOf(record: KeyUseRecord, approver: string): Promise<{ commitment: string; enc: string; ciphertext: string }> {
    const key = await this.#keys.get(record.binding.keyId);
    const share = key?.record.seal?.shares.find((s) => s.approver === approver);
    if (share === undefined) throw shareInvalid('the key holds no share for this approver');
    return share;
  }

  /** Opens a released share with the request's ephemeral key; the caller erases it. */
  async #open(record: KeyUseRecord, approver: string, released: ReleasedShare | undefined): Promise<Uint8Array> {
    if (released === undefined) throw shareInvalid('a sealed key needs the approver’s released share');
    const ephemeral = this.#ephemeral.get(record.binding.requestId);
    if (ephemeral === undefined) throw shareInvalid('this node no longer holds the request’s ephemeral key (it restarted): request the use again');
    const plain = await hpkeOpen(ephemeral.privateKey, shareReleaseInfo(record.binding.requestId, approver, record.digest), released);
    if (plain === undefined) throw shareInvalid('the released share does not decrypt');
    return plain;
  }

  /** Checks a released share against the commitment in the key's seal; nothing is recorded unless it matches. */
  async check(record: KeyUseRecord, approver: string, released: ReleasedShare | undefined): Promise<ReleasedShare> {
    const plain = await this.#open(record, approver, released);
    const { enc, ciphertext } = released ?? { enc: '', ciphertext: '' };
    try {
      const { commitment } = await this.sealedShareOf(record, approver);
      if (!sameHex(shareCommitment(record.binding.keyId, approver, plain), commitment)) throw shareInvalid('the released share does not match its commitment');
    } finally {
      plain.fill(0);
    }
    return { enc, ciphertext };
  }

  /** The KAK from the M released shares: opened in memory, combined, every share erased. */
  async combine(record: KeyUseRecord): Promise<Uint8Array> {
    const shares: Uint8Array[] = [];
    try {
      for (const approval of record.approvals) shares.push(await this.#open(record, approval.approver, approval.share));
      const kak = await combineDomainKey(shares, record.binding.threshold);
      if (kak === undefined) throw shareInvalid('the released shares do not combine');
      return kak;
    } finally {
      for (const share of shares) share.fill(0);
    }
  }
}
