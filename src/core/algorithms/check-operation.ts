// Whether an operation and algorithm fit a key: its usage (fixed at creation) must allow the
// operation, and the algorithm must be one the spec's table row lists for that usage.
import { CofferError } from '../errors.ts';
import type { KeySpec, KeyUsage } from '../key-record.ts';
import {
  resolveEncryptionAlgorithm, resolveMacAlgorithm, resolveSigningAlgorithm, resolveWrappingAlgorithm,
} from './resolve-names.ts';
import { specInfo } from './spec-table.ts';

export type KeyOperation =
  | 'ENCRYPT' | 'DECRYPT' | 'SIGN' | 'VERIFY' | 'GENERATE_MAC' | 'VERIFY_MAC' | 'WRAP' | 'UNWRAP' | 'GET_PUBLIC_KEY';

const OPERATION_USAGE: Readonly<Record<Exclude<KeyOperation, 'GET_PUBLIC_KEY'>, KeyUsage>> = {
  ENCRYPT: 'ENCRYPT_DECRYPT',
  DECRYPT: 'ENCRYPT_DECRYPT',
  SIGN: 'SIGN_VERIFY',
  VERIFY: 'SIGN_VERIFY',
  GENERATE_MAC: 'GENERATE_VERIFY_MAC',
  VERIFY_MAC: 'GENERATE_VERIFY_MAC',
  WRAP: 'WRAP_UNWRAP',
  UNWRAP: 'WRAP_UNWRAP',
};

/** INCOMPATIBLE_ALGORITHM unless `algorithm` is in the spec's list for the usage. */
export function requireAlgorithm<T extends string>(allowed: readonly T[], algorithm: T, spec: KeySpec): void {
  if (!allowed.includes(algorithm)) {
    const supported = allowed.length === 0 ? 'none' : allowed.join(', ');
    throw new CofferError('INCOMPATIBLE_ALGORITHM', `the algorithm does not fit a ${spec} key; it supports: ${supported}`);
  }
}

/**
 * Checks `operation` (and `algorithm`, when given) against a key's spec and usage:
 * INCOMPATIBLE_ALGORITHM when no key of the spec can do the operation (signing with AES, a public
 * key of a symmetric key) or the algorithm does not fit the spec; KEY_USAGE_NOT_ALLOWED when the
 * spec could but this key's usage forbids it; UNSUPPORTED_ALGORITHM for unknown or weak names.
 */
export function checkOperation(spec: KeySpec, usage: KeyUsage, operation: KeyOperation, algorithm?: string): void {
  const info = specInfo(spec);
  if (!info.usages.includes(usage)) throw new CofferError('KEY_USAGE_NOT_ALLOWED', `a ${spec} key cannot have usage ${usage}`);
  if (operation === 'GET_PUBLIC_KEY') {
    if (info.symmetric) throw new CofferError('INCOMPATIBLE_ALGORITHM', 'a symmetric key has no public key');
    return;
  }
  const required = OPERATION_USAGE[operation];
  // An operation no key of this spec can perform is a spec mismatch; one that another usage of
  // the same spec would allow is a usage refusal.
  if (!info.usages.includes(required)) throw new CofferError('INCOMPATIBLE_ALGORITHM', `a ${spec} key cannot ${operation}`);
  if (usage !== required) throw new CofferError('KEY_USAGE_NOT_ALLOWED', `a key with usage ${usage} cannot ${operation}`);
  if (algorithm === undefined) return;
  switch (required) {
    case 'ENCRYPT_DECRYPT': requireAlgorithm(info.encryptionAlgorithms, resolveEncryptionAlgorithm(algorithm), spec); return;
    case 'SIGN_VERIFY': requireAlgorithm(info.signingAlgorithms, resolveSigningAlgorithm(algorithm), spec); return;
    case 'WRAP_UNWRAP': requireAlgorithm(info.wrappingAlgorithms, resolveWrappingAlgorithm(algorithm), spec); return;
    case 'GENERATE_VERIFY_MAC': {
      const mac = resolveMacAlgorithm(algorithm);
      requireAlgorithm(info.macAlgorithm === undefined ? [] : [info.macAlgorithm], mac, spec);
      return;
    }
    case 'DERIVE': return;
  }
}
