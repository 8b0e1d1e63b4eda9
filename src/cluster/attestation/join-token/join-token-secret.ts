// What a join token is made of, on both sides: the secret shown once, the id both sides derive from
// it, the hash the cluster stores, and the proof a joiner sends instead of the token itself.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CofferError } from '../../../core/errors.ts';

export const TOKEN_BYTES = 32;
const ID_LABEL = 'coffer/join-token-id/v1';
const HASH_LABEL = 'coffer/join-token-hash/v1';
const PROOF_LABEL = 'coffer/join-token-proof/v1';
const TOKEN_TEXT = /^[A-Za-z0-9_-]{43}$/;
export const TOKEN_ID = /^[0-9a-f]{32}$/;

function secretOf(token: string): Buffer {
  const bytes = TOKEN_TEXT.test(token) ? Buffer.from(token, 'base64url') : undefined;
  if (bytes?.length !== TOKEN_BYTES || bytes.toString('base64url') !== token) throw new CofferError('INVALID_ARGUMENT', 'the join token is malformed');
  return bytes;
}

function digest(label: string, secret: Buffer): Buffer {
  return createHash('sha256').update(label).update('\0').update(secret).digest();
}

export function newJoinToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** 128 bits of a labelled hash: lets the joiner name its token without revealing it. */
export function joinTokenId(token: string): string {
  return digest(ID_LABEL, secretOf(token)).subarray(0, 16).toString('hex');
}

/** Hex SHA-256 under its own label: the only form of the token the cluster keeps (barrier-sealed). */
export function joinTokenHash(token: string): string {
  return digest(HASH_LABEL, secretOf(token)).toString('hex');
}

export interface ProofBinding {
  readonly domainId: string;
  readonly requestId: string;
  readonly nodeName: string;
  readonly joinPublicKey: string;
}

function proofMac(tokenHash: Buffer, binding: ProofBinding): Buffer {
  // JSON of an array of strings is an unambiguous encoding of the fields.
  const message = JSON.stringify([PROOF_LABEL, binding.domainId, binding.requestId, binding.nodeName, binding.joinPublicKey]);
  return createHmac('sha256', tokenHash).update(message).digest();
}

/**
 * HMAC-SHA-256 keyed by the token's hash over the request's binding: the token never reaches the
 * store, and a proof read from it works for no other request, name or key.
 */
export function joinTokenProof(token: string, binding: ProofBinding): string {
  return proofMac(Buffer.from(joinTokenHash(token), 'hex'), binding).toString('base64url');
}

/** Constant-time comparison of a presented proof with the one the stored hash gives. */
export function proofMatches(tokenHashHex: string, binding: ProofBinding, proof: string): boolean {
  const expected = proofMac(Buffer.from(tokenHashHex, 'hex'), binding);
  const presented = Buffer.from(proof, 'base64url');
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
