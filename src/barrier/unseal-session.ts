// One unseal attempt: an ephemeral X25519 key pair in memory and the shares received so far.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { decodeBase64url } from './base64url.ts';
import { X25519_KEY_BYTES } from './hpke-share-box.ts';

/** Long enough for custodians to gather, short enough that a forgotten session does not linger. */
export const UNSEAL_SESSION_LIFETIME_MS = 15 * 60 * 1000;

/**
 * Shares belong to the session they arrived in: when it expires or the node seals, they are wiped
 * and custodians start again with a new session key. The private key never leaves this object.
 */
export class UnsealSession {
  readonly id = randomUUID();
  /** Raw X25519 public key, base64url. */
  readonly publicKey: string;
  readonly expiresAt: Date;
  readonly #privateKey: Buffer;
  readonly #shares = new Map<string, Uint8Array>();

  constructor(now: Date) {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    const d = privateKey.export({ format: 'jwk' }).d;
    const x = publicKey.export({ format: 'jwk' }).x;
    if (d === undefined || x === undefined) throw new CofferError('INTERNAL_ERROR', 'X25519 key export failed');
    // Held as raw bytes, not a KeyObject, so that wipe() can actually overwrite it.
    this.#privateKey = decodeBase64url(d, 'session key', X25519_KEY_BYTES);
    this.publicKey = x;
    this.expiresAt = new Date(now.getTime() + UNSEAL_SESSION_LIFETIME_MS);
  }

  isExpired(now: Date): boolean {
    return now.getTime() >= this.expiresAt.getTime();
  }

  get privateKey(): Uint8Array {
    return this.#privateKey;
  }

  get received(): number {
    return this.#shares.size;
  }

  has(custodianId: string): boolean {
    return this.#shares.has(custodianId);
  }

  add(custodianId: string, share: Uint8Array): void {
    this.#shares.set(custodianId, share);
  }

  shares(): Uint8Array[] {
    return [...this.#shares.values()];
  }

  /** Wipes and forgets the shares received; the session key stays usable. */
  resetProgress(): void {
    for (const share of this.#shares.values()) share.fill(0);
    this.#shares.clear();
  }

  /** Wipes the shares and the session key; the session can no longer open anything. */
  wipe(): void {
    this.resetProgress();
    this.#privateKey.fill(0);
  }
}
