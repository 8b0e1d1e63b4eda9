// Approval for key use, as the engine sees it: which uses a key's approval policy guards, the digest
// that binds each use to its exact input, the grant (ApprovedUse) that the approval service hands the
// engine for one approved use, and sealed material under a key-approval key (KAK).
import { createCipheriv, createDecipheriv, hash, randomBytes } from 'node:crypto';
import { CofferError } from '../errors.ts';
import type { KeyApprovalPolicy, KeyRecord, KeySeal, KeySpec } from '../key-record.ts';
import { requireName } from './input-validation.ts';

/** The uses an approval policy guards: each waits for M approvers. */
export const GUARDED_USES = ['sign', 'decrypt', 'unwrap', 'export'] as const;
/** Besides the guarded uses, what only the approvers can authorise on a key with an approval policy. */
export const KEY_USES = [...GUARDED_USES, 'rotate', 'change-approvers'] as const;
export type KeyUse = (typeof KEY_USES)[number];

/** A quorum is a handful of people; the bound keeps records and share lists small. */
export const MAX_KEY_APPROVERS = 32;

const KAK_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function isKeyUse(value: unknown): value is KeyUse {
  return typeof value === 'string' && (KEY_USES as readonly string[]).includes(value);
}

function invalid(message: string): CofferError {
  return new CofferError('INVALID_ARGUMENT', message);
}

/** Validates an approval policy as given by a caller: {threshold, approvers, rejectionEnds?, sealed?}. */
export function parseKeyApprovalPolicy(value: unknown): KeyApprovalPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('approval must be an object');
  const { threshold, approvers, rejectionEnds, sealed, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid('approval has unknown fields');
  if (!Array.isArray(approvers) || approvers.length === 0 || approvers.length > MAX_KEY_APPROVERS) {
    throw invalid(`approval.approvers must list 1 to ${MAX_KEY_APPROVERS} principals`);
  }
  const names: string[] = [];
  for (const name of approvers) {
    requireName(name, 'approver');
    if (names.includes(name as string)) throw invalid('approval.approvers lists a principal twice');
    names.push(name as string);
  }
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 1 || threshold > names.length) {
    throw invalid('approval.threshold must be an integer from 1 to the number of approvers');
  }
  if (rejectionEnds !== undefined && typeof rejectionEnds !== 'boolean') throw invalid('approval.rejectionEnds must be true or false');
  if (sealed !== undefined && typeof sealed !== 'boolean') throw invalid('approval.sealed must be true or false');
  return { threshold, approvers: names.sort(), rejectionEnds: rejectionEnds ?? true, sealed: sealed ?? false };
}

/** Sealed material is only useful where some operations need no secret: asymmetric keys (verify, encrypt, public key). */
export function requireSealableSpec(spec: KeySpec): void {
  if (spec === 'AES_256' || spec.startsWith('HMAC_')) {
    throw invalid('only asymmetric keys can be sealed: a sealed symmetric key could not even encrypt without approvals');
  }
}

/**
 * What the key-use service supplies for policies that name approvers: a check that every approver is a
 * live principal with the keys it needs registered, and, for sealed keys, a fresh KAK split M of N among
 * the approvers, each share encrypted to that approver. The engine encrypts the material under the KAK
 * and erases it.
 */
export interface ApprovalHooks {
  requireApprovers(policy: KeyApprovalPolicy): Promise<void>;
  seal(keyId: string, policy: KeyApprovalPolicy): Promise<{ seal: KeySeal; kak: Buffer }>;
}

const hex = (data: string | Uint8Array): string => hash('sha256', data, 'hex');

/** The digests that bind a use request to its exact input (the engine audits the same value as inputDigest). */
export const keyUseDigest = {
  /** As audited for sign: the hex digest itself, or SHA-256 of the message. */
  sign: (input: { message?: Uint8Array; digest?: Uint8Array }): string =>
    input.digest === undefined ? hex(input.message ?? new Uint8Array(0)) : Buffer.from(input.digest).toString('hex'),
  decrypt: (ciphertext: Uint8Array): string => hex(ciphertext),
  unwrap: (wrappedMaterial: Uint8Array): string => hex(wrappedMaterial),
  export: (wrappingKeyId: string, algorithm: string): string => hex(`coffer/key-use/export\u0000${wrappingKeyId}\u0000${algorithm}`),
  rotate: (keyId: string, fromVersion: number): string => hex(`coffer/key-use/rotate\u0000${keyId}\u0000${String(fromVersion)}`),
  changeApprovers: (policy: KeyApprovalPolicy | null): string => hex(`coffer/key-use/change-approvers\u0000${policy === null ? 'none' : JSON.stringify({
    threshold: policy.threshold, approvers: policy.approvers, rejectionEnds: policy.rejectionEnds, sealed: policy.sealed,
  })}`),
} as const;

