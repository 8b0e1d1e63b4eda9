// The contract of approval for key use, shared by the service (key-use-service.ts), the HTTP routes
// (src/server/v1/key-use-routes.ts), the SDK (src/client/key-use-api.ts) and the CLI.
//
// A use of a key whose policy names approvers (sign, decrypt, unwrap, export; for sealed keys also
// rotate; for any such key change-approvers) is not run when asked: the requester creates a request,
// bound by `digest` to the exact use, key version, input digest, requester and expiry. Listed
// approvers (never the requester, each once) approve or reject it by signing a statement over the
// digest with their registered signing key; for a sealed key each approval also releases the
// approver's Shamir share of the key-approval key, HPKE-encrypted to the request's ephemeral public
// key. When M approvals are in, the node runs the use exactly once (status pending → running →
// completed | failed) and keeps the result, barrier-encrypted, for the requester to fetch.
import type { KeyUse } from '../../core/engine/index.ts';

/** "coffer/key-use/v1/approve" ‖ digest (32 bytes), or …/reject: what approvers sign. */
export const APPROVE_STATEMENT_PREFIX = 'coffer/key-use/v1/approve';
export const REJECT_STATEMENT_PREFIX = 'coffer/key-use/v1/reject';
/** HPKE info labels (length-prefixed with their context, as src/barrier/hpke-share-box.ts does). */
export const SHARE_SEAL_LABEL = 'coffer/key-share/v1';          // share → approver's share key; context: keyId, approver
export const SHARE_RELEASE_LABEL = 'coffer/key-share-release/v1'; // share → request's ephemeral key; context: requestId, approver, digest

export const DEFAULT_REQUEST_LIFETIME_SECONDS = 3600;
export const MAX_REQUEST_LIFETIME_SECONDS = 86_400;
export const MIN_REQUEST_LIFETIME_SECONDS = 60;
/** Longest a result long-poll waits. */
export const MAX_WAIT_SECONDS = 60;

export type KeyUseStatus = 'pending' | 'running' | 'completed' | 'failed' | 'rejected' | 'expired';

/** An approver's registered keys: a signing key for statements and an X25519 key shares are sealed to. */
export interface ApproverKeysInfo {
  readonly principal: string;
  /** 'Ed25519' | 'ECDSA_P256' */
  readonly signingAlgorithm: string;
  /** Hex SHA-256 of the signing key's SPKI DER. */
  readonly signingFingerprint: string;
  /** Raw X25519 public key, base64url (43 chars); absent when the approver approves only unsealed keys. */
  readonly shareKey?: string;
  readonly registeredAt: string;
}

/** What a requester asks for. Byte fields are raw bytes here; base64 at the HTTP edge. */
export type KeyUseInput =
  | { readonly use: 'sign'; readonly key: string | { project: string; name: string }; readonly algorithm: string; readonly message?: Uint8Array; readonly digest?: Uint8Array; readonly format?: 'DER' | 'RAW' }
  | { readonly use: 'decrypt'; readonly ciphertext: Uint8Array; readonly context?: Readonly<Record<string, string>> }
  | { readonly use: 'export'; readonly key: string | { project: string; name: string }; readonly wrappingKey: string | { project: string; name: string }; readonly algorithm: string }
  | {
    readonly use: 'unwrap'; readonly wrappingKey: string | { project: string; name: string }; readonly wrappingAlgorithm: string; readonly wrappedMaterial: Uint8Array;
    /** The key to create from the unwrapped material (as POST /v1/keys/import takes it, without the wrapping fields). */
    readonly newKey: { readonly project: string; readonly name: string; readonly spec: string; readonly usage: string; readonly description?: string; readonly tags?: Readonly<Record<string, string>>; readonly exportable?: boolean };
  }
  | { readonly use: 'rotate'; readonly key: string | { project: string; name: string } }
  | { readonly use: 'change-approvers'; readonly key: string | { project: string; name: string }; readonly approval: unknown };

export interface KeyUseRequestOptions {
  /** Default 3600, 60 to 86400. */
  readonly expiresInSeconds?: number;
  /** Shown to approvers and bound into the digest (the signing service attaches artifact metadata): ≤ 32 entries, keys ≤ 64, values ≤ 1024 chars. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** What the digest covers: an approver recomputes it (keyUseRequestDigest) before signing. */
export interface KeyUseBinding {
  readonly requestId: string;
  readonly use: KeyUse;
  readonly keyId: string;
  readonly keyVersion: number;
  /** As the engine audits it: see keyUseDigest in src/core/engine/approved-use.ts. */
  readonly inputDigest: string;
  readonly requester: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly threshold: number;
  readonly approvers: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  /** Sealed keys only: raw X25519 base64url; its private half lives only in the creating node's memory. */
  readonly ephemeralPublicKey?: string;
}

export interface KeyUseRequestView extends KeyUseBinding {
  /** Lowercase hex SHA-256 of the RFC 8785 encoding of the binding. */
  readonly digest: string;
  readonly project: string;
  readonly sealed: boolean;
  readonly rejectionEnds: boolean;
  readonly status: KeyUseStatus;
  readonly approvals: readonly { readonly approver: string; readonly approvedAt: string }[];
  readonly rejections: readonly { readonly approver: string; readonly rejectedAt: string; readonly reason?: string }[];
  readonly completedAt?: string;
  /** When failed: the engine's refusal. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** For a listed approver of a sealed key's request: their share sealed to them, and where to release it. */
export interface ShareForApprover {
  readonly requestId: string;
  readonly keyId: string;
  readonly approver: string;
  readonly ephemeralPublicKey: string;
  readonly digest: string;
  /** HPKE (base64url) under SHARE_SEAL_LABEL to the approver's share key. */
  readonly share: { readonly enc: string; readonly ciphertext: string };
}

/** The released share: HPKE under SHARE_RELEASE_LABEL to the request's ephemeral key. */
export interface ReleasedShare {
  readonly enc: string;
  readonly ciphertext: string;
}

/** The result of a completed use, as the direct route would have answered (bytes raw here). */
export type KeyUseResult =
  | { readonly use: 'sign'; readonly signature: Uint8Array; readonly keyId: string; readonly keyVersion: number; readonly algorithm: string }
  | { readonly use: 'decrypt'; readonly plaintext: Uint8Array; readonly keyId: string; readonly keyVersion: number; readonly algorithm: string }
  | { readonly use: 'export'; readonly wrappedKey: Uint8Array; readonly wrappingKeyId: string; readonly wrappingKeyVersion: number; readonly targetKeyId: string; readonly targetKeyVersion: number }
  | { readonly use: 'unwrap' | 'rotate' | 'change-approvers'; readonly keyId: string; readonly currentVersion: number };

export interface KeyUseOutcome {
  readonly status: KeyUseStatus;
  readonly result?: KeyUseResult;
  readonly error?: { readonly code: string; readonly message: string };
}
