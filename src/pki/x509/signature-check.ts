// Checks a signature over DER made by someone else (a CSR's proof of possession, a certificate in a
// chain) with node:crypto, for the algorithms Coffer itself signs with.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';

/** OID → the hash node:crypto takes (null: the algorithm hashes internally, EdDSA and ML-DSA). */
const VERIFIERS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '2.16.840.1.101.3.4.3.17': null, '2.16.840.1.101.3.4.3.18': null, '2.16.840.1.101.3.4.3.19': null,
};

export function publicKeyFromSpki(der: Uint8Array, what: string): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', `${what} holds a public key that cannot be read`, { cause });
  }
}

/**
 * Whether `signature` over `data` verifies under `publicKey` with `algorithm`. An algorithm outside
 * Coffer's table (SHA-1, MD5, RSA-PSS with parameters…) is UNSUPPORTED_ALGORITHM, not "invalid".
 */
export function checkSignature(algorithm: AlgorithmIdentifier, publicKey: KeyObject, data: Uint8Array, signature: Uint8Array, what: string): boolean {
  if (!Object.hasOwn(VERIFIERS, algorithm.algorithm)) {
    throw new CofferError('UNSUPPORTED_ALGORITHM', `${what} is signed with ${algorithm.algorithm}, which Coffer does not accept (SHA-2 RSA PKCS#1 v1.5, ECDSA, Ed25519 and ML-DSA are)`);
  }
  const hash = VERIFIERS[algorithm.algorithm] ?? null;
  try {
    return verify(hash, data, publicKey, signature);
  } catch {
    // A key of another type than the algorithm (an EC key under an RSA OID…) or a garbled signature.
    return false;
  }
}
