// /v1/tsa/stamp: RFC 3161 time stamps from a Coffer key holding a time-stamping certificate. Queries are
// built here (the data is hashed locally, only its digest is sent) and replies checked against them.
import { createHash, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { SignedData } from '@peculiar/asn1-cms';
import { MessageImprint, TSTInfo, TimeStampReq, TimeStampReqVersion, TimeStampResp } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { CofferError } from '../core/errors.ts';
import { digestOid, NULL_DER, type PkiHash } from '../pki/pki-signer.ts';
import type { KeyRef } from './api-types.ts';
import { decodeBase64, encodeBase64, toBytes, type BytesLike } from './bytes.ts';
import { keyRefText } from './key-api.ts';
import type { Transport } from './transport.ts';

export type TimeStampHash = PkiHash;

export const TIME_STAMP_HASHES: readonly TimeStampHash[] = ['SHA-256', 'SHA-384', 'SHA-512'];

/** Digest sizes, and node:crypto's names for the hashes. */
const HASHES: Readonly<Record<TimeStampHash, { readonly length: number; readonly node: string }>> = {
  'SHA-256': { length: 32, node: 'sha256' },
  'SHA-384': { length: 48, node: 'sha384' },
  'SHA-512': { length: 64, node: 'sha512' },
};

/** 64 bits, as openssl sends: enough that a replayed reply is never taken for a fresh one. */
const NONCE_OCTETS = 8;
const OID = /^[0-2](?:\.(?:0|[1-9][0-9]{0,8})){1,20}$/;

export interface TimeStampQueryOptions {
  /** Default SHA-256. */
  readonly hash?: TimeStampHash;
  /** Send a random nonce (default true): the reply must echo it. */
  readonly nonce?: boolean;
  /** Ask for the TSA's certificate in the token (default true). */
  readonly certReq?: boolean;
  /** A TSA policy OID to ask for. */
  readonly policy?: string;
}

/** What to stamp: the data itself (hashed here), or its digest under the query's hash. */
export type TimeStampInput = { readonly data: BytesLike } | { readonly digest: Uint8Array };

export interface TimeStampResult {
  /** The DER TimeStampResp (a .tsr file), as openssl ts -reply writes it. */
  readonly reply: Buffer;
  readonly granted: boolean;
  /** PKIStatus (RFC 3161 §2.4.2): 0 granted, 1 granted with mods, 2 rejection… */
  readonly status: number;
  /** The PKIFailureInfo name of a rejection (badAlg, badRequest, badDataFormat…). */
  readonly failure?: string;
  /** The token's serial number, hex. */
  readonly serialNumber?: string;
  /** The TSA key's id and the policy it stamps under (as the node reports them). */
  readonly keyId?: string;
  readonly policy?: string;
}

export function isTimeStampHash(value: string): value is TimeStampHash {
  return Object.hasOwn(HASHES, value);
}

/** The digest of `data` under `hash`: what a query's message imprint holds. */
export function timeStampDigest(data: BytesLike, hash: TimeStampHash = 'SHA-256'): Buffer {
  return createHash(HASHES[hash].node).update(toBytes(data)).digest();
}

/** A positive, minimally encoded INTEGER of NONCE_OCTETS octets: top bit clear, first octet non-zero. */
function freshNonce(): Buffer {
  const nonce = randomBytes(NONCE_OCTETS);
  nonce[0] = ((nonce[0] ?? 0) & 0x7f) || 0x01;
  return nonce;
}

/** A DER TimeStampReq (RFC 3161 §2.4.1) for data or a digest, as `openssl ts -query` makes one. */
export function buildTimeStampQuery(input: TimeStampInput, options: TimeStampQueryOptions = {}): Buffer {
  const hash = options.hash ?? 'SHA-256';
  if (!isTimeStampHash(hash)) throw new CofferError('UNSUPPORTED_ALGORITHM', `a time-stamp query hashes with ${TIME_STAMP_HASHES.join(', ')}`);
  const digest = 'data' in input ? timeStampDigest(input.data, hash) : toBytes(input.digest);
  if (digest.length !== HASHES[hash].length) throw new CofferError('INVALID_DIGEST', `a ${hash} digest is ${HASHES[hash].length} bytes, not ${digest.length}`);
  if (options.policy !== undefined && !OID.test(options.policy)) throw new CofferError('INVALID_ARGUMENT', 'the policy must be a dotted OID');
  const request = new TimeStampReq({
    version: TimeStampReqVersion.v1,
    // RFC 5754 §2: SHA-2 parameters may be absent or NULL; NULL is what openssl sends.
    messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: digestOid(hash), parameters: NULL_DER }), hashedMessage: new OctetString(digest) }),
    certReq: options.certReq ?? true,
    ...(options.policy === undefined ? {} : { reqPolicy: options.policy }),
    ...(options.nonce === false ? {} : { nonce: new Uint8Array(freshNonce()).buffer }),
  });
  return Buffer.from(AsnConvert.serialize(request));
}

