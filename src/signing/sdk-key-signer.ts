// A KeySigner over the SDK: the signing service reaches the module as any builder does, through a
// CofferClient and the caller's own credentials. The key's current version, its public key and the
// certificates attached to that version are read once; every signature is checked to come from
// that version (a rotation in between is STORE_CONFLICT: retry with a fresh signer).
import { decodePemBlocks } from '../pki/pem-blocks.ts';
import type { SigningAlgorithm } from '../core/algorithms/names.ts';
import { KEY_SPECS, type KeySpec } from '../core/key-record.ts';
import { CofferError } from '../core/errors.ts';
import type { CofferClient, KeyRef } from '../client/index.ts';
import { MAX_CHAIN_LENGTH } from '../pki/certificate-chain.ts';
import type { KeySigner, SignInput } from './formats/format-signer.ts';

function keySpecOf(spec: string): KeySpec {
  const found = KEY_SPECS.find((known) => known === spec);
  if (found === undefined) throw new CofferError('UNSUPPORTED_ALGORITHM', `the node reported an unknown key spec ${spec.slice(0, 32)}`);
  return found;
}

/** The signer for the key's current version, with the newest certificate attached to that version (if any). */
export async function sdkKeySigner(client: CofferClient, key: KeyRef): Promise<KeySigner> {
  const metadata = await client.keys.get(key);
  const publicKey = await client.keys.publicKey(metadata.id, metadata.currentVersion);
  const attached = (await client.pki.listCertificates(metadata.id)).filter((certificate) => certificate.keyVersion === publicKey.keyVersion);
  const newest = attached[0];
  const certificates = newest === undefined ? undefined : decodePemBlocks(newest.pem, 'CERTIFICATE', 'the attached certificate', MAX_CHAIN_LENGTH);
  const versionCreated = metadata.versions.find((version) => version.version === publicKey.keyVersion)?.createdAt;
  return {
    keyId: metadata.id,
    keyVersion: publicKey.keyVersion,
    ...(versionCreated === undefined ? {} : { createdAt: new Date(versionCreated) }),
    spec: keySpecOf(metadata.spec),
    publicKeyDer: publicKey.der,
    ...(certificates === undefined ? {} : { certificates }),
    async sign(algorithm: SigningAlgorithm, input: SignInput): Promise<Buffer> {
      const result = await client.crypto.sign({ keyId: metadata.id, algorithm, ...input });
      if (result.keyVersion !== publicKey.keyVersion) throw new CofferError('STORE_CONFLICT', 'the key was rotated while signing; retry');
      return result.signature;
    },
  };
}
