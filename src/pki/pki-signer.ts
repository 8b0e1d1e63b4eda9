// The one seam between the PKI and Coffer's keys: a signer that names a key version and its public
// key, and signs bytes inside the module. The PKI builds every structure (CSR, certificate, CRL,
// time-stamp token) and hands only the to-be-signed bytes across; no private key ever reaches it.
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CofferError } from '../core/errors.ts';
import type { SigningAlgorithm } from '../core/algorithms/names.ts';
import type { KeySpec } from '../core/key-record.ts';

export interface PkiSigner {
  readonly keyId: string;
  readonly keyVersion: number;
  readonly spec: KeySpec;
  /** The key's project: CAs and certificates belong to it. */
  readonly project: string;
  /** SubjectPublicKeyInfo DER of the version that signs. */
  readonly publicKeyDer: Buffer;
  /** Signs `data` (the whole message, hashed inside the module) with `algorithm`; DER for ECDSA. */
  sign(data: Uint8Array, algorithm: SigningAlgorithm): Promise<Buffer>;
}

export type PkiHash = 'SHA-256' | 'SHA-384' | 'SHA-512';

/** How a key spec signs X.509 and CMS structures. */
export interface PkiSignatureAlgorithm {
  /** Coffer's algorithm name (the engine's table). */
  readonly algorithm: SigningAlgorithm;
  /** signatureAlgorithm OID (RFC 5280 §4.1.1.2, RFC 5758, RFC 8410, FIPS 204 / draft-ietf-lamps-dilithium-certificates). */
  readonly oid: string;
  /** RSA PKCS#1 v1.5 carries an explicit NULL parameter (RFC 4055 §5); ECDSA, EdDSA and ML-DSA none. */
  readonly nullParameters: boolean;
  /** The digest a CMS signer uses for the message digest attribute (RFC 5754, RFC 8419 §3 for Ed25519). */
  readonly digest: PkiHash;
}

const RSA_SHA256: PkiSignatureAlgorithm = { algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', oid: '1.2.840.113549.1.1.11', nullParameters: true, digest: 'SHA-256' };
const RSA_SHA384: PkiSignatureAlgorithm = { algorithm: 'RSASSA_PKCS1_V1_5_SHA_384', oid: '1.2.840.113549.1.1.12', nullParameters: true, digest: 'SHA-384' };
const RSA_SHA512: PkiSignatureAlgorithm = { algorithm: 'RSASSA_PKCS1_V1_5_SHA_512', oid: '1.2.840.113549.1.1.13', nullParameters: true, digest: 'SHA-512' };
const ECDSA_SHA256: PkiSignatureAlgorithm = { algorithm: 'ECDSA_SHA_256', oid: '1.2.840.10045.4.3.2', nullParameters: false, digest: 'SHA-256' };
const ECDSA_SHA384: PkiSignatureAlgorithm = { algorithm: 'ECDSA_SHA_384', oid: '1.2.840.10045.4.3.3', nullParameters: false, digest: 'SHA-384' };
const ECDSA_SHA512: PkiSignatureAlgorithm = { algorithm: 'ECDSA_SHA_512', oid: '1.2.840.10045.4.3.4', nullParameters: false, digest: 'SHA-512' };

/**
 * One signature algorithm per spec, the strength of the key: RSA with SHA-256 up to 3072 bits and
 * SHA-384/512 above (NIST SP 800-57 pairing), ECDSA with the hash of its curve's size. Symmetric
 * specs are absent: they cannot sign certificates.
 */
const BY_SPEC: Partial<Record<KeySpec, PkiSignatureAlgorithm>> = {
  RSA_2048: RSA_SHA256,
  RSA_3072: RSA_SHA384,
  RSA_4096: RSA_SHA512,
  EC_P256: ECDSA_SHA256,
  EC_P384: ECDSA_SHA384,
  EC_P521: ECDSA_SHA512,
  EC_SECP256K1: ECDSA_SHA256,
  ED25519: { algorithm: 'ED25519', oid: '1.3.101.112', nullParameters: false, digest: 'SHA-512' },
  ML_DSA_44: { algorithm: 'ML_DSA', oid: '2.16.840.1.101.3.4.3.17', nullParameters: false, digest: 'SHA-512' },
  ML_DSA_65: { algorithm: 'ML_DSA', oid: '2.16.840.1.101.3.4.3.18', nullParameters: false, digest: 'SHA-512' },
  ML_DSA_87: { algorithm: 'ML_DSA', oid: '2.16.840.1.101.3.4.3.19', nullParameters: false, digest: 'SHA-512' },
};

/** The signature algorithm for a key spec, else KEY_USAGE_NOT_ALLOWED (a symmetric key). */
export function pkiSignatureAlgorithm(spec: KeySpec): PkiSignatureAlgorithm {
  const found = BY_SPEC[spec];
  if (found === undefined) throw new CofferError('KEY_USAGE_NOT_ALLOWED', `a ${spec} key cannot sign certificates or requests`);
  return found;
}

/** The AlgorithmIdentifier for `signature` fields. */
export function signatureAlgorithmIdentifier(algorithm: PkiSignatureAlgorithm): AlgorithmIdentifier {
  return new AlgorithmIdentifier({ algorithm: algorithm.oid, ...(algorithm.nullParameters ? { parameters: NULL_DER } : {}) });
}

/** DER NULL, the parameters of RSA PKCS#1 v1.5 and of the SHA-2 digest identifiers (RFC 5754 §2). */
export const NULL_DER: ArrayBuffer = new Uint8Array([0x05, 0x00]).buffer;

const DIGEST_OIDS: Readonly<Record<PkiHash, string>> = {
  'SHA-256': '2.16.840.1.101.3.4.2.1',
  'SHA-384': '2.16.840.1.101.3.4.2.2',
  'SHA-512': '2.16.840.1.101.3.4.2.3',
};

export function digestOid(hash: PkiHash): string {
  return DIGEST_OIDS[hash];
}

/** The hash named by a digest OID, or undefined for any other (SHA-1 and MD5 included: refused). */
export function hashOfDigestOid(oid: string): PkiHash | undefined {
  for (const [hash, known] of Object.entries(DIGEST_OIDS)) if (known === oid) return hash as PkiHash;
  return undefined;
}

/** Signs `tbs` with the signer's algorithm: the raw signature bits for a BIT STRING. */
export async function signStructure(signer: PkiSigner, tbs: Uint8Array): Promise<{ signature: Buffer; algorithm: PkiSignatureAlgorithm }> {
  const algorithm = pkiSignatureAlgorithm(signer.spec);
  return { signature: await signer.sign(tbs, algorithm.algorithm), algorithm };
}
