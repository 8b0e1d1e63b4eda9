// Who calls the signer: a client certificate that its client CA issued and that Coffer binds to a
// principal (POST /v1/auth/identify: Coffer binds certificates by fingerprint, so it stays the one
// authority on names), or a bearer token from Coffer's login, which Coffer resolves (whoami). Answers
// are remembered briefly: certificates by fingerprint, tokens by their SHA-256, never by value.
import { createHash } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { CofferError, toCofferError } from '../../core/errors.ts';
import { PRINCIPAL } from './project-store.ts';
import type { SignerCaller } from './signing-service.ts';

/** RFC 6750 §2.1 b64token. */
const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;
const CACHE_MS = 30_000;
const CACHE_MAX = 10_000;

/** Asks Coffer whose token this is (GET /v1/auth/whoami with the token); rejects when Coffer refuses it. */
export type TokenResolver = (token: string) => Promise<string>;
/** Asks Coffer whose certificate this is (DER; POST /v1/auth/identify); rejects when it is bound to no active principal. */
export type CertificateResolver = (der: Buffer) => Promise<string>;

export interface SignerAuthenticatorOptions {
  readonly certificates: CertificateResolver;
  /** Without one, bearer tokens are refused. */
  readonly tokens?: TokenResolver;
}

export class SignerAuthenticator {
  readonly #options: SignerAuthenticatorOptions;
  /** Answers by SHA-256 (of a token, or of a certificate's DER). */
  readonly #known = new Map<string, { principal: string; until: number }>();

  constructor(options: SignerAuthenticatorOptions) {
    this.#options = options;
  }

  async authenticate(request: FastifyRequest): Promise<SignerCaller> {
    const socket = request.raw.socket;
    if (socket instanceof TLSSocket) {
      const certificate = socket.getPeerCertificate();
      if (Object.keys(certificate).length > 0) {
        if (!socket.authorized) throw new CofferError('AUTH_CERTIFICATE_UNTRUSTED', 'the client certificate is not issued by a CA the signer trusts');
        const principal = await this.#cached(certificate.raw, async () => this.#options.certificates(certificate.raw), 'AUTH_CERTIFICATE_UNTRUSTED', 'Coffer binds this client certificate to no active principal');
        return { principal, authenticatedBy: 'certificate', requestId: request.id };
      }
    }
    const header = request.headers.authorization;
    if (header === undefined) throw new CofferError('AUTH_REQUIRED', 'present a client certificate or a Coffer bearer token');
    const token = BEARER.exec(header)?.[1];
    if (token === undefined) throw new CofferError('AUTH_FAILED', 'the Authorization header must be "Bearer <token>"');
    const resolve = this.#options.tokens;
    if (resolve === undefined) throw new CofferError('AUTH_FAILED', 'this signer takes client certificates only');
    const principal = await this.#cached(Buffer.from(token), async () => resolve(token), 'AUTH_FAILED', 'Coffer does not accept this token (expired, logged out, or its principal disabled)');
    return { principal, authenticatedBy: 'token', requestId: request.id };
  }

  async #cached(credential: Buffer, resolve: () => Promise<string>, code: 'AUTH_FAILED' | 'AUTH_CERTIFICATE_UNTRUSTED', message: string): Promise<string> {
    const id = createHash('sha256').update(credential).digest('hex');
    const now = Date.now();
    const known = this.#known.get(id);
    if (known !== undefined && known.until > now) return known.principal;
    let principal: string;
    try {
      principal = await resolve();
    } catch (error) {
      const failure = toCofferError(error);
      // Coffer unreachable is not the caller's fault; anything else is a refused credential.
      if (failure.code.startsWith('CLIENT_') || failure.code === 'STORE_UNAVAILABLE') throw failure;
      throw new CofferError(code, message);
    }
    if (!PRINCIPAL.test(principal)) throw new CofferError(code, message);
    if (this.#known.size >= CACHE_MAX) this.#known.clear();
    this.#known.set(id, { principal, until: now + CACHE_MS });
    return principal;
  }
}
