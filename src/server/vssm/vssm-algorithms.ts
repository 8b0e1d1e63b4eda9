// The one table of VSSM algorithm names, each resolved once to the engine's name; weak names (DES,
// 3DES, ECB, SHA-1, MD5, RSA PKCS#1 v1.5 encryption) are refused as weak, the rest as unsupported.
import { CofferError } from '../../core/errors.ts';
import type { EncryptionAlgorithm, MacAlgorithm, SigningAlgorithm } from '../../core/algorithms/names.ts';

/** Which VSSM endpoint family a name belongs to. */
export type VssmAlgorithmKind = 'symmetric' | 'asymmetric' | 'signature' | 'hmac';

interface EngineNames {
  readonly symmetric: EncryptionAlgorithm;
  readonly asymmetric: EncryptionAlgorithm;
  readonly signature: SigningAlgorithm;
  readonly hmac: MacAlgorithm;
}

export interface VssmAlgorithmRow<K extends VssmAlgorithmKind = VssmAlgorithmKind> {
  /** The name exactly as a VSSM client sends it (matched case-sensitively, as VSSM does). */
  readonly vssm: string;
  readonly kind: K;
  readonly engine: EngineNames[K];
  /** 'vssm': VSSM itself accepts the name; 'coffer': a Coffer extension in VSSM's naming style. */
  readonly origin: 'vssm' | 'coffer';
}

function row<K extends VssmAlgorithmKind>(vssm: string, kind: K, engine: EngineNames[K], origin: 'vssm' | 'coffer'): VssmAlgorithmRow<K> {
  return Object.freeze({ vssm, kind, engine, origin });
}

/** Every name accepted on /REST/v1. VSSM's hash names come from its service: SHA1/SHA256 only. */
export const VSSM_ALGORITHMS: readonly VssmAlgorithmRow[] = Object.freeze([
  row('AES/GCM/NoPadding', 'symmetric', 'AES_256_GCM', 'vssm'),
  row('RSA-OAEP/SHA256', 'asymmetric', 'RSAES_OAEP_SHA_256', 'vssm'),
  row('RSA-OAEP/SHA384', 'asymmetric', 'RSAES_OAEP_SHA_384', 'coffer'),
  row('RSA-OAEP/SHA512', 'asymmetric', 'RSAES_OAEP_SHA_512', 'coffer'),
  row('SHA256withRSA', 'signature', 'RSASSA_PKCS1_V1_5_SHA_256', 'vssm'),
  row('SHA384withRSA', 'signature', 'RSASSA_PKCS1_V1_5_SHA_384', 'coffer'),
  row('SHA512withRSA', 'signature', 'RSASSA_PKCS1_V1_5_SHA_512', 'coffer'),
  row('SHA256withRSA/PSS', 'signature', 'RSASSA_PSS_SHA_256', 'coffer'),
  row('SHA384withRSA/PSS', 'signature', 'RSASSA_PSS_SHA_384', 'coffer'),
  row('SHA512withRSA/PSS', 'signature', 'RSASSA_PSS_SHA_512', 'coffer'),
  row('SHA256withECDSA', 'signature', 'ECDSA_SHA_256', 'vssm'),
  row('SHA384withECDSA', 'signature', 'ECDSA_SHA_384', 'coffer'),
  row('SHA512withECDSA', 'signature', 'ECDSA_SHA_512', 'coffer'),
  row('Ed25519', 'signature', 'ED25519', 'coffer'),
  row('SHA256', 'hmac', 'HMAC_SHA_256', 'vssm'),
  row('SHA384', 'hmac', 'HMAC_SHA_384', 'coffer'),
  row('SHA512', 'hmac', 'HMAC_SHA_512', 'coffer'),
]);

/**
 * Names VSSM accepts that are not weak primitives but that Coffer does not offer, with the reason.
 * AES-CBC and AES-CTR carry no integrity (CBC with PKCS#5 padding is a padding oracle when errors
 * are observable); GCM takes no padding. The engine implements none of them.
 */