function same(a: ArrayBuffer | Uint8Array | undefined, b: ArrayBuffer | Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a instanceof Uint8Array ? a : new Uint8Array(a)).equals(Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)));
}

/**
 * RFC 3161 §2.4.2, the requester's side: a granted reply's TSTInfo must hold the query's message
 * imprint and echo its nonce, else it answers another query (a replay, or a mix-up on the way).
 * This checks the binding only; the token's signature and certificate are checked with
 * `openssl ts -verify`. CLIENT_PROTOCOL_ERROR when the reply does not match.
 */
export function checkTimeStampReply(queryDer: Uint8Array, replyDer: Uint8Array): void {
  let query: TimeStampReq;
  let tstInfo: TSTInfo | undefined;
  try {
    query = AsnConvert.parse(queryDer, TimeStampReq);
    const response = AsnConvert.parse(replyDer, TimeStampResp);
    const token = response.timeStampToken;
    if (token === undefined) return;
    const content = AsnConvert.parse(token.content, SignedData).encapContentInfo.eContent?.single;
    tstInfo = content === undefined ? undefined : AsnConvert.parse(content.buffer, TSTInfo);
  } catch (cause) {
    throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp reply is not a DER TimeStampResp', { cause });
  }
  if (tstInfo === undefined) throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp token holds no TSTInfo');
  if (!same(AsnConvert.serialize(tstInfo.messageImprint), AsnConvert.serialize(query.messageImprint))) {
    throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp token is for another message imprint');
  }
  if (!same(tstInfo.nonce, query.nonce)) throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp token does not echo the query nonce');
}

/**
 * The TimeStampToken (a DER ContentInfo) inside a granted TimeStampResp: what a CMS signature carries
 * as its id-aa-timeStampToken attribute (RFC 3161 Appendix A). CLIENT_PROTOCOL_ERROR without one.
 */
export function timeStampTokenOf(replyDer: Uint8Array): Buffer {
  let token;
  try {
    token = AsnConvert.parse(replyDer, TimeStampResp).timeStampToken;
  } catch (cause) {
    throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp reply is not a DER TimeStampResp', { cause });
  }
  if (token === undefined) throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp reply holds no token (the query was rejected)');
  return Buffer.from(AsnConvert.serialize(token));
}

export class TsaApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** See buildTimeStampQuery. */
  buildQuery(input: TimeStampInput, options: TimeStampQueryOptions = {}): Buffer {
    return buildTimeStampQuery(input, options);
  }

  /**
   * Sends a DER TimeStampReq to be stamped with the key (its attached time-stamping certificate), as
   * JSON to /v1/tsa/stamp (POST /v1/tsa itself takes raw application/timestamp-query, for openssl and curl).
   * A rejection is an answer (granted false, the failure named), not an error; a granted reply is
   * checked against the query (checkTimeStampReply). Idempotent: a retry stamps afresh, harmlessly.
   */
  async stamp(keyRef: KeyRef, queryDer: Uint8Array): Promise<TimeStampResult> {
    const answer: unknown = await this.#http.send('POST', '/v1/tsa/stamp', { body: { key: keyRefText(keyRef), query: encodeBase64(queryDer) }, idempotent: true });
    const fields = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<string, unknown>;
    if (typeof fields['granted'] !== 'boolean' || typeof fields['status'] !== 'number') throw new CofferError('CLIENT_PROTOCOL_ERROR', 'the time-stamp answer is not what the API promises');
    const result = { ...(fields as unknown as Omit<TimeStampResult, 'reply'>), reply: decodeBase64(fields['reply'], 'reply') };
    if (result.granted) checkTimeStampReply(queryDer, result.reply);
    return result;
  }
}
