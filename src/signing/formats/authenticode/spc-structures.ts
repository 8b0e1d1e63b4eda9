// Authenticode's own ASN.1 ("Windows Authenticode Portable Executable Signature Format", §"Authenticode
// Signature Format"): SpcIndirectDataContent with SpcPeImageData, and the signed attributes
// SpcSpOpusInfo and SpcStatementType. Schema classes use asn1-schema's decorators called as functions.
import { createHash } from 'node:crypto';
import { Attribute } from '@peculiar/asn1-cms';
import {
  AsnArray, AsnConvert, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes, BitString, OctetString,
} from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { nodeHashName } from '../../../pki/cms/signed-attributes.ts';
import { NULL_DER, digestOid, type PkiHash } from '../../../pki/pki-signer.ts';

/** SPC_INDIRECT_DATA_OBJID: the eContentType and contentType attribute of an Authenticode signature. */
export const ID_SPC_INDIRECT_DATA = '1.3.6.1.4.1.311.2.1.4';
/** SPC_PE_IMAGE_DATAOBJ. */
export const ID_SPC_PE_IMAGE_DATA = '1.3.6.1.4.1.311.2.1.15';
export const ID_SPC_SP_OPUS_INFO = '1.3.6.1.4.1.311.2.1.12';
export const ID_SPC_STATEMENT_TYPE = '1.3.6.1.4.1.311.2.1.11';
/** SPC_INDIVIDUAL_SP_KEY_PURPOSE_OBJID: signed by an individual publisher (what signtool writes by default). */
export const ID_SPC_INDIVIDUAL_CODE_SIGNING = '1.3.6.1.4.1.311.2.1.21';
/** SPC_RFC3161_OBJID: the unsigned attribute carrying an RFC 3161 time-stamp token over the signature. */
export const ID_SPC_RFC3161_TIME_STAMP = '1.3.6.1.4.1.311.3.3.1';

/** SpcString ::= CHOICE { unicode [0] IMPLICIT BMPSTRING, ascii [1] IMPLICIT IA5STRING } */
export class SpcString {
  unicode?: string;
  ascii?: string;
}
AsnProp({ type: AsnPropTypes.BmpString, context: 0, implicit: true })(SpcString.prototype, 'unicode');
AsnProp({ type: AsnPropTypes.IA5String, context: 1, implicit: true })(SpcString.prototype, 'ascii');
AsnType({ type: AsnTypeTypes.Choice })(SpcString);

/** SpcLink ::= CHOICE { url [0] IMPLICIT IA5STRING, moniker [1] IMPLICIT SpcSerializedObject, file [2] EXPLICIT SpcString } (no monikers here). */
export class SpcLink {
  url?: string;
  file?: SpcString;
}
AsnProp({ type: AsnPropTypes.IA5String, context: 0, implicit: true })(SpcLink.prototype, 'url');
AsnProp({ type: SpcString, context: 2 })(SpcLink.prototype, 'file');
AsnType({ type: AsnTypeTypes.Choice })(SpcLink);

/** SpcPeImageData ::= SEQUENCE { flags SpcPeImageFlags, file [0] EXPLICIT SpcLink OPTIONAL } */
export class SpcPeImageData {
  flags = new BitString();
  file?: SpcLink;
}
AsnProp({ type: BitString })(SpcPeImageData.prototype, 'flags');
AsnProp({ type: SpcLink, context: 0, optional: true })(SpcPeImageData.prototype, 'file');
AsnType({ type: AsnTypeTypes.Sequence })(SpcPeImageData);

/** SpcAttributeTypeAndOptionalValue ::= SEQUENCE { type ObjectID, value [0] EXPLICIT ANY OPTIONAL } — the value is untagged ANY in practice. */
export class SpcAttributeTypeAndOptionalValue {
  type = '';
  value?: ArrayBuffer;
}
AsnProp({ type: AsnPropTypes.ObjectIdentifier })(SpcAttributeTypeAndOptionalValue.prototype, 'type');
AsnProp({ type: AsnPropTypes.Any, optional: true })(SpcAttributeTypeAndOptionalValue.prototype, 'value');
AsnType({ type: AsnTypeTypes.Sequence })(SpcAttributeTypeAndOptionalValue);

/** DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTETSTRING } */
export class DigestInfo {
  digestAlgorithm = new AlgorithmIdentifier();
  digest = new OctetString();
}
AsnProp({ type: AlgorithmIdentifier })(DigestInfo.prototype, 'digestAlgorithm');
AsnProp({ type: OctetString })(DigestInfo.prototype, 'digest');
AsnType({ type: AsnTypeTypes.Sequence })(DigestInfo);

/** SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo } */
export class SpcIndirectDataContent {
  data = new SpcAttributeTypeAndOptionalValue();
  messageDigest = new DigestInfo();
}
AsnProp({ type: SpcAttributeTypeAndOptionalValue })(SpcIndirectDataContent.prototype, 'data');
AsnProp({ type: DigestInfo })(SpcIndirectDataContent.prototype, 'messageDigest');
AsnType({ type: AsnTypeTypes.Sequence })(SpcIndirectDataContent);

/** SpcSpOpusInfo ::= SEQUENCE { programName [0] EXPLICIT SpcString OPTIONAL, moreInfo [1] EXPLICIT SpcLink OPTIONAL } */
export class SpcSpOpusInfo {
  programName?: SpcString;
  moreInfo?: SpcLink;
}
AsnProp({ type: SpcString, context: 0, optional: true })(SpcSpOpusInfo.prototype, 'programName');
AsnProp({ type: SpcLink, context: 1, optional: true })(SpcSpOpusInfo.prototype, 'moreInfo');
AsnType({ type: AsnTypeTypes.Sequence })(SpcSpOpusInfo);

/** SpcStatementType ::= SEQUENCE OF OBJECT IDENTIFIER */
export class SpcStatementType extends AsnArray<string> {}
AsnType({ type: AsnTypeTypes.Sequence, itemType: AsnPropTypes.ObjectIdentifier })(SpcStatementType);

/** "<<<Obsolete>>>": the file link signtool and osslsigncode write into SpcPeImageData (no page hashes). */
const OBSOLETE_FILE_LINK = '<<<Obsolete>>>';

export interface IndirectDataContent {
  /** The SpcIndirectDataContent DER: the SignedData's encapsulated content. */
  readonly der: Buffer;
  /**
   * The messageDigest signed attribute: the hash of the DER's contents octets, without the outer
   * SEQUENCE's identifier and length octets (PKCS #7 v1.5 §9.3 digests the content's value, as
   * signtool and osslsigncode do).
   */
  readonly contentDigest: Buffer;
}

/** SpcIndirectDataContent for a PE image hash: SpcPeImageData { includeResources, file "<<<Obsolete>>>" } and DigestInfo. */
export function indirectDataContent(hash: PkiHash, imageDigest: Buffer): IndirectDataContent {
  const image = new SpcPeImageData();
  // osslsigncode sets bit 0 (includeResources); verifiers do not read the flags.
  image.flags = new BitString(new Uint8Array([0x80]), 7);
  image.file = Object.assign(new SpcLink(), { file: Object.assign(new SpcString(), { unicode: OBSOLETE_FILE_LINK }) });
  const content = new SpcIndirectDataContent();
  content.data = Object.assign(new SpcAttributeTypeAndOptionalValue(), { type: ID_SPC_PE_IMAGE_DATA, value: AsnConvert.serialize(image) });
  // DigestInfo with NULL parameters, as signtool and osslsigncode write it.
  content.messageDigest = Object.assign(new DigestInfo(), {
    digestAlgorithm: new AlgorithmIdentifier({ algorithm: digestOid(hash), parameters: NULL_DER }),
    digest: new OctetString(imageDigest),
  });
  const der = Buffer.from(AsnConvert.serialize(content));
  return { der, contentDigest: createHash(nodeHashName(hash)).update(der.subarray(derHeaderLength(der))).digest() };
}

/** The identifier and length octets of a DER TLV with a one-byte tag (X.690 §8.1.3). */
function derHeaderLength(der: Buffer): number {
  const first = der[1] ?? 0;
  return first < 0x80 ? 2 : 2 + (first & 0x7f);
}

export interface OpusInfo {
  /** SpcSpOpusInfo.programName: the description Windows shows in its consent prompt. */
  readonly programName?: string;
  /** SpcSpOpusInfo.moreInfo: an http(s) URL about the program. */
  readonly moreInfoUrl?: string;
}

/** The Authenticode signed attributes beyond CMS's own: SpcSpOpusInfo (may be empty) and SpcStatementType. */
export function authenticodeSignedAttributes(opus: OpusInfo): Attribute[] {
  const info = new SpcSpOpusInfo();
  if (opus.programName !== undefined) info.programName = Object.assign(new SpcString(), { unicode: opus.programName });
  if (opus.moreInfoUrl !== undefined) info.moreInfo = Object.assign(new SpcLink(), { url: opus.moreInfoUrl });
  return [
    new Attribute({ attrType: ID_SPC_SP_OPUS_INFO, attrValues: [AsnConvert.serialize(info)] }),
    new Attribute({ attrType: ID_SPC_STATEMENT_TYPE, attrValues: [AsnConvert.serialize(new SpcStatementType([ID_SPC_INDIVIDUAL_CODE_SIGNING]))] }),
  ];
}
