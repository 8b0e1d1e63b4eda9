// The v4 signature packet (RFC 4880 §5.2.3) in two halves: the template, fixed before anything is
// hashed (its trailer is what the hash ends with, §5.2.4), and the packet, finished once the module
// has signed the digest. Every signature here names its issuer by fingerprint and key ID.
import { OPENPGP_HASH, type OpenPgpKey, type OpenPgpScheme } from './openpgp-key.ts';
import { PACKET_TAG, SUBPACKET, packet, subpacket, subpacketArea, uint32 } from './packet-encoding.ts';
import type { KeySigner } from '../format-signer.ts';

/** Signature types (RFC 4880 §5.2.1). */
export const SIGNATURE_TYPE = { binary: 0x00, canonicalText: 0x01, positiveCertification: 0x13 } as const;

export interface SignatureTemplate {
  /** Version ‖ type ‖ public-key algorithm ‖ hash algorithm ‖ hashed subpacket area: the packet's start, and hashed. */
  readonly hashedPart: Buffer;
  /** What is hashed after the signed data: hashedPart ‖ 0x04 0xFF ‖ four-octet length of hashedPart (RFC 4880 §5.2.4). */
  readonly trailer: Buffer;
  /** The unhashed subpacket area: the issuer key ID (a hint, so not signed; RFC 4880 §5.2.3.5). */
  readonly unhashedArea: Buffer;
}

/**
 * The signature's fixed part. The hashed area starts with the creation time and the issuer
 * fingerprint (v4 ‖ 20 octets, RFC 9580 §5.2.3.35), then `extra` subpackets (a self-signature's
 * key flags and preferences). It depends only on its arguments: hashPlan and sign rebuild it alike.
 */
export function signatureTemplate(type: number, key: OpenPgpKey, scheme: OpenPgpScheme, createdSeconds: number, extra: readonly Buffer[] = []): SignatureTemplate {
  const hashedArea = subpacketArea([
    subpacket(SUBPACKET.creationTime, uint32(createdSeconds)),
    subpacket(SUBPACKET.issuerFingerprint, Buffer.concat([Buffer.from([4]), key.fingerprint])),
    ...extra,
  ]);
  const hashedPart = Buffer.concat([Buffer.from([4, type, key.publicKeyAlgorithm, OPENPGP_HASH[scheme.hash].id]), hashedArea]);
  const trailer = Buffer.concat([hashedPart, Buffer.from([0x04, 0xff]), uint32(hashedPart.length)]);
  return { hashedPart, trailer, unhashedArea: subpacketArea([subpacket(SUBPACKET.issuerKeyId, key.keyId)]) };
}

/**
 * The whole signature packet: the template, the digest's left 16 bits (a quick check for verifiers,
 * RFC 4880 §5.2.3) and the MPIs the module's signature over `digest` becomes.
 */
export async function signaturePacket(template: SignatureTemplate, scheme: OpenPgpScheme, signer: KeySigner, digest: Buffer): Promise<Buffer> {
  const mpis = await scheme.signatureMpis(signer, digest);
  return packet(PACKET_TAG.signature, Buffer.concat([template.hashedPart, template.unhashedArea, digest.subarray(0, 2), mpis]));
}
