// Custodian tooling: key pairs, opening one's own share, re-encrypting it to a node's unseal session.
import { generateKeyPairSync } from 'node:crypto';
import { CofferError } from '../core/errors.ts';
import { decodeBase64url } from './base64url.ts';
import { DESCRIPTOR_FORMAT_VERSION, isUuid, shareLength, type CustodianEntry, type DomainDescriptor, type UnsealShareEnvelope } from './domain-descriptor.ts';
import { shareDigestMatches } from './domain-key-derivations.ts';
import { hpkeOpen, hpkeSeal, parseX25519PublicKey, shareInfo, unsealInfo, X25519_KEY_BYTES } from './hpke-share-box.ts';

export interface CustodianKeyPair {
  /** Raw X25519 public key, 32 bytes, base64url. */
  readonly publicKey: string;
  /** Raw X25519 private key (the 32-byte scalar, the JWK "d" value), base64url. Keep it offline. */
  readonly privateKey: string;
}

/** What a node's beginUnseal() hands to custodians. */
export interface UnsealSessionTicket {
  readonly sessionId: string;
  /** Raw X25519 public key of the session, base64url. */
  readonly nodePublicKey: string;
}

export function createCustodianKeyPair(): CustodianKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const x = publicKey.export({ format: 'jwk' }).x;
  if (x === undefined || jwk.d === undefined) throw new CofferError('INTERNAL_ERROR', 'X25519 key export failed');
  return { publicKey: x, privateKey: jwk.d };
}

function findCustodian(descriptor: DomainDescriptor, custodianId: string): CustodianEntry {
  const custodian = descriptor.custodians.find((c) => c.id === custodianId);
  if (custodian === undefined) throw new CofferError('INVALID_ARGUMENT', 'no custodian with this id in the domain');
  return custodian;
}

/**
 * Decrypts a custodian's own share and checks it against the descriptor's digest, so a custodian
 * learns at once that a key or share is wrong. Wrong key, altered box or digest mismatch →
 * UNSEAL_SHARE_INVALID. The caller should wipe the returned share (fill(0)) after use.
 */
export async function openShare(privateKey: string, descriptor: DomainDescriptor, custodianId: string): Promise<Uint8Array> {
  const custodian = findCustodian(descriptor, custodianId);
  const secret = decodeBase64url(privateKey, 'privateKey', X25519_KEY_BYTES);
  try {
    const share = await hpkeOpen(secret, shareInfo(descriptor.domainId, custodian.id), custodian.encryptedShare);
    if (share?.length !== shareLength(descriptor.threshold) || !shareDigestMatches(custodian.shareDigest, descriptor.domainId, custodian.id, share)) {
      share?.fill(0);
      throw new CofferError('UNSEAL_SHARE_INVALID', 'the share could not be opened with this key');
    }
    return share;
  } finally {
    secret.fill(0);
  }
}

/** Encrypts a share to a node's unseal session; the info string binds domain, custodian and session. */
export async function wrapShareForSession(share: Uint8Array, domainId: string, custodianId: string, session: UnsealSessionTicket): Promise<UnsealShareEnvelope> {
  if (!isUuid(session.sessionId)) throw new CofferError('INVALID_ARGUMENT', 'sessionId must be a uuid');
  const nodeKey = parseX25519PublicKey(session.nodePublicKey, 'nodePublicKey');
  const box = await hpkeSeal(nodeKey, unsealInfo(domainId, custodianId, session.sessionId), share);
  return { formatVersion: DESCRIPTOR_FORMAT_VERSION, domainId, custodianId, sessionId: session.sessionId, ...box };
}

/** Opens the custodian's share and re-encrypts it to the node's ephemeral session key. */
export async function prepareUnsealShare(options: {
  readonly privateKey: string;
  readonly descriptor: DomainDescriptor;
  readonly custodianId: string;
  readonly session: UnsealSessionTicket;
}): Promise<UnsealShareEnvelope> {
  const share = await openShare(options.privateKey, options.descriptor, options.custodianId);
  try {
    return await wrapShareForSession(share, options.descriptor.domainId, options.custodianId, options.session);
  } finally {
    share.fill(0);
  }
}
