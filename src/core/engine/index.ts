export { KeyEngine, type KeyEngineOptions } from './key-engine.ts';
export { KeyManager, MIN_DELETION_DAYS, MAX_DELETION_DAYS, type CreateKeyInput, type GranteeCheck, type ImportKeyInput, type OpenedImportToken, type TokenImportInput, type UpdateKeyInput } from './key-manager.ts';
export {
  CryptoOperations, type DataKeyResult, type DecryptResult, type EncryptResult, type MacResult, type PublicKeyResult,
  type PublicKeyExportResult, type SignRequest, type SignResult, type VerifyRequest, type VerifyResult, type WrapResult,
} from './crypto-operations.ts';
export type { KeyRef } from './engine-context.ts';
export type { KeyMetadata } from './key-metadata.ts';
export { ROLES, type Caller, type Role } from './caller.ts';
export { HEADER_BYTES as CIPHERTEXT_HEADER_BYTES, encodeHeader as encodeCiphertextHeader, type CiphertextHeader } from './ciphertext-format.ts';
export {
  ApprovedUse, GUARDED_USES, KEY_USES, MAX_KEY_APPROVERS, isKeyUse, keyUseDigest, newKeyApprovalKey, parseKeyApprovalPolicy,
  type ApprovalHooks, type KeyUse,
} from './approved-use.ts';
export { parseWrappingPublicKey, REPLICA_FORMAT, spkiFingerprint, type KeyReplica, type WrappingPublicKey } from './key-transport.ts';
