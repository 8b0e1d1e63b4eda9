// One error hierarchy for all of Coffer: every failure carries a stable string code from CATALOGUE.
// Messages never contain secrets, tokens or plaintext; crypto failures stay deliberately vague.

/** Every error code, its HTTP status (the one place codes map to statuses) and what it means. */
export const CATALOGUE = {
  INVALID_ARGUMENT: { status: 400, description: 'A parameter is missing, malformed or out of range.' },
  UNSUPPORTED_ALGORITHM: { status: 400, description: 'The algorithm or key spec is unknown, or refused as weak.' },
  INCOMPATIBLE_ALGORITHM: { status: 400, description: "The algorithm does not fit the key's spec or usage." },
  KEY_USAGE_NOT_ALLOWED: { status: 400, description: "The operation is outside the key's usage fixed at creation." },
  INVALID_DIGEST: { status: 400, description: "A precomputed digest has the wrong length for the algorithm's hash." },
  DIGEST_NOT_SUPPORTED: { status: 400, description: 'The algorithm signs whole messages only (Ed25519, ML-DSA).' },
  INPUT_TOO_LARGE: { status: 413, description: 'The input exceeds the limit for this operation.' },
  INVALID_KEY_MATERIAL: { status: 400, description: 'Imported key material does not match the declared key spec.' },
  ACCESS_DENIED: { status: 403, description: 'The caller may not perform this operation on this resource.' },
  KEY_NOT_FOUND: { status: 404, description: 'No key with this id or name is visible to the caller.' },
  KEY_ALREADY_EXISTS: { status: 409, description: 'A key with this name already exists in the project.' },
  KEY_VERSION_NOT_FOUND: { status: 404, description: 'The key has no such version.' },
  KEY_VERSION_DISABLED: { status: 400, description: 'The key version is below the minimum version allowed for decryption and verification.' },
  KEY_DISABLED: { status: 409, description: 'The key is disabled; enable it to use it.' },
  KEY_PENDING_DELETION: { status: 409, description: 'The key is scheduled for deletion; cancel the deletion to use it.' },
  KEY_DESTROYED: { status: 410, description: 'The key material has been destroyed.' },
  KEY_NOT_EXPORTABLE: { status: 403, description: 'The key is not exportable.' },
  KEY_PUBLIC_ONLY: { status: 400, description: 'The key was imported as a public key only: it can verify (and RSA-encrypt) but not sign, decrypt, rotate or export.' },
  CSR_INVALID: { status: 400, description: 'The certificate request is malformed, asks for what Coffer does not issue, or its signature does not verify.' },
  CERTIFICATE_INVALID: { status: 400, description: 'The certificate or chain is malformed, expired, or its signatures do not link up.' },
  CERTIFICATE_KEY_MISMATCH: { status: 400, description: "The certificate's public key is not the key's (or not that of the version named)." },
  CERTIFICATE_NOT_FOUND: { status: 404, description: 'No certificate with this id or serial number here.' },
  CERTIFICATE_ALREADY_REVOKED: { status: 409, description: 'The certificate is already revoked.' },
  CA_NOT_FOUND: { status: 404, description: 'No certificate authority with this id or name is visible to the caller.' },
  CA_ALREADY_EXISTS: { status: 409, description: 'A certificate authority with this name already exists in the project.' },
  CA_POLICY_VIOLATION: { status: 400, description: "The request is outside the CA's profile (validity, key usages, purposes, path length or name constraints)." },
  TSA_NOT_CONFIGURED: { status: 409, description: 'The key has no time-stamping certificate attached (a critical extendedKeyUsage of timeStamping only).' },
  IMPORT_TOKEN_NOT_FOUND: { status: 404, description: 'No import token with this id: it is unknown, was already used (tokens are single use) or was issued to someone else.' },
  IMPORT_TOKEN_EXPIRED: { status: 410, description: 'The import token has expired (tokens live 24 hours); request a new one.' },
  INVALID_STATE_TRANSITION: { status: 409, description: "The key's current state does not allow this change." },
  CRYPTO_DECRYPT_FAILED: { status: 400, description: 'Decryption or unwrapping failed (wrong key, context, or altered input).' },
  STORE_CONFLICT: { status: 409, description: 'The record changed concurrently; re-read and retry.' },
  STORE_UNAVAILABLE: { status: 503, description: 'The store cannot be reached; writes fail fast.' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, description: 'This Idempotency-Key was already used for a different request (another method, path or body); use a new key.' },
  IDEMPOTENCY_KEY_IN_FLIGHT: { status: 409, description: 'A request with this Idempotency-Key is still running; retry it shortly to get its answer.' },
  STORE_CORRUPT: { status: 500, description: 'The store returned a record that is malformed.' },
  BARRIER_INTEGRITY_FAILED: { status: 500, description: 'A stored record failed authentication: edited, swapped or replayed.' },
  DOMAIN_UNINITIALIZED: { status: 503, description: 'The security domain has not been initialised.' },
  DOMAIN_ALREADY_INITIALIZED: { status: 409, description: 'The security domain is already initialised.' },
  DOMAIN_SEALED: { status: 503, description: 'The node is sealed; only status and unseal work.' },
  DOMAIN_ALREADY_UNSEALED: { status: 409, description: 'The node is already unsealed.' },
  UNSEAL_SHARE_INVALID: { status: 400, description: 'The unseal share is corrupted, wrong or not for this domain.' },
  UNSEAL_SHARE_DUPLICATE: { status: 409, description: "This custodian's share was already submitted." },
  UNSEAL_SESSION_INVALID: { status: 400, description: 'The unseal session is unknown or has expired.' },
  AUDIT_UNAVAILABLE: { status: 503, description: 'The audit journal cannot be written, so the operation was refused.' },
  AUDIT_CHAIN_INVALID: { status: 500, description: 'The audit journal failed verification.' },
  AUTH_REQUIRED: { status: 401, description: 'No credentials: present a trusted client certificate or a bearer token.' },
  AUTH_FAILED: { status: 401, description: 'The credentials are wrong, expired or belong to a disabled principal.' },
  AUTH_CERTIFICATE_UNTRUSTED: { status: 401, description: 'The client certificate is not issued by a trusted CA or maps to no principal.' },
  RATE_LIMITED: { status: 429, description: 'Too many attempts; wait before trying again.' },
  PRINCIPAL_NOT_FOUND: { status: 404, description: 'No principal with this name or id.' },
  PRINCIPAL_ALREADY_EXISTS: { status: 409, description: 'A principal with this name exists, or existed: names are never reused.' },
  PROJECT_NOT_FOUND: { status: 404, description: 'No project with this name is visible to the caller.' },
  PROJECT_ALREADY_EXISTS: { status: 409, description: 'A project with this name already exists.' },
  PROJECT_NOT_EMPTY: { status: 409, description: 'The project still has keys or members.' },
  APPROVAL_NOT_FOUND: { status: 404, description: 'No quorum approval token with this id.' },
  APPROVAL_EXPIRED: { status: 409, description: 'The approval token has expired; request the operation again.' },
  APPROVAL_ALREADY_USED: { status: 409, description: 'The approval token has already authorised its operation; a token runs once.' },
  APPROVAL_MISMATCH: { status: 400, description: 'The parameters (or the quorum policy) no longer match what the approval token was issued for.' },
  APPROVAL_INSUFFICIENT: { status: 403, description: 'The token does not yet carry the valid approvals its quorum policy requires.' },
  APPROVAL_SELF_NOT_ALLOWED: { status: 403, description: 'The requester of an operation cannot approve it.' },
  APPROVAL_SIGNATURE_INVALID: { status: 400, description: "The approval signature does not verify with the approver's registered approval key, or none is registered." },
  APPROVAL_NOT_APPROVER: { status: 403, description: 'The caller is not an approver of this operation class in the quorum policy.' },
  APPROVAL_DUPLICATE: { status: 409, description: 'This officer has already approved the token.' },
  QUORUM_REQUIRED: { status: 403, description: 'The quorum policy covers this officer operation: request a quorum token, gather its approvals, and apply it.' },
  APPROVAL_REQUIRED: { status: 403, description: "The key's policy requires approvals for this use: create a key-use request and wait for its approvers." },
  APPROVAL_REJECTED: { status: 409, description: 'A listed approver rejected the key-use request; it will not run.' },
  APPROVAL_SHARE_INVALID: { status: 400, description: "A sealed key's released share is missing, does not decrypt, or does not belong to this request." },
  APPROVER_KEY_MISSING: { status: 409, description: 'A listed approver has not registered the approval (or share encryption) key this needs.' },
  QUORUM_POLICY_MISSING: { status: 409, description: 'No quorum policy covers this operation class; set the policy first.' },
  QUORUM_POLICY_EXISTS: { status: 409, description: 'A quorum policy is already set; changing it needs the current quorum.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No such endpoint.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The endpoint does not accept this HTTP method.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The request body must be application/json.' },
  MALFORMED_REQUEST: { status: 400, description: 'The request body is not valid JSON or does not match the endpoint schema.' },
  BACKUP_NOT_FOUND: { status: 404, description: 'No backup file of this name (or manifest digest) is in the backup directory.' },
  BACKUP_INTEGRITY_FAILED: { status: 422, description: 'The backup file is damaged or was altered: its signature, digest or encryption does not check.' },
  BACKUP_FOREIGN_DOMAIN: { status: 409, description: "The backup was made by another security domain: only a node holding the backup's domain can restore it." },
  BACKUP_TARGET_NOT_EMPTY: { status: 409, description: "A restore in 'empty' mode needs a store that holds no records yet; use 'merge' mode instead." },
  BACKUP_TOO_LARGE_FOR_INLINE: { status: 413, description: 'The backup is larger than an inline answer or request may carry (VSSM generatebackup / restorebackup): use /v1/backups and the backup directory.' },
  NOT_IMPLEMENTED: { status: 501, description: 'The endpoint exists for compatibility but this capability has not landed yet.' },
  CLIENT_UNAVAILABLE: { status: 503, description: 'Client side: the node could not be reached (connection refused or reset, name not resolved).' },
  CLIENT_TIMEOUT: { status: 504, description: "Client side: the node did not answer within the client's timeout." },
  CLIENT_TLS_FAILED: { status: 502, description: "Client side: the TLS handshake failed (the node's certificate is not trusted by the client's CA, or names another host)." },
  CLIENT_PROTOCOL_ERROR: { status: 502, description: 'Client side: the answer was not the JSON the API promises (not a Coffer node, or a proxy in between).' },
  JOIN_REFUSED: { status: 403, description: 'The join request was refused: its attestation evidence did not satisfy the policy (the admitting node audits the precise reason).' },
  JOIN_TIMEOUT: { status: 504, description: 'No unsealed node answered the join request in time: check that one runs an admitter with a join provider.' },
  DATA_DIR_IN_USE: { status: 409, description: 'Another running node holds this data directory.' },
  UPLOAD_NOT_FOUND: { status: 404, description: 'No upload with this id: it is unknown, was removed, or expired before it was completed.' },
  UPLOAD_OFFSET_MISMATCH: { status: 409, description: 'The append does not start where the upload ends; the message gives the current offset: resume from it.' },
  UPLOAD_INCOMPLETE: { status: 409, description: 'The upload holds fewer bytes than its declared size; append the rest, then complete it.' },
  UPLOAD_IN_PROGRESS: { status: 409, description: 'Another request is writing to this upload; wait for it to end, read the offset, then resume.' },
  UPLOAD_ALREADY_COMPLETE: { status: 409, description: 'The upload is complete and takes no more data.' },
  SIGNING_JOB_NOT_FOUND: { status: 404, description: 'No signing job with this id.' },
  SIGNING_JOB_STATE: { status: 409, description: "The signing job's state does not allow this step (or another run of it is in progress)." },
  SIGNING_CHECK_FAILED: { status: 422, description: "A pre-sign check refused the artifact; the job keeps the failing check's name and output." },
  SIGNING_DIGEST_NOT_ALLOWED: { status: 400, description: "The profile does not accept a digest instead of the file, or its format hashes more than the file (JWS, OpenPGP) or signs inside it (Authenticode, JAR)." },
  SIGNING_ARTIFACT_NOT_FOUND: { status: 404, description: 'No retained signed output with this digest: unknown, or past its retention.' },
  SIGNING_PROJECT_NOT_FOUND: { status: 404, description: 'No signing project with this name is visible to the caller (the signer hides projects the caller is not a member of).' },
  SIGNING_PROJECT_EXISTS: { status: 409, description: 'A signing project with this name already exists.' },
  SIGNING_PROJECT_NOT_EMPTY: { status: 409, description: 'The signing project still has profiles; delete them first.' },
  SIGNING_PROFILE_NOT_FOUND: { status: 404, description: 'No signing profile with this name in the project.' },
  SIGNING_MEMBER_NOT_FOUND: { status: 404, description: 'The principal is not a member of this signing project.' },
  MODULE_UNAVAILABLE: { status: 503, description: 'The signing service cannot reach Coffer right now (connection refused, TLS or timeout); retry later.' },
  SIGNING_PROFILE_KEY_INVALID: { status: 400, description: "The profile's key cannot serve it: not in the project's Coffer project, not a signing key, not usable by the signer, or its approval policy differs from the profile's." },
  INTERNAL_ERROR: { status: 500, description: 'An unexpected error; details are in the node log, never in the response.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof CATALOGUE;

export const ERROR_CODES = Object.keys(CATALOGUE) as readonly ErrorCode[];

export class CofferError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CofferError';
    this.code = code;
  }

  get status(): number {
    return CATALOGUE[this.code].status;
  }
}

/** Whether `value` names a code of the catalogue (a code read off the wire, say). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(CATALOGUE, value);
}

export function isCofferError(error: unknown, code?: ErrorCode): error is CofferError {
  return error instanceof CofferError && (code === undefined || error.code === code);
}

/** The one vague error for every decryption or unwrap failure, whatever its reason. */
export function decryptFailed(cause?: unknown): CofferError {
  return new CofferError('CRYPTO_DECRYPT_FAILED', 'decryption failed', cause === undefined ? undefined : { cause });
}

/** Maps anything thrown to a CofferError; unknown errors become INTERNAL_ERROR with a generic message. */
export function toCofferError(error: unknown): CofferError {
  if (error instanceof CofferError) return error;
  return new CofferError('INTERNAL_ERROR', 'internal error', { cause: error });
}
