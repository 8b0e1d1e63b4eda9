// Cryptographic operations on stored keys: encrypt/decrypt with self-describing ciphertexts,
// sign/verify (message or digest), MACs, data keys, key wrapping, public keys and random bytes.
import { createPublicKey, randomBytes } from 'node:crypto';
import {
  computeMac, decrypt, decryptAsync, encrypt, publicKeySpki, resolveEncryptionAlgorithm, resolveMacAlgorithm,
  resolveSigningAlgorithm, resolveWrappingAlgorithm, signAsync, specInfo, verify, verifyMac, wrap,
  checkOperation,
} from '../algorithms/index.ts';
import type { EncryptionAlgorithm, SignatureFormat, SignInput, SigningAlgorithm } from '../algorithms/names.ts';
import { CofferError, decryptFailed } from '../errors.ts';
import { authorizeRandom } from './authorization.ts';
import { approvalRequired, keyUseDigest, openSealedMaterial, requireApprovedUse, type ApprovedUse } from './approved-use.ts';
import type { KeyRecord, KeyVersionRecord } from '../key-record.ts';
import type { Caller } from './caller.ts';
import { decodeHeader, encodeHeader } from './ciphertext-format.ts';
import { missingMaterial, sha256Hex, type AuditScope, type EngineContext, type KeyRef } from './engine-context.ts';
import { parseWrappingPublicKey, REPLICA_FORMAT, type KeyReplica } from './key-transport.ts';
import { canonicalContext, requireBytes, requireInteger } from './input-validation.ts';
import { acceptedVersions, requireUsable, selectDecryptVersion, selectVersion } from './key-state.ts';

const MAX_PLAINTEXT = 4 * 1024 * 1024;
const MAX_CIPHERTEXT = MAX_PLAINTEXT + 1024;
const MAX_MESSAGE = 16 * 1024 * 1024;
const MAX_SIGNATURE = 8192;
const MAX_MAC_MESSAGE = 16 * 1024 * 1024;
const MAX_RANDOM = 1024;

export interface EncryptResult { readonly ciphertext: Buffer; readonly keyId: string; readonly keyVersion: number; readonly algorithm: EncryptionAlgorithm }
export interface DecryptResult { readonly plaintext: Buffer; readonly keyId: string; readonly keyVersion: number; readonly algorithm: EncryptionAlgorithm }
export interface SignResult { readonly signature: Buffer; readonly keyId: string; readonly keyVersion: number; readonly algorithm: SigningAlgorithm }
export interface VerifyResult { readonly valid: boolean; readonly keyId: string; readonly keyVersion?: number }
export interface MacResult { readonly mac: Buffer; readonly keyId: string; readonly keyVersion: number }
export interface DataKeyResult { readonly plaintext?: Buffer; readonly ciphertext: Buffer; readonly keyId: string; readonly keyVersion: number }
export interface WrapResult { readonly wrappedKey: Buffer; readonly wrappingKeyId: string; readonly wrappingKeyVersion: number; readonly targetKeyId: string; readonly targetKeyVersion: number }
export interface PublicKeyExportResult { readonly wrappedKey: Buffer; readonly wrappingKeyFingerprint: string; readonly algorithm: string; readonly targetKeyId: string; readonly targetKeyVersion: number }
export interface PublicKeyResult { readonly keyId: string; readonly keyVersion: number; readonly spec: string; readonly der: Buffer; readonly pem: string }

export interface SignRequest {
  readonly algorithm: string;
  /** Exactly one of message and digest. */
  readonly message?: Uint8Array;
  readonly digest?: Uint8Array;
  readonly format?: SignatureFormat;
}

export interface VerifyRequest extends SignRequest {
  readonly signature: Uint8Array;
  /** Without it every version from the newest down to minDecryptVersion is tried. */
  readonly keyVersion?: number;
}

