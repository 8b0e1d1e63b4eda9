// What an approver signs for a key-use request: "coffer/key-use/v1/approve" ‖ digest (or …/reject),
// with the Ed25519 or ECDSA P-256 key they registered. The prefixes keep these signatures from
// meaning anything elsewhere (quorum statements use their own).
import { sign, verify, type KeyObject } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import { approvalKeyAlgorithm } from '../quorum/quorum-statement.ts';
import { APPROVE_STATEMENT_PREFIX, REJECT_STATEMENT_PREFIX } from './key-use-types.ts';

export type StatementKind = 'approve' | 'reject';

const DIGEST_HEX = /^[0-9a-f]{64}$/;
/** Far above any Ed25519 (64) or DER ECDSA P-256 (≤ 72) signature; bounds what reaches verify. */
export const MAX_STATEMENT_SIGNATURE_BYTES = 256;

/** The exact bytes signed: a fixed prefix, then the 32 digest bytes (fixed length: no ambiguity). */
export function keyUseStatement(kind: StatementKind, digest: string): Buffer {
  if (!DIGEST_HEX.test(digest)) throw new CofferError('INVALID_ARGUMENT', 'a request digest is 64 lowercase hex digits');
  return Buffer.concat([Buffer.from(kind === 'approve' ? APPROVE_STATEMENT_PREFIX : REJECT_STATEMENT_PREFIX, 'utf8'), Buffer.from(digest, 'hex')]);
}

/** Approver side: signs the statement with the approver's signing private key. */
export function signKeyUseStatement(privateKey: KeyObject, kind: StatementKind, digest: string): Uint8Array {
  if (privateKey.type !== 'private') throw new CofferError('INVALID_ARGUMENT', 'a statement signature needs a private key');
  const algorithm = approvalKeyAlgorithm(privateKey);
  if (algorithm === undefined) throw new CofferError('UNSUPPORTED_ALGORITHM', 'approver signing keys are Ed25519 or ECDSA P-256');
  const statement = keyUseStatement(kind, digest);
  return new Uint8Array(algorithm === 'Ed25519' ? sign(null, statement, privateKey) : sign('sha256', statement, { key: privateKey, dsaEncoding: 'der' }));
}

/** True only for a valid signature of exactly this statement; malformed input is simply invalid. */
export function verifyKeyUseStatement(publicKey: KeyObject, kind: StatementKind, digest: string, signature: Uint8Array): boolean {
  const algorithm = approvalKeyAlgorithm(publicKey);
  if (algorithm === undefined || !(signature instanceof Uint8Array) || signature.length === 0 || signature.length > MAX_STATEMENT_SIGNATURE_BYTES) return false;
  try {
    const statement = keyUseStatement(kind, digest);
    return algorithm === 'Ed25519'
      ? verify(null, statement, publicKey, signature)
      : verify('sha256', statement, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}
