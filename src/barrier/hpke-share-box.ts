// HPKE (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) for shares.
import { createPublicKey, type webcrypto } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { CofferError } from '../core/errors.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { lengthPrefixed } from './length-prefixed.ts';

export const SHARE_INFO_LABEL = 'coffer/share/v1';
export const UNSEAL_INFO_LABEL = 'coffer/unseal/v1';
export const X25519_KEY_BYTES = 32;

/**
 * The part of @hpke/core's CipherSuite used here. Its declarations name the DOM's global
 * `CryptoKey` type, which a Node-only program lacks; this view types those keys as node's own.
 */
interface HpkeSuite {
  readonly kem: {
    readonly encSize: number;
    deserializePublicKey(key: Uint8Array): Promise<webcrypto.CryptoKey>;
    deserializePrivateKey(key: Uint8Array): Promise<webcrypto.CryptoKey>;
  };
  seal(params: { recipientPublicKey: webcrypto.CryptoKey; info: Uint8Array }, plaintext: Uint8Array): Promise<{ enc: ArrayBuffer; ct: ArrayBuffer }>;
  open(params: { recipientKey: webcrypto.CryptoKey; enc: Uint8Array; info: Uint8Array }, ciphertext: Uint8Array): Promise<ArrayBuffer>;
}

const suite: HpkeSuite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });

/** RFC 9180 §5.1: `info` binds the context, so a share sealed for one purpose opens for no other. */
export function shareInfo(domainId: string, custodianId: string): Buffer {
  return lengthPrefixed(SHARE_INFO_LABEL, domainId, custodianId);
}

export function unsealInfo(domainId: string, custodianId: string, sessionId: string): Buffer {
  return lengthPrefixed(UNSEAL_INFO_LABEL, domainId, custodianId, sessionId);
}

/** Decodes and checks a raw X25519 public key (base64url, 32 bytes) → INVALID_ARGUMENT if not one. */
export function parseX25519PublicKey(value: unknown, what: string): Buffer {
  const raw = decodeBase64url(value, what, X25519_KEY_BYTES);
  try {
    createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', `${what} is not an X25519 public key`, { cause });
  }
  return raw;
}

/**
 * Encrypts to a raw X25519 public key. A key the KEM refuses (e.g. a low-order point, whose shared
 * secret would be all zeros) → INVALID_ARGUMENT.
 */
export async function hpkeSeal(recipientPublicKey: Uint8Array, info: Uint8Array, plaintext: Uint8Array): Promise<{ enc: string; ciphertext: string }> {
  try {
    const publicKey = await suite.kem.deserializePublicKey(recipientPublicKey);
    const sealed = await suite.seal({ recipientPublicKey: publicKey, info }, plaintext);
    return { enc: encodeBase64url(new Uint8Array(sealed.enc)), ciphertext: encodeBase64url(new Uint8Array(sealed.ct)) };
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', 'the recipient public key cannot be used for HPKE', { cause });
  }
}

/** Opens with a raw X25519 private key; undefined on any failure (wrong key, info or altered input). */
export async function hpkeOpen(recipientPrivateKey: Uint8Array, info: Uint8Array, box: { enc: unknown; ciphertext: unknown }): Promise<Uint8Array | undefined> {
  try {
    const enc = decodeBase64url(box.enc, 'enc', suite.kem.encSize);
    const ciphertext = decodeBase64url(box.ciphertext, 'ciphertext');
    const privateKey = await suite.kem.deserializePrivateKey(recipientPrivateKey);
    return new Uint8Array(await suite.open({ recipientKey: privateKey, enc, info }, ciphertext));
  } catch {
    return undefined;
  }
}