function signInput(request: SignRequest, scope: AuditScope): SignInput {
  if ((request.message === undefined) === (request.digest === undefined)) {
    throw new CofferError('INVALID_ARGUMENT', 'give exactly one of message and digest');
  }
  if (request.message !== undefined) {
    const message = requireBytes(request.message, 'message', MAX_MESSAGE);
    scope.inputDigest = sha256Hex(message);
    return { type: 'MESSAGE', message };
  }
  const digest = requireBytes(request.digest, 'digest', 64, 1);
  scope.inputDigest = Buffer.from(digest).toString('hex');
  return { type: 'DIGEST', digest };
}

function signatureFormat(value: unknown): SignatureFormat | undefined {
  if (value === undefined || value === 'DER' || value === 'RAW') return value;
  throw new CofferError('INVALID_ARGUMENT', "signature format must be 'DER' or 'RAW'");
}

export class CryptoOperations {
  readonly #ctx: EngineContext;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Encrypts under the key's newest version. AES binds the header and encryption context as AAD. */
  encrypt(caller: Caller, ref: KeyRef, plaintext: Uint8Array, options: { context?: Readonly<Record<string, string>>; algorithm?: string } = {}): Promise<EncryptResult> {
    return this.#ctx.audited(caller, 'crypto.encrypt', {}, async (scope) => {
      requireBytes(plaintext, 'plaintext', MAX_PLAINTEXT);
      const context = canonicalContext(options.context);
      const { record } = await this.#ctx.load(caller, ref, 'use', scope);
      requireUsable(record);
      const algorithm = options.algorithm === undefined ? specInfo(record.spec).encryptionAlgorithms[0] : resolveEncryptionAlgorithm(options.algorithm);
      if (algorithm === undefined) throw new CofferError('KEY_USAGE_NOT_ALLOWED', 'the key cannot encrypt');
      checkOperation(record.spec, record.usage, 'ENCRYPT', algorithm);
      const version = selectVersion(record, record.currentVersion);
      scope.keyVersion = version.version;
      const header = encodeHeader({ algorithm, keyId: record.id, keyVersion: version.version });
      const prepared = this.#ctx.preparedPublic(record, version);
      const body = algorithm === 'AES_256_GCM'
        ? encrypt(prepared, algorithm, plaintext, Buffer.concat([header, context]))
        : rsaEncrypt(prepared, algorithm, plaintext, context);
      const ciphertext = Buffer.concat([header, body]);
      scope.inputDigest = sha256Hex(ciphertext);
      return { ciphertext, keyId: record.id, keyVersion: version.version, algorithm };
    });
  }

  /** Decrypts a Coffer ciphertext; key and version come from its header. Every failure is CRYPTO_DECRYPT_FAILED. */
  decrypt(caller: Caller, ciphertext: Uint8Array, options: { context?: Readonly<Record<string, string>>; keyId?: string } = {}): Promise<DecryptResult> {
    return this.#ctx.audited(caller, 'crypto.decrypt', {}, async (scope) => {
      requireBytes(ciphertext, 'ciphertext', MAX_CIPHERTEXT, 1);
      scope.inputDigest = sha256Hex(ciphertext);
      const context = canonicalContext(options.context);
      const { header, headerBytes, payload } = decodeHeader(ciphertext);
      if (options.keyId !== undefined && options.keyId !== header.keyId) throw decryptFailed();
      let record;
      try {
        ({ record } = await this.#ctx.load(caller, header.keyId, 'use', scope));
      } catch (error) {
        // A header naming a key that does not exist is an altered ciphertext, nothing more.
        if (error instanceof CofferError && error.code === 'KEY_NOT_FOUND') throw decryptFailed();
        throw error;
      }
      requireUsable(record);
      checkOperation(record.spec, record.usage, 'DECRYPT', header.algorithm);
      scope.keyVersion = header.keyVersion;
      let version;
      try {
        version = selectDecryptVersion(record, header.keyVersion);
      } catch (error) {
        if (error instanceof CofferError && error.code === 'KEY_VERSION_NOT_FOUND') throw decryptFailed();
        throw error;
      }
      const grant = requireApprovedUse(caller, record, 'decrypt', version.version, scope.inputDigest);
      const prepared = this.#ctx.prepared(record, version, grant);
      const plaintext = header.algorithm === 'AES_256_GCM'
        ? decrypt(prepared, header.algorithm, payload, Buffer.concat([headerBytes, context]))
        : await rsaDecrypt(prepared, header.algorithm, payload, context);
      return { plaintext, keyId: record.id, keyVersion: version.version, algorithm: header.algorithm };
    });
  }

  sign(caller: Caller, ref: KeyRef, request: SignRequest): Promise<SignResult> {
    return this.#ctx.audited(caller, 'crypto.sign', {}, async (scope) => {
      const input = signInput(request, scope);
      const algorithm = resolveSigningAlgorithm(request.algorithm);
      const format = signatureFormat(request.format);
      const { record } = await this.#ctx.load(caller, ref, 'use', scope);
      requireUsable(record);
      checkOperation(record.spec, record.usage, 'SIGN', algorithm);
      const version = selectVersion(record, record.currentVersion);
      scope.keyVersion = version.version;
      const grant = requireApprovedUse(caller, record, 'sign', version.version, scope.inputDigest);
      // On libuv's thread pool for message signatures (see signAsync): the event loop serves others meanwhile.
      const signature = await signAsync(this.#ctx.prepared(record, version, grant), algorithm, input, format);
      return { signature, keyId: record.id, keyVersion: version.version, algorithm };
    });
  }

  verify(caller: Caller, ref: KeyRef, request: VerifyRequest): Promise<VerifyResult> {
    return this.#ctx.audited(caller, 'crypto.verify', {}, async (scope) => {
      const input = signInput(request, scope);
      const algorithm = resolveSigningAlgorithm(request.algorithm);
      const format = signatureFormat(request.format);
      const signature = requireBytes(request.signature, 'signature', MAX_SIGNATURE);
      const { record } = await this.#ctx.load(caller, ref, 'use', scope);
      requireUsable(record);
      checkOperation(record.spec, record.usage, 'VERIFY', algorithm);
      const candidates = request.keyVersion === undefined
        ? acceptedVersions(record)
        : [selectDecryptVersion(record, requireInteger(request.keyVersion, 'keyVersion', 1, 2 ** 31))];
      for (const version of candidates) {
        if (verify(this.#ctx.preparedPublic(record, version), algorithm, input, signature, format)) {
          scope.keyVersion = version.version;
          return { valid: true, keyId: record.id, keyVersion: version.version };
        }
      }
      scope.detail = { valid: false };
      return { valid: false, keyId: record.id };
    });
  }

  generateMac(caller: Caller, ref: KeyRef, message: Uint8Array, options: { algorithm?: string } = {}): Promise<MacResult> {
    return this.#ctx.audited(caller, 'crypto.generate-mac', {}, async (scope) => {
      requireBytes(message, 'message', MAX_MAC_MESSAGE);
      const { record } = await this.#ctx.load(caller, ref, 'use', scope);
      requireUsable(record);
      const algorithm = this.#macAlgorithm(record.spec, options.algorithm);
      checkOperation(record.spec, record.usage, 'GENERATE_MAC', algorithm);
      const version = selectVersion(record, record.currentVersion);
      scope.keyVersion = version.version;
      return { mac: computeMac(this.#ctx.prepared(record, version), algorithm, message), keyId: record.id, keyVersion: version.version };
    });
  }

  verifyMac(caller: Caller, ref: KeyRef, message: Uint8Array, mac: Uint8Array, options: { algorithm?: string } = {}): Promise<VerifyResult> {
    return this.#ctx.audited(caller, 'crypto.verify-mac', {}, async (scope) => {
      requireBytes(message, 'message', MAX_MAC_MESSAGE);
      requireBytes(mac, 'mac', 64);
      const { record } = await this.#ctx.load(caller, ref, 'use', scope);
      requireUsable(record);
      const algorithm = this.#macAlgorithm(record.spec, options.algorithm);
      checkOperation(record.spec, record.usage, 'VERIFY_MAC', algorithm);
      for (const version of acceptedVersions(record)) {
        if (verifyMac(this.#ctx.prepared(record, version), algorithm, message, mac)) {
          scope.keyVersion = version.version;
          return { valid: true, keyId: record.id, keyVersion: version.version };
        }
      }
      scope.detail = { valid: false };
      return { valid: false, keyId: record.id };
    });
  }

  #macAlgorithm(spec: Parameters<typeof specInfo>[0], requested: string | undefined) {
    if (requested !== undefined) return resolveMacAlgorithm(requested);
    const algorithm = specInfo(spec).macAlgorithm;
    if (algorithm === undefined) throw new CofferError('KEY_USAGE_NOT_ALLOWED', 'the key cannot compute MACs');
    return algorithm;
  }

  /** A fresh data key for envelope encryption: its plaintext (unless withoutPlaintext) and a Coffer ciphertext of it. */
  generateDataKey(caller: Caller, ref: KeyRef, options: { bytes?: number; context?: Readonly<Record<string, string>>; withoutPlaintext?: boolean } = {}): Promise<DataKeyResult> {
    return this.#ctx.audited(caller, 'crypto.generate-data-key', {}, async (scope) => {
      const length = options.bytes === undefined ? 32 : requireInteger(options.bytes, 'bytes', 16, 64);
      const context = canonicalContext(options.context);
      const { record } = await this.#ctx.load(caller, ref, 'use', scope);
      requireUsable(record);
      checkOperation(record.spec, record.usage, 'ENCRYPT', 'AES_256_GCM');
      const version = selectVersion(record, record.currentVersion);
      scope.keyVersion = version.version;
      const plaintext = randomBytes(length);
      const header = encodeHeader({ algorithm: 'AES_256_GCM', keyId: record.id, keyVersion: version.version });
      const body = encrypt(this.#ctx.prepared(record, version), 'AES_256_GCM', plaintext, Buffer.concat([header, context]));
      const ciphertext = Buffer.concat([header, body]);
      scope.inputDigest = sha256Hex(ciphertext);
      if (options.withoutPlaintext === true) {
        plaintext.fill(0);
        return { ciphertext, keyId: record.id, keyVersion: version.version };
      }
      return { plaintext, ciphertext, keyId: record.id, keyVersion: version.version };
    });
  }

  /**
   * Exports an exportable key's version (default: the current one) wrapped under a WRAP_UNWRAP key.
   * A key with an approval policy needs a grant for exactly this wrapping key and algorithm, which
   * binds its current version: any other version is APPROVAL_MISMATCH.
   */
  wrapKey(caller: Caller, wrappingRef: KeyRef, targetRef: KeyRef, options: { algorithm: string; version?: number }): Promise<WrapResult> {
    return this.#ctx.audited(caller, 'crypto.wrap-key', {}, async (scope) => {
      const algorithm = resolveWrappingAlgorithm(options.algorithm);
      const target = await this.#exportTarget(caller, targetRef, scope);
      const { record } = await this.#ctx.load(caller, wrappingRef, 'use', scope);
      requireUsable(record);
      checkOperation(record.spec, record.usage, 'WRAP', algorithm);
      const version = selectVersion(record, record.currentVersion);
      const targetVersion = selectVersion(target, options.version === undefined ? target.currentVersion : requireInteger(options.version, 'version', 1, 2 ** 31));
      scope.keyVersion = version.version;
      scope.detail = { targetKeyId: target.id, targetKeyVersion: targetVersion.version };
      scope.inputDigest = keyUseDigest.export(record.id, options.algorithm);
      const grant = requireApprovedUse(caller, target, 'export', targetVersion.version, scope.inputDigest);
      const material = targetMaterial(target, targetVersion, grant);
      try {
        const wrappedKey = wrap(this.#ctx.preparedPublic(record, version), algorithm, material);
        return { wrappedKey, wrappingKeyId: record.id, wrappingKeyVersion: version.version, targetKeyId: target.id, targetKeyVersion: targetVersion.version };
      } finally {
        if (material !== targetVersion.material) material.fill(0);
      }
    });
  }

  /**
   * Exports an exportable key's version wrapped to an RSA public key the caller supplies (an external
   * HSM's or openssl's), with RSA_AES_KEY_WRAP_SHA_256 or (small keys) RSAES_OAEP_SHA_256. The
   * approval digest names the key by `spki:<fingerprint>` in place of a wrapping key id.
   */
  exportToPublicKey(caller: Caller, targetRef: KeyRef, options: { publicKey: string | Uint8Array; algorithm: string; version?: number }): Promise<PublicKeyExportResult> {
    return this.#ctx.audited(caller, 'crypto.export-key', {}, async (scope) => {
      const algorithm = resolveWrappingAlgorithm(options.algorithm);
      if (algorithm === 'AES_KWP') throw new CofferError('INCOMPATIBLE_ALGORITHM', 'a public wrapping key needs RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256');
      const wrapping = parseWrappingPublicKey(options.publicKey);
      const target = await this.#exportTarget(caller, targetRef, scope);
      const targetVersion = selectVersion(target, options.version === undefined ? target.currentVersion : requireInteger(options.version, 'version', 1, 2 ** 31));
      scope.keyVersion = targetVersion.version;
      scope.detail = { wrappingKeyFingerprint: wrapping.fingerprint, algorithm };
      scope.inputDigest = keyUseDigest.export(`spki:${wrapping.fingerprint}`, options.algorithm);
      const grant = requireApprovedUse(caller, target, 'export', targetVersion.version, scope.inputDigest);
      const material = targetMaterial(target, targetVersion, grant);
      try {
        const wrappedKey = wrap(wrapping.prepared, algorithm, material);
        return { wrappedKey, wrappingKeyFingerprint: wrapping.fingerprint, algorithm, targetKeyId: target.id, targetKeyVersion: targetVersion.version };
      } finally {
        if (material !== targetVersion.material) material.fill(0);
      }
    });
  }

  /**
   * Every version of a key, exportable or not, wrapped (RSA_AES_KEY_WRAP_SHA_256) to another cluster's
   * import-token public key. Never offered as a route: only the officer quorum class key.export runs it,
   * once M officers approved the exact key and target fingerprint. Keys under an approval policy stay
   * where they are (APPROVAL_REQUIRED): their approvers' control would not travel with them.
   */
  exportReplica(caller: Caller, targetRef: KeyRef, options: { publicKey: string | Uint8Array; fingerprint: string }): Promise<KeyReplica> {
    return this.#ctx.audited(caller, 'key.export-replica', {}, async (scope) => {
      const wrapping = parseWrappingPublicKey(options.publicKey);
      if (wrapping.fingerprint !== options.fingerprint) throw new CofferError('APPROVAL_MISMATCH', 'the public key is not the one the fingerprint names');
      const { record } = await this.#ctx.load(caller, targetRef, 'manage', scope);
      requireUsable(record);
      if (record.policy.approval !== undefined || record.seal !== undefined) throw approvalRequired();
      scope.keyVersion = record.currentVersion;
      scope.detail = { wrappingKeyFingerprint: wrapping.fingerprint, versions: record.versions.length };
      const versions = record.versions.map((v) => {
        if (v.material === undefined) throw missingMaterial(record, v);
        return { version: v.version, createdAt: v.createdAt, wrappedMaterial: wrap(wrapping.prepared, 'RSA_AES_KEY_WRAP_SHA_256', v.material).toString('base64') };
      });
      return {
        format: REPLICA_FORMAT,
        key: {
          id: record.id, name: record.name, project: record.project, spec: record.spec, usage: record.usage, description: record.description,
          tags: record.tags, currentVersion: record.currentVersion, minDecryptVersion: record.minDecryptVersion,
        },
        wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256',
        wrappingKeyFingerprint: wrapping.fingerprint,
        versions,
      };
    });
  }

  /** The key to export: the caller manages it (owner), it is usable and exportable. */
  async #exportTarget(caller: Caller, targetRef: KeyRef, scope: AuditScope): Promise<KeyRecord> {
    const targetScope: AuditScope = {};
    const target = await this.#ctx.load(caller, targetRef, 'manage', targetScope);
    scope.detail = { targetKeyId: target.record.id };
    requireUsable(target.record);
    if (!target.record.exportable) throw new CofferError('KEY_NOT_EXPORTABLE', 'the key is not exportable');
    return target.record;
  }

  /** The public half (SPKI) of an asymmetric key version, for offline verification or encryption. */
  getPublicKey(caller: Caller, ref: KeyRef, options: { version?: number } = {}): Promise<PublicKeyResult> {
    return this.#ctx.audited(caller, 'key.get-public-key', {}, async (scope) => {
      const { record } = await this.#ctx.load(caller, ref, 'read', scope);
      checkOperation(record.spec, record.usage, 'GET_PUBLIC_KEY');
      if (record.state === 'DESTROYED') throw new CofferError('KEY_DESTROYED', 'the key has been destroyed');
      const version = selectVersion(record, options.version === undefined ? record.currentVersion : requireInteger(options.version, 'version', 1, 2 ** 31));
      scope.keyVersion = version.version;
      const der = version.publicKey === undefined ? publicKeySpki(this.#ctx.prepared(record, version)) : Buffer.from(version.publicKey);
      const pem = createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
      return { keyId: record.id, keyVersion: version.version, spec: record.spec, der, pem };
    });
  }

  /** Random bytes from the platform CSPRNG (1–1024). */
  random(caller: Caller, bytes: number): Promise<Buffer> {
    return this.#ctx.audited(caller, 'crypto.random', {}, (scope) => {
      authorizeRandom(caller);
      const length = requireInteger(bytes, 'bytes', 1, MAX_RANDOM);
      scope.detail = { bytes: length };
      return randomBytes(length);
    });
  }
}

