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
}

/** Conditions on use; approvals and quorum build on this record later. */
export interface KeyPolicy {
  /** Principals (besides the owner) allowed to use the key. */
  readonly sharedWith: readonly string[];
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
}

/** A record as read from a repository, with the revision that compare-and-set writes must name. */
export interface StoredKey {
  readonly record: KeyRecord;
  readonly revision: number;
}
