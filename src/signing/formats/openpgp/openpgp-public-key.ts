// The key's OpenPGP certificate (a transferable public key, RFC 4880 §11.1): the public key packet,
// one user ID and its positive self-certification, armoured. gpg imports it and then verifies the
// openpgp format's signatures, whose issuer fingerprint is this key's.
import { CofferError } from '../../../core/errors.ts';
import type { KeySigner } from '../format-signer.ts';
import { armor } from './armor.ts';
import { OPENPGP_HASH, digestOf, openpgpKey, openpgpScheme } from './openpgp-key.ts';
import { PACKET_TAG, SUBPACKET, openpgpSeconds, packet, subpacket, uint16, uint32 } from './packet-encoding.ts';
import { SIGNATURE_TYPE, signatureTemplate, signaturePacket } from './signature-packet.ts';

/** A user ID is one line of UTF-8, conventionally "Name <email>"; long enough for that, no more. */
const MAX_USER_ID_BYTES = 1024;

/** Key flags octet (RFC 4880 §5.2.3.21): certify (0x01) and sign data (0x02); Coffer's OpenPGP keys never encrypt. */
const KEY_FLAGS_CERTIFY_SIGN = 0x03;

export interface OpenPgpPublicKeyOptions {
  /** The key version's creation time, when the signer does not carry it (KeySigner.createdAt wins and must agree). */
  readonly createdAt?: Date;
}

export interface OpenPgpPublicKey {
  /** "-----BEGIN PGP PUBLIC KEY BLOCK-----" … for `gpg --import`. */
  readonly armored: string;
  /** The v4 fingerprint, 40 upper-case hex digits, as gpg prints it. */
  readonly fingerprint: string;
  /** The key ID (the fingerprint's last 16 hex digits). */
  readonly keyId: string;
}

function checkUserId(userId: string): Buffer {
  // Checked at run time: the user ID may come straight from a request.
  if (typeof userId !== 'string' || userId.length === 0 || /[\u0000-\u001f\u007f]/.test(userId)) {
    throw new CofferError('INVALID_ARGUMENT', 'the OpenPGP user ID must be a non-empty line of text, e.g. "Release Signing <release@example.org>"');
  }
  const bytes = Buffer.from(userId, 'utf8');
  if (bytes.length > MAX_USER_ID_BYTES) throw new CofferError('INVALID_ARGUMENT', `the OpenPGP user ID must be at most ${MAX_USER_ID_BYTES} bytes`);
  return bytes;
}

/**
 * The creation time the fingerprint is made from: the signer's, else options.createdAt; with
 * neither INVALID_ARGUMENT (a made-up time would give the key a fingerprint its signatures do not
 * name), and both must agree to the second.
 */
function creationTime(signer: KeySigner, options?: OpenPgpPublicKeyOptions): Date {
  const fromSigner = signer.createdAt;
  const given = options?.createdAt;
  if (fromSigner !== undefined && given !== undefined && openpgpSeconds(fromSigner, 'the key creation time') !== openpgpSeconds(given, 'createdAt')) {
    throw new CofferError('INVALID_ARGUMENT', 'createdAt differs from the key version\'s creation time');
  }
  const chosen = fromSigner ?? given;
  if (chosen === undefined) throw new CofferError('INVALID_ARGUMENT', 'an OpenPGP key needs the key version\'s creation time (KeySigner.createdAt or createdAt): it is part of the fingerprint');
  return chosen;
}

/**
 * The key's transferable public key. The self-signature is dated at the key's creation, signed in
 * the module with the key's default algorithm, and carries key flags (certify, sign) and preferred
 * hashes (SHA-512, SHA-384, SHA-256).
 */
export async function openpgpPublicKey(signer: KeySigner, userId: string, options?: OpenPgpPublicKeyOptions): Promise<OpenPgpPublicKey> {
  const userIdBytes = checkUserId(userId);
  const scheme = openpgpScheme(signer);
  const key = openpgpKey(signer, creationTime(signer, options));
  const preferredHashes = Buffer.from([OPENPGP_HASH['SHA-512'].id, OPENPGP_HASH['SHA-384'].id, OPENPGP_HASH['SHA-256'].id]);
  const template = signatureTemplate(SIGNATURE_TYPE.positiveCertification, key, scheme, key.createdSeconds, [
    subpacket(SUBPACKET.keyFlags, Buffer.from([KEY_FLAGS_CERTIFY_SIGN])),
    subpacket(SUBPACKET.preferredHashes, preferredHashes),
  ]);
  // A certification hashes the key (0x99 ‖ length ‖ body) and the user ID (0xB4 ‖ four-octet length ‖ ID), RFC 4880 §5.2.4.
  const digest = digestOf(scheme.hash, [
    Buffer.from([0x99]), uint16(key.body.length), key.body,
    Buffer.from([0xb4]), uint32(userIdBytes.length), userIdBytes,
    template.trailer,
  ]);
  const certification = await signaturePacket(template, scheme, signer, digest);
  const transferable = Buffer.concat([packet(PACKET_TAG.publicKey, key.body), packet(PACKET_TAG.userId, userIdBytes), certification]);
  const fingerprint = key.fingerprint.toString('hex').toUpperCase();
  return { armored: armor('PGP PUBLIC KEY BLOCK', transferable), fingerprint, keyId: fingerprint.slice(-16) };
}
