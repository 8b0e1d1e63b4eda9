// Requests and results of /v1/crypto, in SDK form: bytes in as BytesLike, bytes out as Buffers.
import type { BytesLike } from './bytes.ts';
import type { CofferApiError } from './client-errors.ts';
import type { EncryptionContext } from './api-types.ts';

/** Key references in crypto calls: a key id (uuid) or `project/name`. */
type KeyId = string;

export interface EncryptRequest { readonly keyId: KeyId; readonly plaintext: BytesLike; readonly context?: EncryptionContext; readonly algorithm?: string }
export interface EncryptResult { readonly ciphertext: Buffer; readonly keyId: string; readonly keyVersion: number; readonly algorithm: string }

export interface DecryptRequest {
  readonly ciphertext: BytesLike;
  readonly context?: EncryptionContext;
  /** Refuse unless the ciphertext is under this key (uuid). */
  readonly keyId?: string;
}
export interface DecryptResult { readonly plaintext: Buffer; readonly keyId: string; readonly keyVersion: number; readonly algorithm: string }

export interface ReEncryptRequest {
  readonly ciphertext: BytesLike;
  readonly sourceContext?: EncryptionContext;
  readonly sourceKeyId?: string;
  /** Destination key. */
  readonly keyId: KeyId;
  readonly context?: EncryptionContext;
  readonly algorithm?: string;
}
export interface ReEncryptResult extends EncryptResult { readonly sourceKeyId: string; readonly sourceKeyVersion: number }

export interface DataKeyRequest { readonly keyId: KeyId; readonly bytes?: number; readonly context?: EncryptionContext; readonly withoutPlaintext?: boolean }
export interface DataKeyResult { readonly plaintext?: Buffer; readonly ciphertext: Buffer; readonly keyId: string; readonly keyVersion: number }

export interface SignRequest {
  readonly keyId: KeyId;
  readonly algorithm: string;
  /** Exactly one of message and digest. */
  readonly message?: BytesLike;
  readonly digest?: BytesLike;
  /** ECDSA encoding, DER by default. */
  readonly format?: 'DER' | 'RAW';
}
export interface SignResult { readonly signature: Buffer; readonly keyId: string; readonly keyVersion: number; readonly algorithm: string }

export interface VerifyRequest extends SignRequest { readonly signature: BytesLike; readonly keyVersion?: number }
export interface VerifyResult { readonly valid: boolean; readonly keyId: string; readonly keyVersion?: number }

export interface MacRequest { readonly keyId: KeyId; readonly message: BytesLike; readonly algorithm?: string }
export interface MacResult { readonly mac: Buffer; readonly keyId: string; readonly keyVersion: number }
export interface VerifyMacRequest extends MacRequest { readonly mac: BytesLike }

/** The operations with single and batch forms: request and result types, by route name. */
export interface CryptoOperations {
  readonly encrypt: { readonly request: EncryptRequest; readonly result: EncryptResult };
  readonly decrypt: { readonly request: DecryptRequest; readonly result: DecryptResult };
  readonly 're-encrypt': { readonly request: ReEncryptRequest; readonly result: ReEncryptResult };
  readonly 'data-key': { readonly request: DataKeyRequest; readonly result: DataKeyResult };
  readonly sign: { readonly request: SignRequest; readonly result: SignResult };
  readonly verify: { readonly request: VerifyRequest; readonly result: VerifyResult };
  readonly mac: { readonly request: MacRequest; readonly result: MacResult };
  readonly 'verify-mac': { readonly request: VerifyMacRequest; readonly result: VerifyResult };
}
export type CryptoOperation = keyof CryptoOperations;

/** One item of a batch answer: the single call's result, or that item's own error. */
export type BatchResult<R> = ({ readonly ok: true } & R) | { readonly ok: false; readonly error: CofferApiError };
