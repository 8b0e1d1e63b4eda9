// The API's TLS material, read and checked before anything listens: a certificate and its private
// key that belong together, and the CA bundle that issues client certificates.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { CofferError } from '../core/errors.ts';
import type { ServerConfig } from './config.ts';

function read(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `config api.tls.${key}: cannot read ${path}`, { cause: error });
  }
}

function check<T>(key: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new CofferError('INVALID_ARGUMENT', `config api.tls.${key}: not ${what}`, { cause: error });
  }
}

/**
 * Server options for mutual TLS where the app decides: client certificates are requested and
 * verified against the CA, but an unverified one does not abort the handshake (rejectUnauthorized
 * false) so the client gets AUTH_CERTIFICATE_UNTRUSTED as JSON rather than a TLS alert.
 */
export function loadTlsOptions(tls: ServerConfig['api']['tls']): HttpsServerOptions {
  const cert = read(tls.certFile, 'certFile');
  const key = read(tls.keyFile, 'keyFile');
  const ca = read(tls.clientCaFile, 'clientCaFile');
  const certificate = check('certFile', 'a PEM certificate', () => new X509Certificate(cert));
  const privateKey = check('keyFile', 'a PEM private key', () => createPrivateKey(key));
  if (!certificate.checkPrivateKey(privateKey)) throw new CofferError('INVALID_ARGUMENT', 'config api.tls.keyFile: does not match the certificate in certFile');
  check('clientCaFile', 'a PEM certificate', () => new X509Certificate(ca));
  return { cert, key, ca, requestCert: true, rejectUnauthorized: false, minVersion: tls.minVersion };
}
