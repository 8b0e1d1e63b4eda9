// Who is calling: a trusted client certificate from the TLS handshake, or a bearer token from
// password login. The TLS layer requests but does not enforce client certificates, so an untrusted
// one reaches this code and is refused with a JSON error instead of a dropped handshake.
import { createHash } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { CofferError, toCofferError } from '../core/errors.ts';
import type { Principal } from './identity/identity-types.ts';
import type { NodeServices } from './node-services.ts';

/**
 * Tests only: resolves a principal for requests that carry neither a certificate nor a token. It is
 * a function, so it cannot come from a configuration file; startNode never passes one.
 */
export type TestAuthenticator = (request: FastifyRequest) => Promise<Principal | undefined>;

/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/**
 * SHA-256 of the certificate's DER, lowercase hex: how principals name their certificates (the same
 * value as pki's certificateFingerprint, without parsing the certificate on every connection).
 */
export function certificateFingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** A connection's certificate does not change, so keep-alive requests hash it once. */
const fingerprints = new WeakMap<TLSSocket, string>();

function presentedCertificate(request: FastifyRequest): { fingerprint: string; trusted: boolean } | undefined {
  const socket = request.raw.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  let fingerprint = fingerprints.get(socket);
  if (fingerprint === undefined) {
    // An empty object when the client sent no certificate.
    const raw: unknown = socket.getPeerCertificate().raw;
    if (!(raw instanceof Buffer)) return undefined;
    fingerprint = certificateFingerprintOf(raw);
    fingerprints.set(socket, fingerprint);
  }
  return { fingerprint, trusted: socket.authorized };
}

export async function authenticate(request: FastifyRequest, services: NodeServices, testAuthenticator?: TestAuthenticator): Promise<Principal> {
  const certificate = presentedCertificate(request);
  if (certificate !== undefined) {
    // A presented certificate must be trusted even if a token is also sent: an untrusted one is a warning sign.
    if (!certificate.trusted) throw new CofferError('AUTH_CERTIFICATE_UNTRUSTED', 'the client certificate is not issued by a trusted CA');
    const directory = await services.directory();
    return directory.authenticateCertificate(certificate.fingerprint, request.id);
  }
  const header = request.headers.authorization;
  if (header !== undefined) {
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) throw new CofferError('AUTH_FAILED', 'the Authorization header must be "Bearer <token>"');
    const directory = await services.directory();
    return directory.authenticateToken(token, request.id);
  }
  const injected = testAuthenticator === undefined ? undefined : await testAuthenticator(request);
  if (injected !== undefined) return injected;
  throw new CofferError('AUTH_REQUIRED', 'present a trusted client certificate or a bearer token');
}

/** The token a request authenticated with, for logout. */
export function bearerTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

/**
 * For a relying service (the signing service) that verified a client's TLS handshake itself: the
 * active principal the certificate (DER) is bound to, so Coffer stays the one authority on names.
 * Services only (ACCESS_DENIED); every answer is journalled with the fingerprint, never the certificate.
 */
export async function identifyCertificate(services: NodeServices, caller: Principal, certificateDer: Uint8Array, requestId: string): Promise<{ name: string; role: string }> {
  const fingerprint = certificateFingerprintOf(certificateDer);
  const audit = (outcome: 'ALLOWED' | 'DENIED' | 'FAILED', errorCode?: string, name?: string): Promise<void> => services.node.audit.append({
    time: new Date().toISOString(), principal: caller.name, operation: 'auth.identify', outcome, requestId,
    ...(errorCode === undefined ? {} : { errorCode }), detail: { fingerprint, ...(name === undefined ? {} : { identified: name }) },
  });
  if (caller.role !== 'service') {
    await audit('DENIED', 'ACCESS_DENIED');
    throw new CofferError('ACCESS_DENIED', 'only service principals identify certificates');
  }
  try {
    const principal = await (await services.directory()).authenticateCertificate(fingerprint, requestId);
    await audit('ALLOWED', undefined, principal.name);
    return { name: principal.name, role: principal.role };
  } catch (error) {
    const failure = toCofferError(error);
    await audit('FAILED', failure.code);
    throw failure;
  }
}
