// Tests only: a KeySigner over a key generated in process with the engine's own algorithm code
// (src/core/algorithms), so a format's output can be checked with openssl, gpg or jose without a
// node. End-to-end tests use the SDK signer against a real node instead.
import { randomUUID } from 'node:crypto';
import { generateKeyMaterial, prepareKey, publicKeySpki, sign, specInfo, type SigningAlgorithm } from '../../core/algorithms/index.ts';
import type { KeySpec } from '../../core/key-record.ts';
import type { PkiSigner } from '../../pki/pki-signer.ts';
import type { KeySigner, SignInput } from './format-signer.ts';

export interface LocalKeySigner extends KeySigner {
  /** Every algorithm and input kind asked for, in order. */
  readonly calls: { algorithm: SigningAlgorithm; input: 'digest' | 'message' }[];
  /** The public key (SPKI) in PEM, for openssl and jose to verify with. */
  readonly publicKeyPem: string;
}

export function localKeySigner(spec: KeySpec, certificates?: readonly Buffer[]): LocalKeySigner {
  const material = generateKeyMaterial(spec);
  const prepared = prepareKey(spec, material.material);
  const publicKeyDer = publicKeySpki(prepared);
  const calls: LocalKeySigner['calls'] = [];
  if (specInfo(spec).signingAlgorithms.length === 0) throw new Error(`${spec} cannot sign`);
  return {
    keyId: randomUUID(), keyVersion: 1, spec, publicKeyDer, calls,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${publicKeyDer.toString('base64').match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END PUBLIC KEY-----\n`,
    ...(certificates === undefined ? {} : { certificates }),
    sign(algorithm: SigningAlgorithm, input: SignInput): Promise<Buffer> {
      calls.push({ algorithm, input: 'digest' in input ? 'digest' : 'message' });
      const signInput = 'digest' in input ? { type: 'DIGEST' as const, digest: input.digest } : { type: 'MESSAGE' as const, message: input.message };
      return Promise.resolve(sign(prepared, algorithm, signInput));
    },
  };
}

/** A PkiSigner over a format's key signer, so the key itself can sign a CSR or its own certificate. */
export function pkiSignerOf(key: KeySigner, project = 'test'): PkiSigner {
  return {
    keyId: key.keyId, keyVersion: key.keyVersion, spec: key.spec, project, publicKeyDer: key.publicKeyDer,
    sign: (data, algorithm) => key.sign(algorithm, { message: Buffer.from(data) }),
  };
}