const NOT_OFFERED: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  { pattern: /^AES\/(?:CBC|CTR)\/[A-Za-z0-9]+$/, reason: 'unauthenticated AES modes (CBC, CTR) are not offered; use AES/GCM/NoPadding' },
  { pattern: /^AES\/GCM\/(?:PKCS5Padding|PKCS7Padding)$/, reason: 'GCM takes no padding; use AES/GCM/NoPadding' },
];

/**
 * Weak primitives, as whole words of the upper-cased name with separators unified: SHA-1, MD2/4/5,
 * DES and every triple-DES spelling, RC2/RC4, ECB. `SHA_?1` must not run on into a digit (SHA128…).
 */
const WEAK_PART = /(?:^|_)(?:SHA_?1|MD[245]|DES|3DES|DESEDE|DES3|TDES|TDEA|TRIPLE_?DES|RC[24]|ECB)(?=$|_|WITH)|(?:^|_)HMAC(?:SHA_?1|MD5)$|WITH(?:SHA_?1|MD5)(?=$|_)/;
/** RSA PKCS#1 v1.5 encryption (RFC 8017 §7.2): VSSM's plain "RSA", or a JCA PKCS1Padding transformation. */
const WEAK_RSA_ENCRYPTION = /^RSA$|(?:^|_)RSA_(?:ECB_|NONE_)?PKCS1(?:PADDING)?$/;

export const WEAK_MESSAGE = 'algorithm refused as weak (DES, 3DES, ECB, SHA-1, MD5, RC4 and RSA PKCS#1 v1.5 encryption are not supported)';

const KIND_NOUNS: Readonly<Record<VssmAlgorithmKind, string>> = {
  symmetric: 'symmetric cipher',
  asymmetric: 'asymmetric cipher',
  signature: 'signature algorithm',
  hmac: 'HMAC algorithm',
};

function normalise(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** True for names refused as weak, whatever endpoint they are sent to. */
export function isWeakVssmAlgorithm(name: string): boolean {
  const normalised = normalise(name);
  return WEAK_PART.test(normalised) || WEAK_RSA_ENCRYPTION.test(normalised);
}

function supportedNames(kind: VssmAlgorithmKind): string {
  return VSSM_ALGORITHMS.filter((r) => r.kind === kind).map((r) => r.vssm).join(', ');
}

function resolve<K extends VssmAlgorithmKind>(kind: K, name: string): EngineNames[K] {
  if (name === '') throw new CofferError('INVALID_ARGUMENT', `algorithm is required; supported: ${supportedNames(kind)}`);
  const known = VSSM_ALGORITHMS.find((r) => r.vssm === name);
  if (known?.kind === kind) return (known as VssmAlgorithmRow<K>).engine;
  if (isWeakVssmAlgorithm(name)) throw new CofferError('UNSUPPORTED_ALGORITHM', WEAK_MESSAGE);
  const refused = NOT_OFFERED.find((n) => n.pattern.test(name));
  if (refused !== undefined && kind === 'symmetric') throw new CofferError('UNSUPPORTED_ALGORITHM', refused.reason);
  // Only a name from the table is echoed: the caller's text is unbounded and may be anything.
  const what = known === undefined ? `unsupported ${KIND_NOUNS[kind]}` : `${known.vssm} is a ${KIND_NOUNS[known.kind]}, not a ${KIND_NOUNS[kind]}`;
  throw new CofferError('UNSUPPORTED_ALGORITHM', `${what}; supported: ${supportedNames(kind)}`);
}

export function resolveVssmSymmetric(name: string): EncryptionAlgorithm {
  return resolve('symmetric', name);
}

export function resolveVssmAsymmetric(name: string): EncryptionAlgorithm {
  return resolve('asymmetric', name);
}

export function resolveVssmSignature(name: string): SigningAlgorithm {
  return resolve('signature', name);
}

export function resolveVssmHmac(name: string): MacAlgorithm {
  return resolve('hmac', name);
}
