// Authentication through a real node: client certificates, password login and tokens, expiry on a
// manual clock, rate limiting, and tokens and certificates refused once their principal is disabled.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { callerOf } from './identity-types.ts';
import { caller, directoryFor, entryFor, fingerprint, journal, openFixture, OFFICER_PASSWORD } from './identity-test-kit.ts';

const PASSWORD = 'bob-pass-phrase-2030';
const at = (requestId: string, remoteAddress = '198.51.100.7'): { requestId: string; remoteAddress: string } => ({ requestId, remoteAddress });

describe('certificate authentication', () => {
  it('maps a bound fingerprint to its principal, audits refusals only, and follows every change', async (t) => {
    const f = await openFixture(t);
    const [fp, other] = [fingerprint(), fingerprint()];
    await f.directory.createProject(f.officer, { name: 'alpha' });
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', projects: ['alpha'], certificates: [{ fingerprint: fp }] });
    const bob = await f.directory.authenticateCertificate(fp, 'cert-ok');
    assert.deepEqual(callerOf(bob, 'r1'), { principal: 'bob', roles: ['user'], projects: ['alpha'], requestId: 'r1' });
    assert.equal(journal(f.node).some((e) => e['requestId'] === 'cert-ok'), false);

    await assert.rejects(f.directory.authenticateCertificate(other, 'cert-unknown'), { code: 'AUTH_CERTIFICATE_UNTRUSTED' });
    const unknown = entryFor(f.node, 'cert-unknown');
    assert.deepEqual([unknown['operation'], unknown['principal'], unknown['outcome'], unknown['errorCode'], unknown.detail?.['fingerprint']],
      ['auth.certificate', 'anonymous', 'DENIED', 'AUTH_CERTIFICATE_UNTRUSTED', other]);
    await assert.rejects(f.directory.authenticateCertificate(fp.toUpperCase(), 'cert-malformed'), { code: 'INVALID_ARGUMENT' });

    // The cache follows changes made through the directory: a new certificate works, the old one no longer.
    await f.directory.updatePrincipal(f.officer, 'bob', { certificates: [{ fingerprint: other }] });
    assert.equal((await f.directory.authenticateCertificate(other, 'cert-new')).name, 'bob');
    await assert.rejects(f.directory.authenticateCertificate(fp, 'cert-old'), { code: 'AUTH_CERTIFICATE_UNTRUSTED' });
    // Project changes show at the next authentication.
    await f.directory.updatePrincipal(f.officer, 'bob', { projects: [] });
    assert.deepEqual((await f.directory.authenticateCertificate(other, 'cert-projects')).projects, []);

    await f.directory.updatePrincipal(f.officer, 'bob', { status: 'DISABLED' });
    await assert.rejects(f.directory.authenticateCertificate(other, 'cert-disabled'), { code: 'AUTH_FAILED' });
    const disabled = entryFor(f.node, 'cert-disabled');
    assert.deepEqual([disabled['principal'], disabled['outcome']], ['bob', 'DENIED']);
    await f.directory.updatePrincipal(f.officer, 'bob', { status: 'ACTIVE' });
    assert.equal((await f.directory.authenticateCertificate(other, 'cert-enabled')).status, 'ACTIVE');
  });
});

