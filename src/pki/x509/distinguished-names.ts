// Subject and issuer names given as RFC 4514 strings ("CN=Build signer, O=Acme, C=US"), checked
// strictly, and read back as strings for listings.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { CofferError } from '../../core/errors.ts';
import { x509 } from '../x509-runtime.ts';

export const MAX_NAME_LENGTH = 1024;
/** RFC 5280 Appendix A upper bounds: ub-common-name 64, ub-organization-name 64, …; 128 for the rest is generous. */
const VALUE_LIMITS: Readonly<Record<string, number>> = { CN: 64, O: 64, OU: 64, L: 128, ST: 128, C: 2, E: 255, DC: 63, SN: 64, G: 64, serialNumber: 64, T: 64 };
/** Attribute types accepted by name; raw OIDs and hex values (#…) are refused so a name always reads as text. */
const TYPES = new Set(Object.keys(VALUE_LIMITS));
/** TYPE=value pairs joined by ',' (RDNs) or '+' (multi-valued RDN), with RFC 4514 backslash escapes. */
const SHAPE = /^\s*[A-Za-z]+=(?:\\.|[^,+\\])+(?:\s*[,+]\s*[A-Za-z]+=(?:\\.|[^,+\\])+)*\s*$/u;

export interface DistinguishedName {
  readonly name: Name;
  readonly der: Buffer;
  /** RFC 4514 text as @peculiar/x509 prints it (attributes in the order given). */
  readonly text: string;
}

/** A subject from its RFC 4514 text, else INVALID_ARGUMENT naming `what`. */
export function parseDistinguishedName(text: unknown, what = 'subject'): DistinguishedName {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_NAME_LENGTH || !SHAPE.test(text)) {
    throw new CofferError('INVALID_ARGUMENT', `${what} must be an RFC 4514 name such as "CN=Build signer, O=Acme, C=US" (at most ${MAX_NAME_LENGTH} characters)`);
  }
  let parsed: x509.Name;
  try {
    parsed = new x509.Name(text);
  } catch (cause) {
    throw new CofferError('INVALID_ARGUMENT', `${what} is not a readable RFC 4514 name`, { cause });
  }
  const rdns = parsed.toJSON();
  if (rdns.length === 0) throw new CofferError('INVALID_ARGUMENT', `${what} names nothing`);
  for (const rdn of rdns) {
    for (const [type, values] of Object.entries(rdn)) {
      const limit = VALUE_LIMITS[type];
      if (limit === undefined || !TYPES.has(type)) {
        throw new CofferError('INVALID_ARGUMENT', `${what}: attribute ${JSON.stringify(type.slice(0, 32))} is not one of ${[...TYPES].join(', ')}`);
      }
      for (const value of values) {
        if (value.length === 0 || value.length > limit || value.startsWith('#')) {
          throw new CofferError('INVALID_ARGUMENT', `${what}: ${type} must be 1 to ${limit} characters of text`);
        }
        if (type === 'C' && !/^[A-Z]{2}$/.test(value)) throw new CofferError('INVALID_ARGUMENT', `${what}: C must be a two-letter country code`);
      }
    }
  }
  const der = Buffer.from(parsed.toArrayBuffer());
  return { name: AsnConvert.parse(der, Name), der, text: parsed.toString() };
}

/** A Name as RFC 4514 text, for listings and audit details. */
export function nameText(name: Name | Uint8Array): string {
  const der = name instanceof Uint8Array ? name : new Uint8Array(AsnConvert.serialize(name));
  return new x509.Name(der).toString();
}

/** The last common name of a name, if any (the most specific, as OpenSSL matches hosts). */
export function commonNameOfName(name: Name | Uint8Array): string | undefined {
  const der = name instanceof Uint8Array ? name : new Uint8Array(AsnConvert.serialize(name));
  return new x509.Name(der).getField('CN').at(-1);
}
