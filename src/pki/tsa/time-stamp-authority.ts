// An RFC 3161 time-stamping authority: one TimeStampResp for every query, the token a CMS SignedData
// (RFC 5652) over TSTInfo, signed inside Coffer by the TSA key's PkiSigner.
import { createHash, randomBytes } from 'node:crypto';
import { id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Accuracy, PKIStatus, PKIStatusInfo, TSTInfo, TSTInfoVersion, TimeStampResp, TimeStampToken, id_ct_tstInfo } from '@peculiar/asn1-tsp';
import { Certificate, GeneralName } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { buildSignedData } from '../cms/signed-data.ts';
import { type PkiHash, type PkiSigner, pkiSignatureAlgorithm } from '../pki-signer.ts';
import { readTimeStampRequest } from './time-stamp-request.ts';
import { type TsaFailure, rejectionReply } from './tsa-failures.ts';
import { checkTsaCertificate } from './tsa-certificate.ts';

export interface TimeStampAuthority {
  /** The TSA certificate (RFC 3161 §2.3), for the signer's public key. */
  readonly certificateDer: Buffer;
  /** Issuers above it, sent with the token when the query sets certReq. */
  readonly chainDer: readonly Buffer[];
  /** The TSA policy OID put in every TSTInfo; a query naming another is refused. */
  readonly policy: string;
  /** The accuracy claimed for genTime, in milliseconds; 1 second unless given. */
  readonly accuracyMs?: number;
}

export interface TimeStampOutcome {
  /** DER TimeStampResp, granted or rejected. */
  readonly reply: Buffer;
  readonly granted: boolean;
  readonly failure?: TsaFailure;
  /** The token's serial number, lowercase hex of the INTEGER's content octets. */
  readonly serialNumber?: string;
  readonly hash?: PkiHash;
  /** Lowercase hex of the query's hashed message: what was stamped, for the audit record. */
  readonly hashedMessage?: string;
  readonly genTime?: Date;
}

/** One hour: a claim beyond that would make the token useless for ordering anything. */
export const MAX_ACCURACY_MS = 3_600_000;
const POLICY_OID = /^[0-2](?:\.(?:0|[1-9][0-9]{0,8})){1,20}$/;
/** RFC 3161 §2.4.2: clients must accept 160-bit serials, so at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;

/**
 * 16 random octets with the top bits forced to 01: a positive, minimally encoded INTEGER
 * carrying 126 random bits, so serial numbers are unique without a counter to keep.
 */
function randomSerialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  return serial;
}

function checkSerialNumber(serial: Uint8Array): Buffer {
  const bytes = Buffer.from(serial);
  const first = bytes[0];
  const second = bytes[1];
  const minimalPositive = first !== undefined && first < 0x80 && !(first === 0 && (second === undefined || second < 0x80));
  if (!minimalPositive || bytes.length > MAX_SERIAL_OCTETS || bytes.every((byte) => byte === 0)) {
    throw new CofferError('INVALID_ARGUMENT', `serialNumber must be the content octets of a positive DER INTEGER of at most ${MAX_SERIAL_OCTETS} octets`);
  }
  return bytes;
}

/** RFC 3161 §2.4.2 Accuracy: seconds and millis, each omitted when zero (absent means 0). */
function accuracyOf(accuracyMs: number | undefined): Accuracy {
  const ms = accuracyMs ?? 1000;
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > MAX_ACCURACY_MS) {
    throw new CofferError('INVALID_ARGUMENT', `accuracyMs must be an integer from 1 to ${MAX_ACCURACY_MS}`);
  }
  const accuracy = new Accuracy();
  const seconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  // The class defaults seconds to 0, which would be encoded; absent is the DER form of "none".
  if (seconds === 0) Reflect.deleteProperty(accuracy, 'seconds');
  else accuracy.seconds = seconds;
  if (millis !== 0) accuracy.millis = millis;
  return accuracy;
}

/** Issuer certificates parsed once each (by SHA-256 of their DER): they go into every token with certReq. */
const CHAIN_CERTIFICATES = new Map<string, Certificate>();
const MAX_CHAIN_CERTIFICATES = 64;

