// The SDK's view of the native API's shapes (docs/api.md): what requests take and answers hold, with
// binary values as Buffers (answers) or BytesLike (requests) instead of the wire's base64.
import type {
  AppliedOperation, ApprovalKeyInfo, ApprovalTokenView, AuthorisedOperation, PasswordBinding, QuorumOperation, QuorumParameters, QuorumPolicy, QuorumRule,
  QuorumRules, QuorumSecret,
} from '../approvals/quorum/index.ts';
import type {
  ApproverKeysInfo, KeyUseBinding, KeyUseInput, KeyUseOutcome, KeyUseRequestOptions, KeyUseRequestView, KeyUseResult, KeyUseStatus, ReleasedShare, ShareForApprover,
} from '../approvals/key-use/key-use-types.ts';
import type { DomainDescriptor, UnsealProgress, UnsealSessionInfo, UnsealShareEnvelope } from '../barrier/index.ts';
import type { KeyMetadata, Role } from '../core/engine/index.ts';
import type { KeyApprovalPolicy, KeySpec, KeyState } from '../core/key-record.ts';
import type { BytesLike } from './bytes.ts';

export type { DomainDescriptor, KeyMetadata, KeySpec, KeyState, Role, UnsealProgress, UnsealShareEnvelope };
export type {
  AppliedOperation, ApprovalKeyInfo, AuthorisedOperation, PasswordBinding, QuorumOperation, QuorumParameters, QuorumPolicy, QuorumRule, QuorumRules, QuorumSecret,
};
/** A quorum request as the node shows it: everything its digest covers, who approved, its status. */
export type QuorumToken = ApprovalTokenView;
export type UnsealSession = UnsealSessionInfo;
export type {
  ApproverKeysInfo, KeyApprovalPolicy, KeyUseBinding, KeyUseInput, KeyUseOutcome, KeyUseRequestOptions, KeyUseRequestView, KeyUseResult, KeyUseStatus, ReleasedShare,
  ShareForApprover,
};

/** A key id (uuid), or `project/name`. */
export type KeyRef = string | { readonly project: string; readonly name: string };
export type EncryptionContext = Readonly<Record<string, string>>;

// ---- domain ----

export interface DomainStatus {
  readonly state: 'UNINITIALIZED' | 'SEALED' | 'UNSEALED';
  readonly nodeId: string;
  readonly domainId?: string;
  readonly threshold?: number;
  readonly custodians?: readonly { readonly id: string; readonly name: string }[];
}

export interface InitDomainRequest {
  readonly custodians: readonly { readonly name: string; readonly publicKey: string }[];
  readonly threshold: number;
  /** Created on the first unseal, bound to this certificate's SHA-256 fingerprint (hex). */
  readonly initialOfficer: { readonly name: string; readonly certificateFingerprint: string };
}

/** A custodian's key: the private key, and the public key or custodian id that finds its share. */
export interface CustodianKey {
  readonly privateKey: string;
  readonly publicKey?: string;
  readonly custodianId?: string;
}

// ---- principals, projects, auth ----

// The identity shapes are the server's contract (type-only: nothing of the server is loaded).
export type {
  CertificateBinding, CreatePrincipalInput as CreatePrincipalRequest, IssuedToken, Principal, PrincipalStatus, Project,
  UpdatePrincipalInput as UpdatePrincipalRequest,
} from '../server/identity/identity-types.ts';

/** One page of a listing; pass `next` back as `after` for the following one. */
export interface ListQuery {
  readonly after?: string;
  /** 1-1000, default 100. */
  readonly limit?: number;
}

// ---- keys ----

export interface CreateKeyRequest {
  readonly project: string;
  readonly name: string;
  readonly spec: KeySpec;
  readonly usage: KeyMetadata['usage'];
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly exportable?: boolean;
  /** Import material wrapped under one of your WRAP_UNWRAP keys instead of generating it. */
  readonly import?: { readonly wrappingKeyId: string; readonly wrappingAlgorithm: string; readonly wrappedMaterial: BytesLike };
  /** M of the listed approvers must approve every guarded use (docs/approvals.md, "Approval for key use"). */
  readonly approval?: ApprovalPolicyRequest;
}

/** A key's approval policy as a caller states it; the node fills in the defaults. */
export interface ApprovalPolicyRequest {
  readonly threshold: number;
  readonly approvers: readonly string[];
  /** Default true: one rejection by a listed approver ends the request. */
  readonly rejectionEnds?: boolean;
  /** Default false: the material is also encrypted under a key split among the approvers. */
  readonly sealed?: boolean;
}

export interface KeyListQuery extends ListQuery {
  /** Default: the caller's default project. */
  readonly project?: string;
  readonly state?: KeyState;
  readonly spec?: KeySpec;
}

export interface UpdateKeyRequest {
  readonly description?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Only ever to false. */
  readonly exportable?: false;
}

export interface PublicKey {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly spec: string;
  /** SPKI DER. */
  readonly der: Buffer;
  readonly pem: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly next?: string;
}

/** A live node of the cluster (GET /v1/cluster/nodes): its heartbeat is within cluster.deadAfterSeconds. */
export interface ClusterNode {
  readonly nodeId: string;
  /** Its API address; clients still verify its TLS certificate. */
  readonly apiUrl: string;
  readonly state: 'UNINITIALIZED' | 'SEALED' | 'UNSEALED';
  readonly lastHeartbeat: string;
  /** True for the node that answered. */
  readonly self: boolean;
}

/** POST /v1/cluster/join-tokens (officers): only `nodeName` may use it; lifetime 60 s to 24 h (default 600). */
export interface JoinTokenRequest {
  readonly nodeName?: string;
  readonly expiresInSeconds?: number;
}

/** A join token: `token` is shown once and cannot be shown again; `tokenId` names it in the audit. */
export interface IssuedJoinToken {
  readonly tokenId: string;
  readonly token: string;
  readonly expiresAt: string;
  readonly nodeName?: string;
}