/**
 * The grant for one approved use: made by the approval service once M approvers signed, carried on
 * the Caller, consumed by the engine once. For a sealed key it holds the key-approval key
 * reconstructed from the released shares, which dispose() erases.
 */
export class ApprovedUse {
  readonly requestId: string;
  readonly keyId: string;
  readonly use: KeyUse;
  readonly keyVersion: number;
  readonly inputDigest: string;
  #kak: Buffer | undefined;
  #consumed = false;

  constructor(fields: { requestId: string; keyId: string; use: KeyUse; keyVersion: number; inputDigest: string }, kak?: Uint8Array) {
    this.requestId = fields.requestId;
    this.keyId = fields.keyId;
    this.use = fields.use;
    this.keyVersion = fields.keyVersion;
    this.inputDigest = fields.inputDigest;
    this.#kak = kak === undefined ? undefined : Buffer.from(kak);
  }

  /** The engine's check at the moment of use: this key, this use, this version, this input, once. */
  consume(keyId: string, use: KeyUse, keyVersion: number, inputDigest: string | undefined): void {
    if (this.keyId !== keyId || this.use !== use) throw approvalRequired();
    if (this.keyVersion !== keyVersion || this.inputDigest !== inputDigest) {
      throw new CofferError('APPROVAL_MISMATCH', 'the use differs from the one approved (input or key version)');
    }
    if (this.#consumed) throw new CofferError('APPROVAL_ALREADY_USED', 'the approved use has already run');
    this.#consumed = true;
  }

  /** The reconstructed key-approval key; only for sealed keys. */
  keyApprovalKey(): Buffer {
    if (this.#kak === undefined) throw new CofferError('APPROVAL_SHARE_INVALID', 'the sealed key needs its approvers’ released shares');
    return this.#kak;
  }

  dispose(): void {
    this.#kak?.fill(0);
    this.#kak = undefined;
  }
}

export function approvalRequired(): CofferError {
  return new CofferError('APPROVAL_REQUIRED', "the key's policy requires approvals for this use");
}

/**
 * The gate every guarded use passes: keys without an approval policy pass freely; otherwise only the
 * caller's grant for exactly this use does, and it is spent. Returns the grant (for sealed material).
 */
export function requireApprovedUse(caller: { readonly approval?: ApprovedUse }, record: KeyRecord, use: KeyUse, keyVersion: number, inputDigest: string | undefined): ApprovedUse | undefined {
  if (record.policy.approval === undefined && record.seal === undefined) return undefined;
  const grant = caller.approval;
  if (!(grant instanceof ApprovedUse)) throw approvalRequired();
  grant.consume(record.id, use, keyVersion, inputDigest);
  return grant;
}

function sealAad(keyId: string, version: number): Buffer {
  return Buffer.from(`coffer/sealed-key/v1\u0000${keyId}\u0000${String(version)}`, 'utf8');
}

export function newKeyApprovalKey(): Buffer {
  return randomBytes(KAK_BYTES);
}

/** Encrypts one version's material under the KAK, bound to the key id and version. */
export function sealMaterial(kak: Uint8Array, keyId: string, version: number, material: Uint8Array): Buffer {
  if (kak.length !== KAK_BYTES) throw new CofferError('INTERNAL_ERROR', 'a key-approval key is 32 bytes');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kak, nonce);
  cipher.setAAD(sealAad(keyId, version));
  const body = Buffer.concat([cipher.update(material), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

/** Decrypts sealed material; a wrong KAK (shares that do not belong together) is APPROVAL_SHARE_INVALID. */
export function openSealedMaterial(kak: Uint8Array, keyId: string, version: number, sealed: Uint8Array): Buffer {
  if (kak.length !== KAK_BYTES || sealed.length < NONCE_BYTES + TAG_BYTES + 1) throw shareInvalid();
  try {
    const decipher = createDecipheriv('aes-256-gcm', kak, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(sealAad(keyId, version));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch (error) {
    throw shareInvalid(error);
  }
}

function shareInvalid(cause?: unknown): CofferError {
  return new CofferError('APPROVAL_SHARE_INVALID', 'the released shares do not open the sealed key', cause === undefined ? undefined : { cause });
}
