// The TypeScript SDK: public surface only.
export { CofferClient, DEFAULT_TIMEOUT_MS, type CofferClientOptions } from './coffer-client.ts';
export { CofferApiError } from './client-errors.ts';
export { parseKeyRef } from './key-api.ts';
export { joinPem, parseCaRef } from './pki-api.ts';
export { buildLocalCsr, newLocalKeyWithCsr } from './local-csr.ts';
export { buildTimeStampQuery, checkTimeStampReply, isTimeStampHash, timeStampDigest, timeStampTokenOf, TIME_STAMP_HASHES } from './tsa-api.ts';
export type { BytesLike } from './bytes.ts';
export type { PemSource } from './credentials.ts';
export type * from './api-types.ts';
export type * from './crypto-types.ts';
export type { AuthApi, PrincipalApi, ProjectApi } from './identity-api.ts';
export type { ClusterApi } from './cluster-api.ts';
export type { BackupApi, BackupManifest, BackupSummary, RestoreMode, RestoreSummary } from './backup-api.ts';
export type { CryptoApi } from './crypto-api.ts';
export type { DomainApi } from './domain-api.ts';
export type { ExportedKey, ExportKeyRequest, ImportToken, ImportTokenRequest, KeyApi, PublicKeyImportRequest, TokenImportRequest } from './key-api.ts';
export type { QuorumApi } from './quorum-api.ts';
export type {
  AltNamesInput, CaListQuery, CaProfileInput, CaRef, CaView, CreateCaRequest, CrlView, CsrRequest, CsrView, IssueForKeyRequest, IssueRequest, IssuedView,
  KeyCertificateView, PkiApi, Revocation, RevocationReason,
} from './pki-api.ts';
export type { TimeStampHash, TimeStampInput, TimeStampQueryOptions, TimeStampResult, TsaApi } from './tsa-api.ts';
export { keyUseRequestDigest } from '../approvals/key-use/approver-side.ts';
export { x25519PublicKeyText, type ApproverKeys, type ApproverPublicKeys, type KeyUseApi } from './key-use-api.ts';
/**
 * For principal.password-reset (and principal.create with a password): the parameters that bind the
 * password (a fresh salt and a slow scrypt digest), so the password is never in a token; give it
 * again to `quorum.apply` as `{ secret: { password } }`.
 */
export { bindQuorumPassword } from '../approvals/quorum/index.ts';
