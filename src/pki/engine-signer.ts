// A PkiSigner over the key engine: the caller's own rights decide (the engine checks use on every
// signature and audits it), and the version whose public key the structure names is the version
// that signs, or the signature is refused.
import type { SigningAlgorithm } from '../core/algorithms/names.ts';
import type { Caller, KeyEngine, KeyMetadata, KeyRef } from '../core/engine/index.ts';
import { CofferError } from '../core/errors.ts';
import type { PkiSigner } from './pki-signer.ts';

export interface EngineSigner extends PkiSigner {
  readonly metadata: KeyMetadata;
}

/** The signer for the key's current version; KEY_NOT_FOUND / ACCESS_DENIED as the engine decides. */
export async function engineSigner(engine: KeyEngine, caller: Caller, ref: KeyRef): Promise<EngineSigner> {
  const metadata = await engine.keys.describe(caller, ref);
  const publicKey = await engine.crypto.getPublicKey(caller, metadata.id, { version: metadata.currentVersion });
  return {
    metadata,
    keyId: metadata.id,
    keyVersion: publicKey.keyVersion,
    spec: metadata.spec,
    project: metadata.project,
    publicKeyDer: publicKey.der,
    async sign(data: Uint8Array, algorithm: SigningAlgorithm): Promise<Buffer> {
      const result = await engine.crypto.sign(caller, metadata.id, { algorithm, message: data, format: 'DER' });
      // The engine signs with the newest version; a rotation in between would sign under a key the structure does not name.
      if (result.keyVersion !== publicKey.keyVersion) throw new CofferError('STORE_CONFLICT', 'the key was rotated while signing; retry');
      return result.signature;
    },
  };
}

/**
 * The version of the key whose public key (SPKI DER) is `spki`, newest first, reading versions only
 * until one matches (a certificate is usually for the current one); undefined when none does.
 */
export async function keyVersionOf(engine: KeyEngine, caller: Caller, metadata: KeyMetadata, spki: Buffer): Promise<{ version: number } | undefined> {
  const versions = metadata.versions.map((v) => v.version).sort((a, b) => b - a);
  for (const version of versions) {
    if ((await engine.crypto.getPublicKey(caller, metadata.id, { version })).der.equals(spki)) return { version };
  }
  return undefined;
}