/** The material to export: stored, or opened from its seal with the grant's key-approval key. */
function targetMaterial(record: KeyRecord, version: KeyVersionRecord, grant: ApprovedUse | undefined): Uint8Array {
  if (version.material !== undefined) return version.material;
  if (version.sealedMaterial === undefined) throw missingMaterial(record, version);
  if (grant === undefined) throw new CofferError('APPROVAL_REQUIRED', 'the key is sealed: a use needs its approvers’ released shares');
  return openSealedMaterial(grant.keyApprovalKey(), record.id, version.version, version.sealedMaterial);
}

function rsaEncrypt(prepared: Parameters<typeof encrypt>[0], algorithm: EncryptionAlgorithm, plaintext: Uint8Array, context: Buffer): Buffer {
  // RSA-OAEP has no associated data here; refuse a context rather than silently ignore it.
  if (context.length > 0) throw new CofferError('INVALID_ARGUMENT', 'an encryption context needs a symmetric key');
  return encrypt(prepared, algorithm, plaintext);
}

async function rsaDecrypt(prepared: Parameters<typeof decrypt>[0], algorithm: EncryptionAlgorithm, payload: Uint8Array, context: Buffer): Promise<Buffer> {
  if (context.length > 0) throw decryptFailed();
  return decryptAsync(prepared, algorithm, payload);
}
