// Key transport shapes shared by export and import: a caller-supplied RSA wrapping public key (SPKI),
// its fingerprint, and the replica bundle that carries every version of a key to another cluster.
import { createPublicKey, hash, type KeyObject } from 'node:crypto';
import { preparePublicKey, type PreparedKey } from '../algorithms/index.ts';
import { CofferError } from '../errors.ts';
import type { KeySpec, KeyUsage } from '../key-record.ts';

/** The RSA sizes a wrapping public key may have: the key specs Coffer itself knows. */
const RSA_SPECS: Readonly<Record<number, KeySpec>> = { 2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096' };
const MAX_PUBLIC_KEY_TEXT = 4096;

/** Hex SHA-256 of a public key's SPKI DER: how a wrapping public key is named in audit and quorum parameters. */
export function spkiFingerprint(spki: Uint8Array): string {
  return hash('sha256', spki, 'hex');
}

export interface WrappingPublicKey {
  readonly prepared: PreparedKey;
  readonly spki: Buffer;
  readonly fingerprint: string;
}

/** An RSA-2048/3072/4096 public key given as SPKI PEM (or DER); anything else is INVALID_ARGUMENT. */
export function parseWrappingPublicKey(input: string | Uint8Array): WrappingPublicKey {
  if (input.length === 0 || input.length > MAX_PUBLIC_KEY_TEXT) throw new CofferError('INVALID_ARGUMENT', 'the wrapping public key must be an SPKI PEM of at most 4096 characters');
  let key: KeyObject;
  try {
    key = typeof input === 'string' ? createPublicKey({ key: input, format: 'pem' }) : createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', 'the wrapping public key is not an SPKI public key', { cause: error });
  }
  const bits = key.asymmetricKeyType === 'rsa' ? key.asymmetricKeyDetails?.modulusLength : undefined;
  const spec = bits === undefined ? undefined : RSA_SPECS[bits];
  if (spec === undefined) throw new CofferError('INVALID_ARGUMENT', 'the wrapping public key must be an RSA-2048, 3072 or 4096 key');
  const spki = key.export({ type: 'spki', format: 'der' });
  return { prepared: preparePublicKey(spec, spki), spki, fingerprint: spkiFingerprint(spki) };
}

/** Version 1 of the replica format: every version of one key, each wrapped to the target's public key. */
export const REPLICA_FORMAT = 'coffer-key-replica/v1';

export interface KeyReplica {
  readonly format: typeof REPLICA_FORMAT;
  readonly key: {
    readonly id: string;
    readonly name: string;
    readonly project: string;
    readonly spec: KeySpec;
    readonly usage: KeyUsage;
    readonly description: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly currentVersion: number;
    readonly minDecryptVersion: number;
  };
  readonly wrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256';
  /** The target's import-token public key the versions are wrapped to. */
  readonly wrappingKeyFingerprint: string;
  readonly versions: readonly { readonly version: number; readonly createdAt: string; readonly wrappedMaterial: string }[];
}
