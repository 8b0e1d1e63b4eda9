// Who calls the signer: a client certificate its client CA issued (the principal is the subject's
// CN: that CA must be one that names Coffer principals, such as Coffer's own CA), or a bearer token
// from Coffer's login, which Coffer itself resolves. A resolved token is remembered briefly by its
// SHA-256, never by its value.
import { createHash } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { CofferError, toCofferError } from '../../core/errors.ts';
import { PRINCIPAL } from './project-store.ts';
import type { SignerCaller } from './signing-service.ts';

/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;
const TOKEN_CACHE_MS = 30_000;
const TOKEN_CACHE_MAX = 10_000;

/** Asks Coffer whose token this is (GET /v1/auth/whoami with the token); rejects when Coffer refuses it. */
export type TokenResolver = (token: string) => Promise<string>;

export class SignerAuthenticator {
  readonly #resolve: TokenResolver | undefined;
  readonly #tokens = new Map<string, { principal: string; until: number }>();

  constructor(resolve?: TokenResolver) {
    this.#resolve = resolve;
  }

  async authenticate(request: FastifyRequest): Promise<SignerCaller> {
    const socket = request.raw.socket;
    if (socket instanceof TLSSocket) {
      const certificate = socket.getPeerCertificate();
      if (Object.keys(certificate).length > 0) {
        if (!socket.authorized) throw new CofferError('AUTH_CERTIFICATE_UNTRUSTED', 'the client certificate is not issued by a CA the signer trusts');
        const cn = certificate.subject.CN;
        const name = Array.isArray(cn) ? undefined : cn;
        if (name === undefined || !PRINCIPAL.test(name)) throw new CofferError('AUTH_CERTIFICATE_UNTRUSTED', 'the client certificate names no principal (its subject CN)');
        return { principal: name, authenticatedBy: 'certificate', requestId: request.id };
      }
    }
    const header = request.headers.authorization;
    if (header === undefined) throw new CofferError('AUTH_REQUIRED', 'present a client certificate or a Coffer bearer token');
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) throw new CofferError('AUTH_FAILED', 'the Authorization header must be "Bearer <token>"');
    return { principal: await this.#principalOf(token), authenticatedBy: 'token', requestId: request.id };
  }

  async #principalOf(token: string): Promise<string> {
    if (this.#resolve === undefined) throw new CofferError('AUTH_FAILED', 'this signer takes client certificates only');
    const id = createHash('sha256').update(token).digest('hex');
    const now = Date.now();
    const known = this.#tokens.get(id);
    if (known !== undefined && known.until > now) return known.principal;
    let principal: string;
    try {
      principal = await this.#resolve(token);
    } catch (error) {
      const failure = toCofferError(error);
      // Coffer unreachable is not the caller's fault; anything else is a refused token.
      if (failure.code.startsWith('CLIENT_')) throw failure;
      throw new CofferError('AUTH_FAILED', 'Coffer does not accept this token (expired, logged out, or its principal disabled)');
    }
    if (this.#tokens.size >= TOKEN_CACHE_MAX) this.#tokens.clear();
    this.#tokens.set(id, { principal, until: now + TOKEN_CACHE_MS });
    return principal;
  }
}
