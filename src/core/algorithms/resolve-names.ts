// Resolves a caller's string to a known key spec, usage or algorithm name exactly once, at the
// boundary; weak algorithms are refused by name with a message that says so.
import { CofferError } from '../errors.ts';
import { KEY_SPECS, KEY_USAGES, type KeySpec, type KeyUsage } from '../key-record.ts';
import {
  ENCRYPTION_ALGORITHMS, MAC_ALGORITHMS, SIGNING_ALGORITHMS, WRAPPING_ALGORITHMS,
  type EncryptionAlgorithm, type MacAlgorithm, type SigningAlgorithm, type WrappingAlgorithm,
} from './names.ts';

/**
 * Weak primitives, matched as whole words of the upper-cased name with separators unified:
 * SHA-1, MD2/4/5, single and triple DES, RC2/RC4, ECB mode. `SHA_1` must not be followed by a
 * digit, so SHA_128… never matches; `WITH` allows Java-style names such as SHA1withRSA.
 */
const WEAK_PRIMITIVE = /(?:^|_)(?:SHA_?1|MD[245]|DES|DES3|3DES|DESEDE|TDES|TDEA|TRIPLE_?DES|RC[24]|ECB)(?=$|_|WITH)/;
/** RSA PKCS#1 v1.5 encryption (RFC 8017 §7.2) is open to Bleichenbacher-style padding oracles. */
const WEAK_RSA_ENCRYPTION = /(?:^|_)(?:RSAES_PKCS1(?:_V1_5)?|RSA_PKCS_?1?(?:_V1_5)?(?:_PADDING)?)$/;
/** RSA moduli below 2048 bits and curves below 256 bits are refused as key specs. */
const WEAK_KEY_SPEC = /(?:^|_)(?:RSA_?(?:384|512|768|1024|1536)|(?:EC_)?P_?(?:160|192|224)|SECP(?:160|192|224)[RK]1)$/;

const WEAK_MESSAGE = 'algorithm refused as weak (SHA-1, MD5, DES, 3DES, RC4, ECB, RSA PKCS#1 v1.5 encryption and short keys are not supported)';

function normalise(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

function requireString(name: unknown, what: string): string {
  if (typeof name !== 'string') throw new CofferError('INVALID_ARGUMENT', `${what} must be a string`);
  return name;
}

function resolveFrom<T extends string>(known: readonly T[], name: unknown, what: string, weak: readonly RegExp[]): T {
  const text = requireString(name, what);
  if ((known as readonly string[]).includes(text)) return text as T;
  const normalised = normalise(text);
  if (weak.some((pattern) => pattern.test(normalised))) throw new CofferError('UNSUPPORTED_ALGORITHM', WEAK_MESSAGE);
  // The caller's text is not echoed: it is unbounded and may be anything.
  throw new CofferError('UNSUPPORTED_ALGORITHM', `unsupported ${what}; supported: ${known.join(', ')}`);
}

export function resolveKeySpec(name: unknown): KeySpec {
  return resolveFrom(KEY_SPECS, name, 'key spec', [WEAK_PRIMITIVE, WEAK_KEY_SPEC]);
}

export function resolveKeyUsage(name: unknown): KeyUsage {
  const text = requireString(name, 'key usage');
  if ((KEY_USAGES as readonly string[]).includes(text)) return text as KeyUsage;
  throw new CofferError('INVALID_ARGUMENT', `unknown key usage; supported: ${KEY_USAGES.join(', ')}`);
}

export function resolveSigningAlgorithm(name: unknown): SigningAlgorithm {
  return resolveFrom(SIGNING_ALGORITHMS, name, 'signing algorithm', [WEAK_PRIMITIVE]);
}

export function resolveEncryptionAlgorithm(name: unknown): EncryptionAlgorithm {
  return resolveFrom(ENCRYPTION_ALGORITHMS, name, 'encryption algorithm', [WEAK_PRIMITIVE, WEAK_RSA_ENCRYPTION]);
}

export function resolveWrappingAlgorithm(name: unknown): WrappingAlgorithm {
  return resolveFrom(WRAPPING_ALGORITHMS, name, 'wrapping algorithm', [WEAK_PRIMITIVE, WEAK_RSA_ENCRYPTION]);
}

export function resolveMacAlgorithm(name: unknown): MacAlgorithm {
  return resolveFrom(MAC_ALGORITHMS, name, 'MAC algorithm', [WEAK_PRIMITIVE]);
}
