// PKCS#10 certification requests (RFC 2986): made for a Coffer key (signed inside Coffer), and read
// from anyone (a CA's input), checked strictly and their proof of possession verified.
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { ExtendedKeyUsage, Extensions, KeyUsage, SubjectAlternativeName, id_ce_extKeyUsage, id_ce_keyUsage, id_ce_subjectAltName, type Extension, type Name } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { decodeSinglePemBlock, encodePem, looksLikePem } from '../pem-blocks.ts';
import type { PkiSigner } from '../pki-signer.ts';
import { parseDistinguishedName, nameText } from './distinguished-names.ts';
import {
  checkAltNames, extendedKeyUsageExtension, extendedKeyUsageOids, findExtension, hasAltNames, keyUsageExtension, keyUsageNames,
  subjectAltNameExtension, KEY_USAGE_BITS, type AltNames, type KeyUsageName,
} from './extensions.ts';
import { checkSignature, publicKeyFromSpki } from './signature-check.ts';
import { EXTENSION_REQUEST_OID, signCertificationRequest } from './signed-structures.ts';

export const MAX_CSR_BYTES = 64 * 1024;

export interface CsrRequest {
  /** RFC 4514, e.g. "CN=Release signing, O=Acme, C=US". */
  readonly subject: string;
  readonly altNames?: AltNames;
  readonly keyUsage?: readonly string[];
  readonly extendedKeyUsage?: readonly string[];
}

export interface BuiltCsr {
  readonly der: Buffer;
  readonly pem: string;
  readonly subject: string;
}

/** Checks the request (INVALID_ARGUMENT) before anything is signed, then signs it with the key. */
export function prepareCsr(request: CsrRequest): { subject: Name; subjectText: string; extensions: Extension[] } {
  const { name, text } = parseDistinguishedName(request.subject);
  const altNames = checkAltNames(request.altNames);
  const usages = keyUsageNames(request.keyUsage);
  const purposes = extendedKeyUsageOids(request.extendedKeyUsage);
  const extensions: Extension[] = [];
  if (usages.length > 0) extensions.push(keyUsageExtension(usages));
  if (purposes.length > 0) extensions.push(extendedKeyUsageExtension(purposes, false));
  if (hasAltNames(altNames)) extensions.push(subjectAltNameExtension(altNames));
  return { subject: name, subjectText: text, extensions };
}

export async function buildCsr(signer: PkiSigner, request: CsrRequest): Promise<BuiltCsr> {
  const prepared = prepareCsr(request);
  const der = await signCertificationRequest(signer, prepared.subject, prepared.extensions);
  return { der, pem: encodePem('CERTIFICATE REQUEST', der), subject: prepared.subjectText };
}

export interface ParsedCsr {
  readonly der: Buffer;
  readonly subject: Name;
  readonly subjectText: string;
  readonly publicKeyDer: Buffer;
  readonly keyUsage?: readonly KeyUsageName[];
  readonly extendedKeyUsage?: readonly string[];
  readonly altNames?: Required<AltNames>;
}

/**
 * A CSR given as PEM ("CERTIFICATE REQUEST", or openssl's older "NEW CERTIFICATE REQUEST") or DER,
 * with a valid self-signature: CSR_INVALID otherwise. Alternative names are re-checked as if typed.
 */
