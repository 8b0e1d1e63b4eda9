// The digest that binds a key-use request: SHA-256 of the RFC 8785 encoding of exactly the
// KeyUseBinding fields. Approvers recompute it from the view before signing; the node never asks
// them to trust its own value.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../audit/canonical-json.ts';
import { lengthPrefixed } from '../../barrier/length-prefixed.ts';
import { SHARE_RELEASE_LABEL, SHARE_SEAL_LABEL, type KeyUseBinding } from './key-use-types.ts';

export const SHARE_COMMITMENT_LABEL = 'coffer/key-share-commitment/v1';

/** Lowercase hex SHA-256 of canonicalJson(binding), the binding's own fields only (never status or approvals). */
export function keyUseRequestDigest(binding: KeyUseBinding): string {
  const { requestId, use, keyId, keyVersion, inputDigest, requester, createdAt, expiresAt, threshold, approvers, metadata, ephemeralPublicKey } = binding;
  const fields = {
    requestId, use, keyId, keyVersion, inputDigest, requester, createdAt, expiresAt, threshold, approvers: [...approvers], metadata: { ...metadata },
    ...(ephemeralPublicKey === undefined ? {} : { ephemeralPublicKey }),
  };
  return createHash('sha256').update(canonicalJson(fields), 'utf8').digest('hex');
}

/** HPKE info of a share sealed to its approver's share key (RFC 9180 §5.1: binds key and approver). */
export function shareSealInfo(keyId: string, approver: string): Buffer {
  return lengthPrefixed(SHARE_SEAL_LABEL, keyId, approver);
}

/** HPKE info of a share released to a request's ephemeral key: binds request, approver and digest (hex). */
export function shareReleaseInfo(requestId: string, approver: string, digest: string): Buffer {
  return lengthPrefixed(SHARE_RELEASE_LABEL, requestId, approver, digest);
}

/** Hex SHA-256 of a plaintext share, domain-separated and bound to key and approver. */
export function shareCommitment(keyId: string, approver: string, share: Uint8Array): string {
  return createHash('sha256').update(lengthPrefixed(SHARE_COMMITMENT_LABEL, keyId, approver, share)).digest('hex');
}