function parsedChainCertificate(der: Buffer): Certificate {
  const id = createHash('sha256').update(der).digest('hex');
  let certificate = CHAIN_CERTIFICATES.get(id);
  if (certificate === undefined) {
    certificate = AsnConvert.parse(der, Certificate);
    if (CHAIN_CERTIFICATES.size >= MAX_CHAIN_CERTIFICATES) CHAIN_CERTIFICATES.delete(CHAIN_CERTIFICATES.keys().next().value ?? '');
    CHAIN_CERTIFICATES.set(id, certificate);
  }
  return certificate;
}

/**
 * Answers one RFC 3161 query at `now`. A malformed or refused query gets a rejection reply, never
 * an exception; only the TSA's own faults throw: its configuration (CERTIFICATE_INVALID,
 * CERTIFICATE_KEY_MISMATCH, TSA_NOT_CONFIGURED, INVALID_ARGUMENT) or its signer's errors.
 */
export async function timeStamp(
  signer: PkiSigner,
  authority: TimeStampAuthority,
  query: Uint8Array,
  now: Date,
  serialNumber?: Uint8Array,
): Promise<TimeStampOutcome> {
  // Configuration first, so a misconfigured TSA fails the same way whatever the client sent.
  const tsa = checkTsaCertificate(authority.certificateDer, signer.publicKeyDer, now);
  if (!POLICY_OID.test(authority.policy)) throw new CofferError('INVALID_ARGUMENT', 'the TSA policy must be a dotted OID');
  if (Number.isNaN(now.getTime())) throw new CofferError('INVALID_ARGUMENT', 'the time-stamp time is not a valid date');
  const accuracy = accuracyOf(authority.accuracyMs);
  const serial = serialNumber === undefined ? randomSerialNumber() : checkSerialNumber(serialNumber);
  const algorithm = pkiSignatureAlgorithm(signer.spec);
  let chain: Certificate[];
  try {
    chain = authority.chainDer.map(parsedChainCertificate);
  } catch (cause) {
    throw new CofferError('CERTIFICATE_INVALID', 'the TSA chain holds an unreadable certificate', { cause });
  }

  const reading = readTimeStampRequest(query);
  if (!reading.ok) {
    return { reply: rejectionReply(reading.rejection), granted: false, failure: reading.rejection.failure };
  }
  const request = reading.query;
  const stamped = { hash: request.hash, hashedMessage: request.hashedMessage.toString('hex') };
  if (request.policy !== undefined && request.policy !== authority.policy) {
    const failure = 'unacceptedPolicy';
    return { reply: rejectionReply({ failure, reason: 'the requested policy is not this TSA\'s' }), granted: false, failure, ...stamped };
  }

  const tstInfo = new TSTInfo({
    version: TSTInfoVersion.v1,
    policy: authority.policy,
    messageImprint: request.messageImprint,
    serialNumber: new Uint8Array(serial).buffer,
    // GeneralizedTime in UTC with milliseconds, trailing zeros dropped (RFC 3161 §2.4.2).
    genTime: now,
    accuracy,
    ...(request.nonce === undefined ? {} : { nonce: new Uint8Array(request.nonce).buffer }),
    tsa: new GeneralName({ directoryName: tsa.certificate.tbsCertificate.subject }),
  });
  const tstInfoDer = Buffer.from(AsnConvert.serialize(tstInfo));

  const { signedData } = await buildSignedData({
    // RFC 5652 §5.1: SignedData version 3, since eContentType is not id-data.
    contentType: id_ct_tstInfo,
    content: { eContent: tstInfoDer },
    algorithm,
    signingTime: now,
    // RFC 3161 §2.4.1 requires the ESS signing-certificate attribute; v2 (RFC 5816) for SHA-256.
    signer: tsa,
    certificates: request.certReq ? [tsa.certificate, ...chain] : [],
    sign: (attributesDer) => signer.sign(attributesDer, algorithm.algorithm),
  });
  const token = new TimeStampToken({ contentType: id_signedData, content: AsnConvert.serialize(signedData) });
  const reply = new TimeStampResp({ status: new PKIStatusInfo({ status: PKIStatus.granted }), timeStampToken: token });
  return {
    reply: Buffer.from(AsnConvert.serialize(reply)),
    granted: true,
    serialNumber: serial.toString('hex'),
    ...stamped,
    genTime: new Date(now.getTime()),
  };
}
