// What an approving officer signs: "coffer/quorum/v1" ‖ the token digest, with Ed25519 or ECDSA
// P-256 (SHA-256, DER signature). The prefix keeps an approval key's signatures from meaning
// anything outside quorum approvals.
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';

export const QUORUM_STATEMENT_PREFIX = 'coffer/quorum/v1';

export type ApprovalKeyAlgorithm = 'Ed25519' | 'ECDSA_P256';

const DIGEST_HEX = /^[0-9a-f]{64}$/;
/** Far above any Ed25519 (64) or DER ECDSA P-256 (≤ 72) signature; bounds what we hand to verify. */
const MAX_SIGNATURE_BYTES = 256;

function digestBytes(tokenDigest: string | Uint8Array): Buffer {
  if (typeof tokenDigest === 'string') {
    if (!DIGEST_HEX.test(tokenDigest)) throw new CofferError('INVALID_ARGUMENT', 'a token digest is 64 lowercase hex digits');
    return Buffer.from(tokenDigest, 'hex');
  }
  if (tokenDigest.length !== 32) throw new CofferError('INVALID_ARGUMENT', 'a token digest is 32 bytes');
  return Buffer.from(tokenDigest);
}

/** The exact bytes signed for a token (fixed-length digest after a fixed prefix: no ambiguity). */
export function quorumStatement(tokenDigest: string | Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(QUORUM_STATEMENT_PREFIX, 'utf8'), digestBytes(tokenDigest)]);
}

/** The key's algorithm, or undefined when it is neither Ed25519 nor ECDSA P-256. */
export function approvalKeyAlgorithm(key: KeyObject): ApprovalKeyAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'Ed25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ECDSA_P256';
  return undefined;
}

/** Officer side (the CLI): signs the statement for `tokenDigest` with the officer's approval private key. */
export function signQuorumStatement(privateKey: KeyObject, tokenDigest: string | Uint8Array): Uint8Array {
  if (privateKey.type !== 'private') throw new CofferError('INVALID_ARGUMENT', 'an approval signature needs a private key');
  const algorithm = approvalKeyAlgorithm(privateKey);
  if (algorithm === undefined) throw new CofferError('UNSUPPORTED_ALGORITHM', 'approval keys are Ed25519 or ECDSA P-256');
  const statement = quorumStatement(tokenDigest);
  return new Uint8Array(algorithm === 'Ed25519' ? sign(null, statement, privateKey) : sign('sha256', statement, { key: privateKey, dsaEncoding: 'der' }));
}

/** True only for a valid signature of the statement; malformed input is simply invalid. */
export function verifyQuorumStatement(publicKey: KeyObject, tokenDigest: string, signature: Uint8Array): boolean {
  const algorithm = approvalKeyAlgorithm(publicKey);
  if (algorithm === undefined || !(signature instanceof Uint8Array) || signature.length === 0 || signature.length > MAX_SIGNATURE_BYTES) return false;
  try {
    const statement = quorumStatement(tokenDigest);
    return algorithm === 'Ed25519'
      ? verify(null, statement, publicKey, signature)
      : verify('sha256', statement, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

/**
 * Parses an officer's approval public key (SPKI as PEM text or DER bytes). A private key is refused
 * outright rather than reduced to its public half: it should never have left the officer's machine.
 */
export function parseApprovalPublicKey(input: string | Uint8Array): { key: KeyObject; algorithm: ApprovalKeyAlgorithm; spki: Buffer } {
  if (typeof input === 'string' && (input.includes('PRIVATE KEY') || !input.includes('-----BEGIN PUBLIC KEY-----'))) {
    throw new CofferError('INVALID_KEY_MATERIAL', 'an approval key must be an SPKI public key');
  }
  let key: KeyObject;
  try {
    key = typeof input === 'string'
      ? createPublicKey({ key: input, format: 'pem' })
      : createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CofferError('INVALID_KEY_MATERIAL', 'an approval key must be an SPKI public key', { cause: error });
  }
  const algorithm = approvalKeyAlgorithm(key);
  if (algorithm === undefined) throw new CofferError('UNSUPPORTED_ALGORITHM', 'approval keys are Ed25519 or ECDSA P-256');
  return { key, algorithm, spki: key.export({ format: 'der', type: 'spki' }) };
}
