// Certificate requests for keys that never enter Coffer, in the SDK's flat request shape: the key
// pair and the self-signature are src/pki/local-key-csr.ts's; this only maps the request onto it.
import type { KeyObject } from 'node:crypto';
import * as local from '../pki/local-key-csr.ts';
import type { BuiltCsr, CsrRequest as PkiCsrRequest } from '../pki/x509/csr.ts';
import type { CsrRequest } from './pki-api.ts';

function pkiRequest(request: CsrRequest): PkiCsrRequest {
  const { subject, keyUsage, extendedKeyUsage, dnsNames, ipAddresses, emails, uris } = request;
  const altNames = {
    ...(dnsNames === undefined ? {} : { dnsNames }), ...(ipAddresses === undefined ? {} : { ipAddresses }),
    ...(emails === undefined ? {} : { emails }), ...(uris === undefined ? {} : { uris }),
  };
  return { subject, altNames, ...(keyUsage === undefined ? {} : { keyUsage }), ...(extendedKeyUsage === undefined ? {} : { extendedKeyUsage }) };
}

/** A PKCS#10 request for `privateKey`'s public key, self-signed with it here. */
export async function buildLocalCsr(privateKey: KeyObject, request: CsrRequest): Promise<BuiltCsr> {
  return local.buildLocalCsr(privateKey, pkiRequest(request));
}

/** A new EC P-256 key pair and a CSR for it: the private key as PKCS#8 PEM, for the caller to keep. */
export async function newLocalKeyWithCsr(request: CsrRequest): Promise<{ privateKeyPem: string; csr: BuiltCsr }> {
  return local.newLocalKeyWithCsr(pkiRequest(request));
}
