// The RFC 3161 Appendix A unsigned attribute that carries a time-stamp token over a SignerInfo's
// signature, checked before it is attached: a token stamping anything else would mislead a verifier.
import { createHash } from 'node:crypto';
import { Attribute, ContentInfo, SignedData, id_signedData } from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TSTInfo, id_ct_tstInfo } from '@peculiar/asn1-tsp';
import { CofferError } from '../../core/errors.ts';
import { hashOfDigestOid } from '../pki-signer.ts';
import { nodeHashName } from './signed-attributes.ts';

/** id-aa-timeStampToken (RFC 3161 Appendix A). */
export const ID_AA_TIME_STAMP_TOKEN = '1.2.840.113549.1.9.16.2.14';

/** The TSTInfo inside a DER TimeStampToken (a ContentInfo holding SignedData over id-ct-TSTInfo), else undefined. */
function tstInfoOf(token: Uint8Array): TSTInfo | undefined {
  try {
    const contentInfo = AsnConvert.parse(token, ContentInfo);
    // The attribute value is copied as given: it must be exactly one DER ContentInfo, no trailing bytes.
    if (contentInfo.contentType !== id_signedData || !Buffer.from(AsnConvert.serialize(contentInfo)).equals(token)) return undefined;
    const { encapContentInfo } = AsnConvert.parse(contentInfo.content, SignedData);
    const eContent = encapContentInfo.eContent?.single;
    if (encapContentInfo.eContentType !== id_ct_tstInfo || eContent === undefined) return undefined;
    return AsnConvert.parse(eContent.buffer, TSTInfo);
  } catch {
    return undefined;
  }
}

/**
 * The id-aa-timeStampToken attribute for `token`, after checking that the token's messageImprint is
 * the hash of `signature` (RFC 3161 Appendix A: the SignerInfo's signature value) under a SHA-2 hash;
 * INVALID_ARGUMENT for an unreadable token or one that stamps something else. The token's own
 * signature is the verifier's to check against its trust in the TSA. `attrType` names another
 * attribute carrying the same token over the same value (Authenticode's 1.3.6.1.4.1.311.3.3.1).
 */
export function timeStampTokenAttribute(token: Uint8Array, signature: Uint8Array, attrType: string = ID_AA_TIME_STAMP_TOKEN): Attribute {
  const tstInfo = tstInfoOf(token);
  if (tstInfo === undefined) throw new CofferError('INVALID_ARGUMENT', 'the time-stamp token is not a DER TimeStampToken');
  const hash = hashOfDigestOid(tstInfo.messageImprint.hashAlgorithm.algorithm);
  if (hash === undefined) throw new CofferError('INVALID_ARGUMENT', 'the time-stamp token must use a SHA-2 message imprint');
  const expected = createHash(nodeHashName(hash)).update(signature).digest();
  const imprint = Buffer.from(tstInfo.messageImprint.hashedMessage.buffer);
  if (!imprint.equals(expected)) {
    throw new CofferError('INVALID_ARGUMENT', 'the time-stamp token does not stamp this signature');
  }
  return new Attribute({ attrType, attrValues: [new Uint8Array(token).buffer] });
}
