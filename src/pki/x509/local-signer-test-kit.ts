// Tests only: a PkiSigner over a node:crypto key pair, so the PKI's builders can be checked with
// openssl without a running engine (the server's signer goes through the engine instead).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import type { SigningAlgorithm } from '../../core/algorithms/names.ts';
import type { KeySpec } from '../../core/key-record.ts';
import type { PkiSigner } from '../pki-signer.ts';

const HASHES: Partial<Record<SigningAlgorithm, string>> = {
  RSASSA_PKCS1_V1_5_SHA_256: 'sha256', RSASSA_PKCS1_V1_5_SHA_384: 'sha384', RSASSA_PKCS1_V1_5_SHA_512: 'sha512',
  ECDSA_SHA_256: 'sha256', ECDSA_SHA_384: 'sha384', ECDSA_SHA_512: 'sha512',
};

export interface LocalSigner extends PkiSigner {
  readonly privateKey: KeyObject;
  /** Every algorithm asked for, in order, so tests can check what was signed with what. */
  readonly calls: SigningAlgorithm[];
}

export function generateLocalKeyPair(spec: KeySpec): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (spec) {
    case 'RSA_2048': case 'RSA_3072': case 'RSA_4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) });
    case 'EC_P256': return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'EC_P384': return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'EC_P521': return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'EC_SECP256K1': return generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    case 'ED25519': return generateKeyPairSync('ed25519');
    case 'ML_DSA_44': return generateKeyPairSync('ml-dsa-44');
    case 'ML_DSA_65': return generateKeyPairSync('ml-dsa-65');
    case 'ML_DSA_87': return generateKeyPairSync('ml-dsa-87');
    default: throw new Error(`no local key pair for ${spec}`);
  }
}

export function localSigner(spec: KeySpec, project = 'test'): LocalSigner {
  const { privateKey, publicKey } = generateLocalKeyPair(spec);
  const calls: SigningAlgorithm[] = [];
  return {
    keyId: randomUUID(), keyVersion: 1, spec, project, privateKey, calls,
    publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }),
    sign(data: Uint8Array, algorithm: SigningAlgorithm): Promise<Buffer> {
      calls.push(algorithm);
      const hash = HASHES[algorithm] ?? null;
      return Promise.resolve(sign(hash, data, algorithm.startsWith('ECDSA') ? { key: privateKey, dsaEncoding: 'der' } : privateKey));
    },
  };
}
