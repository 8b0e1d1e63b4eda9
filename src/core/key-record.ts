// The key record: what Coffer knows about one key. Material lives only inside versions and is
// encrypted by the barrier before it reaches any store.

export const KEY_SPECS = [
  'AES_256',
  'HMAC_256', 'HMAC_384', 'HMAC_512',
  'RSA_2048', 'RSA_3072', 'RSA_4096',
  'EC_P256', 'EC_P384', 'EC_P521', 'EC_SECP256K1',
  'ED25519',
  'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export const KEY_USAGES = ['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'WRAP_UNWRAP', 'DERIVE'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

export const KEY_STATES = ['ENABLED', 'DISABLED', 'PENDING_DELETION', 'DESTROYED'] as const;
export type KeyState = (typeof KEY_STATES)[number];

export type KeyOrigin = 'GENERATED' | 'IMPORTED';

/** One version of a key. `material` is secret: raw bytes for symmetric keys, PKCS#8 DER otherwise. */
export interface KeyVersionRecord {
  readonly version: number;
  readonly createdAt: string;
  readonly origin: KeyOrigin;
  /** Absent once the key is destroyed. */
  readonly material?: Uint8Array;
  /** SPKI DER of the public half, for asymmetric keys. Not secret. */
  readonly publicKey?: Uint8Array;
  /**
   * Sealed keys only, instead of `material`: the material encrypted (AES-256-GCM, nonce ‖ ciphertext ‖
   * tag) under the key's key-approval key, which exists only as shares held by the approvers.
   */
  readonly sealedMaterial?: Uint8Array;
}

/** M of the listed approvers must approve each guarded use (sign, decrypt, unwrap, export). */
export interface KeyApprovalPolicy {
  /** M: approvals needed, never counting the requester. */
  readonly threshold: number;
  /** The N principals who may approve, by name, sorted. */
  readonly approvers: readonly string[];
  /** A rejection by any listed approver ends the request (default true). */
  readonly rejectionEnds: boolean;
  /** The material is additionally encrypted under a key-approval key split among the approvers. */
  readonly sealed: boolean;
}

/** Conditions on use. */
export interface KeyPolicy {
  /** Principals (besides the owner) allowed to use the key. */
  readonly sharedWith: readonly string[];
  /** When set, every guarded use waits for M of its approvers. */
  readonly approval?: KeyApprovalPolicy;
}

/** One approver's Shamir share of a sealed key's key-approval key, HPKE-encrypted to their share key. */
export interface ApproverShare {
  readonly approver: string;
  /** SHA-256 (hex) of the SPKI the share was encrypted to, so a replaced key is noticed. */
  readonly recipientFingerprint: string;
  /** base64url HPKE encapsulated key and ciphertext. */
  readonly enc: string;
  readonly ciphertext: string;
  /** Hex SHA-256 of the plaintext share, domain-separated: a released share is checked against it, so a bad one is attributed to its approver. */
  readonly commitment: string;
}

/** A sealed key's key-approval key, present only as M-of-N shares: Coffer keeps no copy. */
export interface KeySeal {
  readonly threshold: number;
  readonly shares: readonly ApproverShare[];
}

export interface KeyRecord {
  readonly id: string;
  readonly name: string;
  readonly project: string;
  readonly owner: string;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  readonly state: KeyState;
  readonly exportable: boolean;
  readonly description: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly policy: KeyPolicy;
  readonly versions: readonly KeyVersionRecord[];
  /** Newest version: the one new operations use. */
  readonly currentVersion: number;
  /** Decrypt and verify refuse versions below this. */
  readonly minDecryptVersion: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Set while PENDING_DELETION: when the key will be destroyed. */
  readonly deletionDate?: string;
  readonly destroyedAt?: string;
  /** Sealed keys: the shares of the key-approval key every version's sealedMaterial is under. */
  readonly seal?: KeySeal;
}

/** A record as read from a repository, with the revision that compare-and-set writes must name. */
export interface StoredKey {
  readonly record: KeyRecord;
  readonly revision: number;
}
