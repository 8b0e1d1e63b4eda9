// Principal names are identities in key policies, so a deleted principal's name is retired, never
// reissued; and the one lookup the server makes past the access rules (requireActivePrincipal).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { caller, directoryFor, entryFor, fingerprint, journal, ManualClock, openFixture, openTestNode } from './identity-test-kit.ts';
import { SealedIdentityStore, writes } from './sealed-identity-store.ts';

const PASSWORD = 'retired-pass-phrase';

describe('a deleted principal\'s name', () => {
  it('is never given out again, and reads as no principal everywhere', async (t) => {
    const f = await openFixture(t);
    await f.directory.createProject(f.officer, { name: 'alpha' });
    const bob = await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', projects: ['alpha'], password: PASSWORD });
    await f.directory.deletePrincipal(f.officer, 'bob');

    for (const role of ['user', 'officer'] as const) {
      const actor = caller('olivia', 'officer');
      await assert.rejects(f.directory.createPrincipal(actor, { name: 'bob', role, projects: [], password: PASSWORD }), { code: 'PRINCIPAL_ALREADY_EXISTS' });
      const entry = entryFor(f.node, actor.requestId);
      assert.deepEqual([entry['outcome'], entry['errorCode'], entry.detail?.['target']], ['FAILED', 'PRINCIPAL_ALREADY_EXISTS', 'bob']);
    }
    await assert.rejects(f.directory.getPrincipal(f.officer, 'bob'), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.getPrincipal(f.officer, bob.id), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'bob', { status: 'ACTIVE' }), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.setPassword(f.officer, 'bob', PASSWORD), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.deletePrincipal(f.officer, 'bob'), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.login('bob', PASSWORD, { requestId: 'login-bob', remoteAddress: '127.0.0.1' }), { code: 'AUTH_FAILED' });
    assert.deepEqual((await f.directory.listPrincipals(f.officer)).map((p) => p.name), ['olivia']);
    // The tombstone took the name index's place in the deletion's commit; the record itself is gone.
    assert.notEqual(await f.node.store.get('principal-name/bob'), undefined);
    assert.equal(await f.node.store.get(`principal/${bob.id}`), undefined);
  });

  it('is skipped by listing, which pages on past tombstones so that a short page still means the end', async (t) => {
    const f = await openFixture(t);
    const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    for (const name of names) await f.directory.createPrincipal(f.officer, { name, role: 'user' });
    for (const name of ['p2', 'p3', 'p4']) await f.directory.deletePrincipal(f.officer, name);
    assert.deepEqual((await f.directory.listPrincipals(f.officer, { after: 'p1', limit: 2 })).map((p) => p.name), ['p5', 'p6']);
    const seen: string[] = [];
    for (let after: string | undefined; ;) {
      const page = await f.directory.listPrincipals(f.officer, { limit: 2, ...(after === undefined ? {} : { after }) });
      seen.push(...page.map((p) => p.name));
      if (page.length < 2) break;
      after = page.at(-1)?.name;
    }
    assert.deepEqual(seen, ['olivia', 'p1', 'p5', 'p6']);
  });

  it('cannot become a first officer either', async (t) => {
    const { node } = await openTestNode(t);
    // Unreachable through the directory (the last officer is never deleted), so written directly.
    const deletedAt = new Date().toISOString();
    await new SealedIdentityStore(node.store, node.barrier).commit([writes.retireName('olivia', `prn_${'0'.repeat(32)}`, deletedAt, 0)]);
    const directory = directoryFor(node, new ManualClock());
    assert.equal(await directory.hasPrincipals(), false);
    await assert.rejects(directory.bootstrapOfficer({ name: 'olivia', requestId: 'boot-retired' }), { code: 'PRINCIPAL_ALREADY_EXISTS' });
    assert.equal(entryFor(node, 'boot-retired')['errorCode'], 'PRINCIPAL_ALREADY_EXISTS');
    assert.equal((await directory.bootstrapOfficer({ name: 'oscar' })).role, 'officer');
  });
});

describe('requireActivePrincipal', () => {
  it('resolves for an active principal only; unknown, deleted and disabled are all PRINCIPAL_NOT_FOUND, unaudited', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'uma', role: 'user' });
    await f.directory.createPrincipal(f.officer, { name: 'dora', role: 'user' });
    await f.directory.createPrincipal(f.officer, { name: 'gone', role: 'user', certificates: [{ fingerprint: fingerprint() }] });
    await f.directory.updatePrincipal(f.officer, 'dora', { status: 'DISABLED' });
    await f.directory.deletePrincipal(f.officer, 'gone');
    const entries = journal(f.node).length;

    await f.directory.requireActivePrincipal('uma');
    await f.directory.requireActivePrincipal('olivia');
    for (const name of ['nobody', 'gone', 'dora']) {
      await assert.rejects(f.directory.requireActivePrincipal(name), { code: 'PRINCIPAL_NOT_FOUND' }, name);
    }
    await assert.rejects(f.directory.requireActivePrincipal('NOT A NAME'), { code: 'INVALID_ARGUMENT' });
    // The operation that asks (key.share) audits the outcome; the check itself leaves no entry.
    assert.equal(journal(f.node).length, entries);

    await f.node.seal();
    await assert.rejects(f.directory.requireActivePrincipal('uma'), { code: 'DOMAIN_SEALED' });
  });
});
