// TLS material for the client: PEM given inline or as a file path, read once when the client is made.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CofferError } from '../core/errors.ts';

/** PEM text, PEM bytes, or the path of a PEM file. */
export type PemSource = string | Uint8Array;

export function loadPem(source: PemSource | undefined, what: string): Buffer | undefined {
  if (source === undefined) return undefined;
  if (typeof source !== 'string') return Buffer.from(source);
  if (source.includes('-----BEGIN ')) return Buffer.from(source, 'utf8');
  try {
    return readFileSync(source);
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `cannot read the ${what} file ${source}`, { cause: error });
  }
}

/** Checks once, up front, that the client certificate and key are PEM and belong together. */
export function checkClientIdentity(cert: Buffer, key: Buffer): void {
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', 'the client certificate or key is not PEM', { cause: error });
  }
  if (!matches) throw new CofferError('INVALID_ARGUMENT', 'the client key does not belong to the client certificate');
}