describe('password login and tokens', () => {
  it('issues an opaque token that authenticates until it expires, and never journals a secret', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', password: PASSWORD });
    const issued = await f.directory.login('bob', PASSWORD, at('login-ok'));
    assert.match(issued.token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(issued.token, 'base64url').length, 32);
    assert.equal(issued.expiresAt, new Date(f.clock.now().getTime() + 900_000).toISOString());
    assert.equal(issued.principal.name, 'bob');
    const login = entryFor(f.node, 'login-ok');
    assert.deepEqual([login['operation'], login['principal'], login['outcome'], login.detail], ['auth.login', 'bob', 'ALLOWED', { remoteAddress: '198.51.100.7' }]);

    assert.equal((await f.directory.authenticateToken(issued.token, 'tok-1')).name, 'bob');
    assert.equal(journal(f.node).some((e) => e['requestId'] === 'tok-1'), false);
    f.clock.advance(899);
    assert.equal((await f.directory.authenticateToken(issued.token, 'tok-2')).name, 'bob');
    f.clock.advance(1);
    await assert.rejects(f.directory.authenticateToken(issued.token, 'tok-expired'), { code: 'AUTH_FAILED' });
    const expired = entryFor(f.node, 'tok-expired');
    assert.deepEqual([expired['operation'], expired['principal'], expired['outcome'], expired.detail], ['auth.token', 'bob', 'DENIED', { reason: 'expired' }]);
    // Expired tokens are gone, not merely refused.
    f.clock.advance(-10);
    await assert.rejects(f.directory.authenticateToken(issued.token, 'tok-gone'), { code: 'AUTH_FAILED' });

    await assert.rejects(f.directory.authenticateToken('not-a-token', 'tok-garbage'), { code: 'AUTH_FAILED' });
    assert.equal(entryFor(f.node, 'tok-garbage')['principal'], 'anonymous');
    const text = readFileSync(f.node.journalPath, 'utf8');
    assert.equal(text.includes(PASSWORD), false);
    assert.equal(text.includes(issued.token), false);
  });

  it('answers unknown name, wrong password, no password and disabled principal alike', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', password: PASSWORD });
    await f.directory.createPrincipal(f.officer, { name: 'carol', role: 'user' });
    await f.directory.createPrincipal(f.officer, { name: 'dave', role: 'user', password: PASSWORD });
    await f.directory.updatePrincipal(f.officer, 'dave', { status: 'DISABLED' });
    const attempts: [string, string][] = [['nobody', PASSWORD], ['bob', 'wrong-pass-phrase'], ['carol', PASSWORD], ['dave', PASSWORD], ['NOT A NAME', PASSWORD]];
    const messages = new Set<string>();
    for (const [i, [name, password]] of attempts.entries()) {
      await assert.rejects(f.directory.login(name, password, at(`bad-${i}`, `203.0.113.${i}`)), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'AUTH_FAILED');
        messages.add((error as Error).message);
        return true;
      });
      const entry = entryFor(f.node, `bad-${i}`);
      assert.deepEqual([entry['operation'], entry['outcome'], entry['errorCode']], ['auth.login', 'DENIED', 'AUTH_FAILED']);
      assert.equal(entry['principal'], name === 'NOT A NAME' ? 'anonymous' : name);
    }
    assert.equal(messages.size, 1);
    await assert.rejects(f.directory.login('bob', PASSWORD, at('')), { code: 'INVALID_ARGUMENT' });
    assert.equal(readFileSync(f.node.journalPath, 'utf8').includes('wrong-pass-phrase'), false);
  });

  it('refuses the 6th attempt after 5 failures in a minute, even with the right password, before hashing', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', password: PASSWORD });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(f.directory.login('bob', `wrong-pass-phrase-${i}`, at(`fail-${i}`, `192.0.2.${i}`)), { code: 'AUTH_FAILED' });
      f.clock.advance(5);
    }
    await assert.rejects(f.directory.login('bob', 'wrong-pass-phrase-5', at('limited-wrong', '192.0.2.50')), { code: 'RATE_LIMITED' });
    const started = performance.now();
    await assert.rejects(f.directory.login('bob', PASSWORD, at('limited-right', '192.0.2.51')), { code: 'RATE_LIMITED' });
    const refusedIn = performance.now() - started;
    const limited = entryFor(f.node, 'limited-right');
    assert.deepEqual([limited['principal'], limited['outcome'], limited['errorCode']], ['bob', 'DENIED', 'RATE_LIMITED']);
    // Another principal from a clean address is unaffected.
    await f.directory.createPrincipal(f.officer, { name: 'carol', role: 'user', password: PASSWORD });
    const hashing = performance.now();
    await f.directory.login('carol', PASSWORD, at('carol-ok', '192.0.2.60'));
    assert.ok(refusedIn < (performance.now() - hashing) / 2, `a refusal took ${refusedIn.toFixed(1)} ms: it must not hash`);
    // A minute after the first failure the window has room again.
    f.clock.advance(36);
    assert.equal((await f.directory.login('bob', PASSWORD, at('after-window', '192.0.2.70'))).principal.name, 'bob');
  });

  it('limits an address that tries many names, and takes its limit from the options', async (t) => {
    const f = await openFixture(t, { officerPassword: true, extra: { loginFailuresPerMinute: 2 } });
    await assert.rejects(f.directory.login('alice', PASSWORD, at('a1', '192.0.2.9')), { code: 'AUTH_FAILED' });
    await assert.rejects(f.directory.login('zed', PASSWORD, at('a2', '192.0.2.9')), { code: 'AUTH_FAILED' });
    await assert.rejects(f.directory.login('olivia', OFFICER_PASSWORD, at('a3', '192.0.2.9')), { code: 'RATE_LIMITED' });
    assert.equal((await f.directory.login('olivia', OFFICER_PASSWORD, at('a4', '192.0.2.10'))).principal.role, 'officer');
  });

  it('kills tokens when their principal is disabled, deleted or given a new password, and on logout', async (t) => {
    const f = await openFixture(t, { extra: { tokenTtlSeconds: 120 } });
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', password: PASSWORD });
    await f.directory.createPrincipal(f.officer, { name: 'carol', role: 'user', password: PASSWORD });
    const first = await f.directory.login('bob', PASSWORD, at('l1'));
    assert.equal(first.expiresAt, new Date(f.clock.now().getTime() + 120_000).toISOString());

    await f.directory.updatePrincipal(f.officer, 'bob', { status: 'DISABLED' });
    await assert.rejects(f.directory.authenticateToken(first.token, 'disabled'), { code: 'AUTH_FAILED' });
    await assert.rejects(f.directory.login('bob', PASSWORD, at('l-disabled')), { code: 'AUTH_FAILED' });
    await f.directory.updatePrincipal(f.officer, 'bob', { status: 'ACTIVE' });
    await assert.rejects(f.directory.authenticateToken(first.token, 're-enabled'), { code: 'AUTH_FAILED' });

    // The user changes its own password: old tokens die, the old password fails, the new one works.
    const second = await f.directory.login('bob', PASSWORD, at('l2'));
    await f.directory.setPassword(caller('bob', 'user'), 'bob', 'bob-new-pass-phrase');
    await assert.rejects(f.directory.authenticateToken(second.token, 'after-password'), { code: 'AUTH_FAILED' });
    await assert.rejects(f.directory.login('bob', PASSWORD, at('l-old')), { code: 'AUTH_FAILED' });
    const third = await f.directory.login('bob', 'bob-new-pass-phrase', at('l3'));

    await f.directory.logout(third.token, 'logout-1');
    assert.deepEqual([entryFor(f.node, 'logout-1')['operation'], entryFor(f.node, 'logout-1')['principal']], ['auth.logout', 'bob']);
    await assert.rejects(f.directory.authenticateToken(third.token, 'after-logout'), { code: 'AUTH_FAILED' });
    await f.directory.logout(third.token, 'logout-2');
    assert.equal(journal(f.node).some((e) => e['requestId'] === 'logout-2'), false);

    const carol = await f.directory.login('carol', PASSWORD, at('l4'));
    await f.directory.deletePrincipal(f.officer, 'carol');
    await assert.rejects(f.directory.authenticateToken(carol.token, 'deleted'), { code: 'AUTH_FAILED' });
  });

  it('drops a token whose principal was disabled behind its back (another directory on the same store)', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', password: PASSWORD });
    const issued = await f.directory.login('bob', PASSWORD, at('l1'));
    await f.directory.authenticateToken(issued.token, 'warm-cache');
    const other = directoryFor(f.node, f.clock);
    await other.updatePrincipal(f.officer, 'bob', { status: 'DISABLED' });
    // Until the change feed invalidates, this node's cache still has bob as ACTIVE...
    assert.equal((await f.directory.authenticateToken(issued.token, 'stale')).status, 'ACTIVE');
    // ...and the invalidation the feed will make is what ends the token.
    f.directory.invalidateCaches();
    await assert.rejects(f.directory.authenticateToken(issued.token, 'fresh'), { code: 'AUTH_FAILED' });
    assert.equal(entryFor(f.node, 'fresh').detail?.['reason'], 'disabled');
  });

  it('rejects a token lifetime outside 60 s to 24 h', async (t) => {
    const f = await openFixture(t);
    for (const tokenTtlSeconds of [59, 86_401, 1.5]) assert.throws(() => directoryFor(f.node, f.clock, { tokenTtlSeconds }), { code: 'INVALID_ARGUMENT' });
  });
});
