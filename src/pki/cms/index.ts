// The shared CMS SignedData builder's public surface (RFC 5652), used by the TSA and the CMS format.
export { buildSignedData, signedDataContentInfo } from './signed-data.ts';
export type { BuiltSignedData, SignedContent, SignedDataInput } from './signed-data.ts';
export { ID_SIGNING_CERTIFICATE_V2, SigningCertificateV2 } from './signed-attributes.ts';
export { ID_AA_TIME_STAMP_TOKEN, timeStampTokenAttribute } from './time-stamp-attribute.ts';
