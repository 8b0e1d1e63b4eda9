// Certificate requests for keys that never enter Coffer (a TLS client's, a joining node's): the key
// pair is made and the CSR self-signed in this process, so only the public key and the request leave it.
import { createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { SigningAlgorithm } from '../core/algorithms/names.ts';
import { CofferError } from '../core/errors.ts';
import type { KeySpec } from '../core/key-record.ts';
import type { PkiSigner } from './pki-signer.ts';
import { buildCsr, type BuiltCsr, type CsrRequest } from './x509/csr.ts';

/** The key specs a local key may have, from node:crypto's description of it. */
const EC_SPECS: Readonly<Record<string, KeySpec>> = { prime256v1: 'EC_P256', secp384r1: 'EC_P384', secp521r1: 'EC_P521' };
const RSA_SPECS: Readonly<Record<number, KeySpec>> = { 2048: 'RSA_2048', 3072: 'RSA_3072', 4096: 'RSA_4096' };
/** The hash inside each signing algorithm buildCsr may ask for; EdDSA hashes internally (null). */
const HASHES: Partial<Record<SigningAlgorithm, string | null>> = {
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256', RSASSA_PKCS1_V1_5_SHA_384: 'sha384', RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
  ECDSA_SHA_256: 'sha256', ECDSA_SHA_384: 'sha384', ECDSA_SHA_512: 'sha512', ED25519: null,
};

function specOf(privateKey: KeyObject): KeySpec {
  const details = privateKey.asymmetricKeyDetails ?? {};
  const spec = privateKey.asymmetricKeyType === 'ec' ? EC_SPECS[details.namedCurve ?? '']
    : privateKey.asymmetricKeyType === 'rsa' ? RSA_SPECS[details.modulusLength ?? 0]
      : privateKey.asymmetricKeyType === 'ed25519' ? 'ED25519' : undefined;
  if (spec === undefined) throw new CofferError('UNSUPPORTED_ALGORITHM', 'a local key is EC P-256, P-384 or P-521, RSA 2048 to 4096, or Ed25519');
  return spec;
}

/** A PkiSigner over a private key held in this process (buildCsr's only way to sign). */
function processSigner(privateKey: KeyObject): PkiSigner {
  if (privateKey.type !== 'private') throw new CofferError('INVALID_ARGUMENT', 'a local CSR is signed with a private key');
  const spec = specOf(privateKey);
  return {
    // No Coffer key: the id, version and project name nothing and are never sent.
    keyId: '', keyVersion: 0, spec, project: '',
    publicKeyDer: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }),
    sign(data: Uint8Array, algorithm: SigningAlgorithm): Promise<Buffer> {
      const hash = HASHES[algorithm];
      if (hash === undefined) return Promise.reject(new CofferError('UNSUPPORTED_ALGORITHM', `${algorithm} is not available to a local key`));
      // X.509 and PKCS#10 carry ECDSA signatures as a DER Ecdsa-Sig-Value (RFC 3279 §2.2.3).
      return Promise.resolve(sign(hash, data, spec.startsWith('EC_') ? { key: privateKey, dsaEncoding: 'der' } : privateKey));
    },
  };
}

/** A PKCS#10 request for `privateKey`'s public key, self-signed with it here. */
export async function buildLocalCsr(privateKey: KeyObject, request: CsrRequest): Promise<BuiltCsr> {
  // async, so a wrong key is a rejection like every other failure here.
  return buildCsr(processSigner(privateKey), request);
}

/** A new EC P-256 key pair and a CSR for it: the private key as PKCS#8 PEM, for the caller to keep. */
export async function newLocalKeyWithCsr(request: CsrRequest): Promise<{ privateKeyPem: string; csr: BuiltCsr }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const csr = await buildLocalCsr(privateKey, request);
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), csr };
}
