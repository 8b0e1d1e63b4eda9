// The RFC 3161 time-stamping authority's public surface.
export { checkTsaCertificate } from './tsa-certificate.ts';
export type { TsaCertificate } from './tsa-certificate.ts';
export { MAX_ACCURACY_MS, timeStamp } from './time-stamp-authority.ts';
export type { TimeStampAuthority, TimeStampOutcome } from './time-stamp-authority.ts';
export { MAX_NONCE_OCTETS, MAX_TIME_STAMP_REQUEST_BYTES, readTimeStampRequest } from './time-stamp-request.ts';
export type { TimeStampQuery, TimeStampRequestReading } from './time-stamp-request.ts';
export { TSA_FAILURE_BITS, failuresOf, rejectionReply } from './tsa-failures.ts';
export type { TsaFailure, TsaRejection } from './tsa-failures.ts';
export { ID_SIGNING_CERTIFICATE_V2, SigningCertificateV2 } from '../cms/index.ts';
