// The engine's ApprovalHooks: checks that a policy's approvers are live principals with registered
// keys, and seals a key: a fresh key-approval key (KAK) split M of N with Shamir's scheme, each share
// HPKE-encrypted to its approver's X25519 key with a commitment to the plaintext share. The engine
// encrypts the material under the KAK and erases it; Coffer keeps no copy of the KAK.
import { hpkeSeal } from '../../barrier/hpke-share-box.ts';
import { splitDomainKey } from '../../barrier/shamir-shares.ts';
import { newKeyApprovalKey, type ApprovalHooks } from '../../core/engine/index.ts';
import { CofferError, isCofferError } from '../../core/errors.ts';
import type { ApproverShare, KeyApprovalPolicy, KeySeal } from '../../core/key-record.ts';
import type { ApproverKeyRegistry } from './approver-keys.ts';
import { sha256Hex } from './approver-keys.ts';
import { shareCommitment, shareSealInfo } from './key-use-binding.ts';

/** Resolves when `name` is an active principal; throws (PRINCIPAL_NOT_FOUND) otherwise. Supplied by the server. */
export type PrincipalCheck = (name: string) => Promise<void>;

function keyMissing(approver: string, what: string, cause?: unknown): CofferError {
  return new CofferError('APPROVER_KEY_MISSING', `approver ${approver} ${what}`, cause === undefined ? undefined : { cause });
}

export class KeySealer implements ApprovalHooks {
  readonly #registry: ApproverKeyRegistry;
  readonly #requirePrincipal: PrincipalCheck;

  constructor(registry: ApproverKeyRegistry, requirePrincipal: PrincipalCheck) {
    this.#registry = registry;
    this.#requirePrincipal = requirePrincipal;
  }

  async requireApprovers(policy: KeyApprovalPolicy): Promise<void> {
    for (const approver of policy.approvers) await this.#shareKeyOf(approver, policy.sealed);
  }

  /** The approver's raw share key (sealed policies), after checking they are live and registered. */
  async #shareKeyOf(approver: string, sealed: boolean): Promise<Buffer | undefined> {
    try {
      await this.#requirePrincipal(approver);
    } catch (error) {
      if (isCofferError(error, 'PRINCIPAL_NOT_FOUND')) throw keyMissing(approver, 'is not an active principal', error);
      throw error;
    }
    const keys = await this.#registry.get(approver);
    if (keys === undefined) throw keyMissing(approver, 'has not registered approver keys');
    if (sealed && keys.shareKey === undefined) throw keyMissing(approver, 'has not registered a share key');
    return keys.shareKey;
  }

  async seal(keyId: string, policy: KeyApprovalPolicy): Promise<{ seal: KeySeal; kak: Buffer }> {
    const recipients: { approver: string; shareKey: Buffer }[] = [];
    for (const approver of policy.approvers) {
      const shareKey = await this.#shareKeyOf(approver, true);
      if (shareKey === undefined) throw keyMissing(approver, 'has not registered a share key');
      recipients.push({ approver, shareKey });
    }
    const kak = newKeyApprovalKey();
    let plainShares: Uint8Array[] = [];
    try {
      plainShares = await splitDomainKey(kak, recipients.length, policy.threshold);
      const shares: ApproverShare[] = [];
      for (const [index, { approver, shareKey }] of recipients.entries()) {
        const share = plainShares[index];
        if (share === undefined) throw new CofferError('INTERNAL_ERROR', 'share split failed');
        const box = await hpkeSeal(shareKey, shareSealInfo(keyId, approver), share);
        shares.push({ approver, recipientFingerprint: sha256Hex(shareKey), enc: box.enc, ciphertext: box.ciphertext, commitment: shareCommitment(keyId, approver, share) });
      }
      return { seal: { threshold: policy.threshold, shares }, kak };
    } catch (error) {
      kak.fill(0);
      throw error;
    } finally {
      for (const share of plainShares) share.fill(0);
    }
  }
}
