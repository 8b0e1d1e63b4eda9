// How a request becomes a principal: a client certificate's fingerprint, or a password login that
// yields a short-lived bearer token. Every failure looks the same from outside and is audited.
import { CofferError } from '../../core/errors.ts';
import type { DirectoryContext } from './directory-context.ts';
import { ANONYMOUS } from './identity-audit.ts';
import { toPrincipal } from './identity-records.ts';
import type { IssuedToken, Principal } from './identity-types.ts';
import { checkFingerprint, checkToken, isBoundedText, isName } from './identity-validation.ts';
import type { LoginRateLimiter } from './login-rate-limiter.ts';
import { dummyVerify, verifyPassword } from './password-hash.ts';

export interface LoginContext {
  readonly remoteAddress: string;
  readonly requestId: string;
}

function failedAuthentication(): CofferError {
  // One message for unknown names, wrong passwords, disabled principals and dead tokens alike.
  return new CofferError('AUTH_FAILED', 'authentication failed');
}

export class PrincipalAuthentication {
  readonly #context: DirectoryContext;
  readonly #limiter: LoginRateLimiter;

  constructor(context: DirectoryContext, limiter: LoginRateLimiter) {
    this.#context = context;
    this.#limiter = limiter;
  }

  async certificate(fingerprint: string, requestId: string): Promise<Principal> {
    const context = this.#context;
    context.requireUnsealed();
    const call = { principal: ANONYMOUS, requestId, operation: 'auth.certificate', failuresOnly: true };
    return context.audit.run(call, {}, async (scope) => {
      checkToken(requestId, 'a request id');
      checkFingerprint(fingerprint);
      scope.detail['fingerprint'] = fingerprint;
      const record = await context.cache.byFingerprint(fingerprint);
      if (record === undefined) throw new CofferError('AUTH_CERTIFICATE_UNTRUSTED', 'the client certificate maps to no principal');
      scope.principal = record.name;
      if (record.status !== 'ACTIVE') throw failedAuthentication();
      return toPrincipal(record);
    });
  }

  async login(name: string, password: string, request: LoginContext): Promise<IssuedToken> {
    const context = this.#context;
    context.requireUnsealed();
    const call = { principal: isName(name) ? name : ANONYMOUS, requestId: request.requestId, operation: 'auth.login' };
    const detail = isBoundedText(request.remoteAddress) ? { remoteAddress: request.remoteAddress } : {};
    return context.audit.run(call, detail, async () => {
      checkToken(request.requestId, 'a request id');
      const address = checkToken(request.remoteAddress, 'a remote address');
      // Malformed names share one bucket: no principal can have them, so it locks out no one.
      const bucket = isName(name) ? name : '';
      if (this.#limiter.isLimited(bucket, address)) {
        throw new CofferError('RATE_LIMITED', 'too many failed logins; wait a minute before trying again');
      }
      const record = isName(name) ? (await context.records.principalByName(name))?.value : undefined;
      // Exactly one scrypt run whatever the case, so timing tells no name, status or password presence.
      const matches = record?.passwordHash === undefined ? await dummyVerify(password) : await verifyPassword(password, record.passwordHash);
      if (record === undefined || !matches || record.status !== 'ACTIVE') {
        this.#limiter.recordFailure(bucket, address);
        throw failedAuthentication();
      }
      const issued = context.tokens.issue(record.id, record.name);
      return { token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString(), principal: toPrincipal(record) };
    });
  }

  async token(token: string, requestId: string): Promise<Principal> {
    const context = this.#context;
    context.requireUnsealed();
    const call = { principal: ANONYMOUS, requestId, operation: 'auth.token', failuresOnly: true };
    return context.audit.run(call, {}, async (scope) => {
      checkToken(requestId, 'a request id');
      const found = context.tokens.lookup(token);
      if (found.status === 'unknown') throw failedAuthentication();
      scope.principal = found.session.principalName;
      if (found.status === 'expired') {
        scope.detail['reason'] = 'expired';
        throw failedAuthentication();
      }
      // Read afresh (through the cache that every change drops): a token dies with its principal's status.
      const record = await context.cache.byId(found.session.principalId);
      if (record?.status !== 'ACTIVE') {
        scope.detail['reason'] = record === undefined ? 'deleted' : 'disabled';
        context.tokens.revokePrincipal(found.session.principalId);
        throw failedAuthentication();
      }
      return toPrincipal(record);
    });
  }

  async logout(token: string, requestId: string): Promise<void> {
    const context = this.#context;
    context.requireUnsealed();
    const session = context.tokens.revoke(token);
    if (session === undefined) return;
    await context.audit.run({ principal: session.principalName, requestId, operation: 'auth.logout' }, {}, () => Promise.resolve());
  }
}
