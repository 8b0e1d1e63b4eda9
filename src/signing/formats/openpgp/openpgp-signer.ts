// The openpgp format: a detached, ASCII-armoured OpenPGP v4 signature over the artifact as binary
// data (RFC 4880 §5.2, type 0x00), the kind `gpg --verify file.asc file` checks.
import { CofferError } from '../../../core/errors.ts';
import { checkArtifactDigest } from '../algorithm-choice.ts';
import type { ArtifactDigest, FormatOptions, FormatSigner, HashPlan, KeySigner, SignedOutput } from '../format-signer.ts';
import { armor } from './armor.ts';
import { keyCreationTime, openpgpKey, openpgpScheme, type OpenPgpKey, type OpenPgpScheme } from './openpgp-key.ts';
import { openpgpSeconds } from './packet-encoding.ts';
import { SIGNATURE_TYPE, signatureTemplate, signaturePacket, type SignatureTemplate } from './signature-packet.ts';

interface OpenPgpPlan {
  readonly scheme: OpenPgpScheme;
  readonly template: SignatureTemplate;
}

/**
 * The signature's creation time, in seconds: options.signingTime, required, because it is hashed
 * after the artifact (in the trailer) and hashPlan and sign must put the same second there; a
 * default of "now" in each could straddle a second and make a signature that never verifies.
 */
export function signatureSeconds(key: OpenPgpKey, signingTime: Date | undefined): number {
  if (signingTime === undefined) throw new CofferError('INVALID_ARGUMENT', 'the openpgp format needs options.signingTime, the same in hashPlan and sign');
  const seconds = openpgpSeconds(signingTime, 'the signing time');
  // gpg refuses a signature older than its key ("public key is newer than the signature").
  if (seconds < key.createdSeconds) throw new CofferError('INVALID_ARGUMENT', 'the signing time is before the key version was created');
  return seconds;
}

/** The one place the signature's fixed part is made, for hashPlan and for sign. */
function planFor(signer: KeySigner, options?: FormatOptions): OpenPgpPlan {
  const scheme = openpgpScheme(signer, options);
  const key = openpgpKey(signer, keyCreationTime(signer));
  return { scheme, template: signatureTemplate(SIGNATURE_TYPE.binary, key, scheme, signatureSeconds(key, options?.signingTime)) };
}

export const openpgpSigner: FormatSigner = {
  format: 'openpgp',
  output: 'detached',

  /** A v4 signature hashes the data, then its own trailer (RFC 4880 §5.2.4): the caller hashes file ‖ suffix. */
  hashPlan(signer: KeySigner, options?: FormatOptions): HashPlan {
    const { scheme, template } = planFor(signer, options);
    return { hash: scheme.hash, suffix: template.trailer };
  },

  async sign(artifact: ArtifactDigest, signer: KeySigner, options?: FormatOptions): Promise<SignedOutput> {
    const { scheme, template } = planFor(signer, options);
    checkArtifactDigest(artifact, scheme.hash);
    const signature = await signaturePacket(template, scheme, signer, artifact.digest);
    return { bytes: Buffer.from(armor('PGP SIGNATURE', signature), 'ascii'), mediaType: 'application/pgp-signature', suffix: '.asc', algorithm: scheme.algorithm };
  },
};
