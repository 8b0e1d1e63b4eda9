// The approver's side of key-use approval, for the SDK and the CLI (no server or store imports):
// generating an approver's keys, signing approvals and rejections over a request digest, and
// releasing a share of a sealed key (open it with the approver's X25519 key, re-seal it to the
// request's ephemeral key). Approvers recompute the digest with keyUseRequestDigest first.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { hpkeOpen, hpkeSeal, parseX25519PublicKey, X25519_KEY_BYTES } from '../../barrier/hpke-share-box.ts';
import { CofferError } from '../../core/errors.ts';
import { shareCommitment, shareReleaseInfo, shareSealInfo } from './key-use-binding.ts';
import { signKeyUseStatement } from './key-use-statement.ts';
import type { ReleasedShare, ShareForApprover } from './key-use-types.ts';

export { keyUseRequestDigest } from './key-use-binding.ts';
export { keyUseStatement, verifyKeyUseStatement } from './key-use-statement.ts';

export interface ApproverKeyPairs {
  /** Ed25519 signing key: the private half stays with the approver. */
  readonly signingPrivateKey: KeyObject;
  /** What PUT /v1/key-use/approver-keys takes as signingKey. */
  readonly signingPublicKeyPem: string;
  /** Raw X25519 private key (32 bytes): opens the shares sealed to the approver. */
  readonly sharePrivateKey: Uint8Array;
  /** Raw X25519 public key, base64url (43 chars): what the approver registers as shareKey. */
  readonly sharePublicKey: string;
}

/** A fresh Ed25519 signing key and X25519 share key, generated locally. */
export function generateApproverKeys(): ApproverKeyPairs {
  const signing = generateKeyPairSync('ed25519');
  const share = generateKeyPairSync('x25519');
  const jwk = share.privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') throw new CofferError('INTERNAL_ERROR', 'X25519 key export failed');
  return {
    signingPrivateKey: signing.privateKey,
    signingPublicKeyPem: signing.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    sharePrivateKey: Buffer.from(jwk.d, 'base64url'),
    sharePublicKey: jwk.x,
  };
}

/** Signature over "coffer/key-use/v1/approve" ‖ digest. */
export function signApproval(privateKey: KeyObject, digest: string): Uint8Array {
  return signKeyUseStatement(privateKey, 'approve', digest);
}

/** Signature over "coffer/key-use/v1/reject" ‖ digest. */
export function signRejection(privateKey: KeyObject, digest: string): Uint8Array {
  return signKeyUseStatement(privateKey, 'reject', digest);
}

/** The approver's plaintext share, opened with their share private key; APPROVAL_SHARE_INVALID if it does not open. */
export async function openApproverShare(sharePrivateKey: Uint8Array, share: ShareForApprover): Promise<Uint8Array> {
  if (sharePrivateKey.length !== X25519_KEY_BYTES) throw new CofferError('INVALID_ARGUMENT', 'an X25519 private key is 32 bytes');
  const plain = await hpkeOpen(sharePrivateKey, shareSealInfo(share.keyId, share.approver), share.share);
  if (plain === undefined) throw new CofferError('APPROVAL_SHARE_INVALID', 'the share does not open with this key');
  return plain;
}

/** Seals a plaintext share to the request's ephemeral key (what the approve call carries). */
export function sealReleasedShare(plainShare: Uint8Array, share: Pick<ShareForApprover, 'requestId' | 'approver' | 'digest' | 'ephemeralPublicKey'>): Promise<ReleasedShare> {
  const ephemeral = parseX25519PublicKey(share.ephemeralPublicKey, 'ephemeralPublicKey');
  return hpkeSeal(ephemeral, shareReleaseInfo(share.requestId, share.approver, share.digest), plainShare);
}

/**
 * Opens the approver's share and re-seals it to the request's ephemeral key. The plaintext share
 * exists only inside this call and is erased before it returns. `expectedDigest`, when given (the
 * digest the approver recomputed), must equal the one the share is released for.
 */
export async function releaseShare(sharePrivateKey: Uint8Array, share: ShareForApprover, expectedDigest?: string): Promise<ReleasedShare> {
  if (expectedDigest !== undefined && expectedDigest !== share.digest) throw new CofferError('APPROVAL_MISMATCH', 'the share is for another digest than the one recomputed');
  const plain = await openApproverShare(sharePrivateKey, share);
  try {
    return await sealReleasedShare(plain, share);
  } finally {
    plain.fill(0);
  }
}

/** The commitment a released share is checked against (exported for approvers who want to check their own). */
export function commitmentOf(keyId: string, approver: string, plainShare: Uint8Array): string {
  return shareCommitment(keyId, approver, plainShare);
}
