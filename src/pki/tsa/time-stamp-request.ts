// Strict reading of an RFC 3161 §2.4.1 TimeStampReq: DER only, SHA-2 imprints only, no extensions.
// Client bytes never make it throw: every defect becomes a TsaRejection with its PKIFailureInfo.
import { AsnConvert } from '@peculiar/asn1-schema';
import { type MessageImprint, TimeStampReq } from '@peculiar/asn1-tsp';
import { hashOfDigestOid, type PkiHash } from '../pki-signer.ts';
import type { TsaRejection } from './tsa-failures.ts';

/** Real queries are under 200 bytes; the bound caps the parser's work on hostile input. */
export const MAX_TIME_STAMP_REQUEST_BYTES = 16 * 1024;
/** Nonces are 64-bit in practice (openssl); RFC 3161 §2.4.1 sets no bound, this one is generous. */
export const MAX_NONCE_OCTETS = 32;

const DIGEST_LENGTHS: Readonly<Record<PkiHash, number>> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

export interface TimeStampQuery {
  readonly hash: PkiHash;
  readonly hashedMessage: Buffer;
  /** As received, to copy into TSTInfo (RFC 3161 §2.4.2: "MUST have the same value"). */
  readonly messageImprint: MessageImprint;
  readonly policy?: string;
  /** The INTEGER's content octets, echoed as they came (RFC 3161 §2.4.2). */
  readonly nonce?: Buffer;
  readonly certReq: boolean;
}

export type TimeStampRequestReading =
  | { readonly ok: true; readonly query: TimeStampQuery }
  | { readonly ok: false; readonly rejection: TsaRejection };

function reject(failure: TsaRejection['failure'], reason: string): TimeStampRequestReading {
  return { ok: false, rejection: { failure, reason } };
}

function decode(der: Uint8Array): TimeStampReq | undefined {
  try {
    const request = AsnConvert.parse(der, TimeStampReq);
    // Re-encoding must give the same bytes: this refuses trailing data, BER forms (indefinite
    // lengths, an explicit certReq FALSE, non-minimal integers) and anything the schema skipped.
    return Buffer.from(AsnConvert.serialize(request)).equals(der) ? request : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a DER TimeStampReq; never throws for anything the client sent. */
export function readTimeStampRequest(query: Uint8Array): TimeStampRequestReading {
  if (query.byteLength === 0 || query.byteLength > MAX_TIME_STAMP_REQUEST_BYTES) {
    return reject('badRequest', `the request must be 1 to ${MAX_TIME_STAMP_REQUEST_BYTES} bytes`);
  }
  const request = decode(Buffer.from(query.buffer, query.byteOffset, query.byteLength));
  if (request === undefined) return reject('badDataFormat', 'the request is not a DER TimeStampReq');
  const version: number = request.version;
  if (version !== 1) return reject('badDataFormat', 'only TimeStampReq version 1 is accepted');

  const { hashAlgorithm, hashedMessage } = request.messageImprint;
  const hash = hashOfDigestOid(hashAlgorithm.algorithm);
  // RFC 5754 §2: SHA-2 identifiers carry absent or NULL parameters (NULL reads as null); SHA-1 and
  // MD5 are not collision resistant, so their imprints could be swapped for another document's.
  if (hash === undefined || (hashAlgorithm.parameters !== undefined && hashAlgorithm.parameters !== null)) {
    return reject('badAlg', 'the message imprint must use SHA-256, SHA-384 or SHA-512');
  }
  if (hashedMessage.byteLength !== DIGEST_LENGTHS[hash]) {
    return reject('badDataFormat', `a ${hash} message imprint is ${DIGEST_LENGTHS[hash]} bytes`);
  }
  if (request.nonce !== undefined && request.nonce.byteLength > MAX_NONCE_OCTETS) {
    return reject('badDataFormat', `the nonce must be at most ${MAX_NONCE_OCTETS} octets`);
  }
  // RFC 3161 §2.4.2: an extension the TSA does not understand is refused, never silently dropped.
  if (request.extensions !== undefined) return reject('unacceptedExtension', 'request extensions are not accepted');

  return {
    ok: true,
    query: {
      hash,
      hashedMessage: Buffer.from(hashedMessage.buffer, hashedMessage.byteOffset, hashedMessage.byteLength),
      messageImprint: request.messageImprint,
      ...(request.reqPolicy === undefined ? {} : { policy: request.reqPolicy }),
      ...(request.nonce === undefined ? {} : { nonce: Buffer.from(request.nonce) }),
      certReq: request.certReq,
    },
  };
}