export function parseCsr(input: unknown): ParsedCsr {
  let der: Buffer;
  try {
    if (typeof input === 'string') der = decodeCsrPem(input);
    else if (input instanceof Uint8Array) {
      const bytes = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
      der = looksLikePem(bytes.subarray(0, 4096).toString('latin1')) ? decodeCsrPem(bytes.toString('utf8')) : Buffer.from(bytes);
    } else throw new CofferError('CSR_INVALID', 'the certificate request must be PEM text or DER bytes');
  } catch (error) {
    if (error instanceof CofferError && error.code === 'INVALID_ARGUMENT') throw new CofferError('CSR_INVALID', error.message, { cause: error });
    throw error;
  }
  if (der.length === 0 || der.length > MAX_CSR_BYTES) throw new CofferError('CSR_INVALID', `the certificate request must be 1 to ${MAX_CSR_BYTES} bytes of DER`);
  let request: CertificationRequest;
  try {
    request = AsnConvert.parse(der, CertificationRequest);
    if (!Buffer.from(AsnConvert.serialize(request)).equals(der)) throw new Error('trailing or non-DER bytes');
  } catch (cause) {
    throw new CofferError('CSR_INVALID', 'the certificate request is not a DER PKCS#10 request', { cause });
  }
  const info = request.certificationRequestInfo;
  const infoRaw = request.certificationRequestInfoRaw;
  if (info.version !== 0 || infoRaw === undefined) throw new CofferError('CSR_INVALID', 'the certificate request is not PKCS#10 version 1');
  const publicKeyDer = Buffer.from(AsnConvert.serialize(info.subjectPKInfo));
  const publicKey = publicKeyFromSpki(publicKeyDer, 'the certificate request');
  if (!checkSignature(request.signatureAlgorithm, publicKey, new Uint8Array(infoRaw), new Uint8Array(request.signature), 'the certificate request')) {
    throw new CofferError('CSR_INVALID', 'the certificate request signature does not verify');
  }
  const extensions = requestedExtensions(info.attributes);
  const result: { -readonly [K in keyof ParsedCsr]: ParsedCsr[K] } = { der, subject: info.subject, subjectText: nameText(info.subject), publicKeyDer };
  const usage = findExtension(extensions, id_ce_keyUsage, KeyUsage);
  if (usage !== undefined) {
    const flags = usage.value.toNumber();
    result.keyUsage = (Object.keys(KEY_USAGE_BITS) as KeyUsageName[]).filter((name) => (flags & KEY_USAGE_BITS[name]) !== 0);
  }
  const purposes = findExtension(extensions, id_ce_extKeyUsage, ExtendedKeyUsage);
  if (purposes !== undefined) result.extendedKeyUsage = [...purposes.value];
  const san = findExtension(extensions, id_ce_subjectAltName, SubjectAlternativeName);
  if (san !== undefined) {
    const names = { dnsNames: [] as string[], ipAddresses: [] as string[], emails: [] as string[], uris: [] as string[] };
    for (const name of san.value) {
      if (name.dNSName !== undefined) names.dnsNames.push(name.dNSName);
      else if (name.iPAddress !== undefined) names.ipAddresses.push(name.iPAddress);
      else if (name.rfc822Name !== undefined) names.emails.push(name.rfc822Name);
      else if (name.uniformResourceIdentifier !== undefined) names.uris.push(name.uniformResourceIdentifier);
      else throw new CofferError('CSR_INVALID', 'the certificate request asks for an alternative name type Coffer does not issue (DNS, IP, email and URI are issued)');
    }
    try {
      result.altNames = checkAltNames(names);
    } catch (error) {
      throw new CofferError('CSR_INVALID', `the certificate request's alternative names: ${error instanceof Error ? error.message : 'invalid'}`, { cause: error });
    }
  }
  return result;
}

function decodeCsrPem(text: string): Buffer {
  return decodeSinglePemBlock(text, text.includes('BEGIN NEW CERTIFICATE REQUEST') ? 'NEW CERTIFICATE REQUEST' : 'CERTIFICATE REQUEST', 'the certificate request');
}

function requestedExtensions(attributes: readonly { type: string; values: ArrayBuffer[] }[]): Extension[] {
  const found = attributes.filter((attribute) => attribute.type === EXTENSION_REQUEST_OID);
  if (found.length === 0) return [];
  const values = found[0]?.values ?? [];
  if (found.length > 1 || values.length !== 1 || values[0] === undefined) throw new CofferError('CSR_INVALID', 'the certificate request has a malformed extensionRequest');
  try {
    return [...AsnConvert.parse(values[0], Extensions)];
  } catch (cause) {
    throw new CofferError('CSR_INVALID', 'the certificate request has a malformed extensionRequest', { cause });
  }
}
