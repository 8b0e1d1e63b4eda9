// Managing principals through a real node: each operation's allowed and refused paths per role
// (officer, user, auditor, service; self and other), the codes, and the audit entry of every call.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Caller } from '../../core/engine/index.ts';
import { caller, entryFor, fingerprint, journal, openFixture, type Fixture } from './identity-test-kit.ts';

const USER_PASSWORD = 'user-pass-phrase-123';

function assertAudited(f: Fixture, actor: Caller, operation: string, outcome: 'ALLOWED' | 'DENIED' | 'FAILED', errorCode?: string): void {
  const entry = entryFor(f.node, actor.requestId);
  assert.equal(entry['operation'], operation);
  assert.equal(entry['principal'], actor.principal);
  assert.equal(entry['outcome'], outcome);
  assert.equal(entry['errorCode'], errorCode);
}

/** A fixture with projects alpha and beta, user "uma" (alpha), service "sam" (beta) and auditor "ada". */
async function populated(t: Parameters<typeof openFixture>[0]): Promise<Fixture & { uma: Caller; sam: Caller; ada: Caller }> {
  const f = await openFixture(t);
  await f.directory.createProject(caller('olivia', 'officer'), { name: 'alpha', description: 'first project' });
  await f.directory.createProject(caller('olivia', 'officer'), { name: 'beta' });
  await f.directory.createPrincipal(caller('olivia', 'officer'), { name: 'uma', role: 'user', projects: ['alpha'] });
  await f.directory.createPrincipal(caller('olivia', 'officer'), { name: 'sam', role: 'service', projects: ['beta'] });
  await f.directory.createPrincipal(caller('olivia', 'officer'), { name: 'ada', role: 'auditor' });
  return { ...f, uma: caller('uma', 'user', ['alpha']), sam: caller('sam', 'service', ['beta']), ada: caller('ada', 'auditor') };
}

describe('bootstrapping the first officer', () => {
  it('works once, while no principal exists, audited as system', async (t) => {
    const f = await openFixture(t);
    assert.equal(await f.directory.hasPrincipals(), true);
    const officer = await f.directory.getPrincipal(f.officer, 'olivia');
    assert.deepEqual([officer.role, officer.status, officer.projects, officer.hasPassword], ['officer', 'ACTIVE', [], false]);
    assert.match(officer.id, /^prn_[0-9a-f]{32}$/);
    const boot = journal(f.node).find((e) => e['operation'] === 'principal.bootstrap');
    assert.deepEqual([boot?.['principal'], boot?.['outcome'], boot?.detail?.['target']], ['system', 'ALLOWED', 'olivia']);

    await assert.rejects(f.directory.bootstrapOfficer({ name: 'mallory', requestId: 'boot-2' }), { code: 'ACCESS_DENIED' });
    assert.deepEqual([entryFor(f.node, 'boot-2')['outcome'], entryFor(f.node, 'boot-2')['errorCode']], ['DENIED', 'ACCESS_DENIED']);
    await assert.rejects(f.directory.getPrincipal(f.officer, 'mallory'), { code: 'PRINCIPAL_NOT_FOUND' });
  });
});

describe('createPrincipal', () => {
  it('lets an officer create a principal with projects, default project, certificates and password', async (t) => {
    const f = await populated(t);
    const fp = fingerprint();
    const actor = caller('olivia', 'officer');
    const bob = await f.directory.createPrincipal(actor, {
      name: 'bob', role: 'user', projects: ['beta', 'alpha'], defaultProject: 'beta',
      certificates: [{ fingerprint: fp, subject: 'CN=bob' }], password: USER_PASSWORD,
    });
    assert.equal(bob.name, 'bob');
    assert.deepEqual(bob.projects, ['alpha', 'beta']);
    assert.equal(bob.defaultProject, 'beta');
    assert.deepEqual(bob.certificates, [{ fingerprint: fp, subject: 'CN=bob' }]);
    assert.equal(bob.hasPassword, true);
    assert.equal(bob.status, 'ACTIVE');
    assert.equal('passwordHash' in bob, false);
    assert.equal(Object.isFrozen(bob), true);
    assertAudited(f, actor, 'principal.create', 'ALLOWED');
    assert.deepEqual(entryFor(f.node, actor.requestId).detail, { target: 'bob', role: 'user' });
    assert.equal(readFileSync(f.node.journalPath, 'utf8').includes(USER_PASSWORD), false);
    assert.equal(readFileSync(f.node.journalPath, 'utf8').includes('scrypt$'), false);
  });

  it('refuses users, auditors and services (ACCESS_DENIED, audited DENIED)', async (t) => {
    const f = await populated(t);
    for (const actor of [caller('uma', 'user', ['alpha']), caller('ada', 'auditor'), caller('sam', 'service', ['beta'])]) {
      await assert.rejects(f.directory.createPrincipal(actor, { name: 'eve', role: 'officer' }), { code: 'ACCESS_DENIED' });
      assertAudited(f, actor, 'principal.create', 'DENIED', 'ACCESS_DENIED');
    }
    await assert.rejects(f.directory.getPrincipal(f.officer, 'eve'), { code: 'PRINCIPAL_NOT_FOUND' });
  });

  it('checks the name, the role, the projects, the default project, fingerprints and the password', async (t) => {
    const f = await populated(t);
    const cases: [Parameters<typeof f.directory.createPrincipal>[1], string][] = [
      [{ name: 'Bob', role: 'user' }, 'INVALID_ARGUMENT'],
      [{ name: '.bob', role: 'user' }, 'INVALID_ARGUMENT'],
      [{ name: 'b'.repeat(65), role: 'user' }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: 'admin' as 'user' }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: ['user', 'officer'] as unknown as 'user' }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: 'user', projects: ['alpha', 'alpha'] }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: 'user', projects: ['alpha'], defaultProject: 'beta' }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: 'user', certificates: [{ fingerprint: fingerprint().toUpperCase() }] }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: 'user', password: 'too-short' }, 'INVALID_ARGUMENT'],
      [{ name: 'bob', role: 'user', projects: ['gamma'] }, 'PROJECT_NOT_FOUND'],
      [{ name: 'uma', role: 'user' }, 'PRINCIPAL_ALREADY_EXISTS'],
    ];
    for (const [input, code] of cases) {
      const actor = caller('olivia', 'officer');
      await assert.rejects(f.directory.createPrincipal(actor, input), { code }, JSON.stringify(input));
      assertAudited(f, actor, 'principal.create', 'FAILED', code);
    }
    assert.equal(readFileSync(f.node.journalPath, 'utf8').includes('too-short'), false);
    await assert.rejects(f.directory.getPrincipal(f.officer, 'bob'), { code: 'PRINCIPAL_NOT_FOUND' });
  });

  it('binds a certificate fingerprint to one principal only, and a refused create writes nothing', async (t) => {
    const f = await populated(t);
    const fp = fingerprint();
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', certificates: [{ fingerprint: fp }] });
    await assert.rejects(f.directory.createPrincipal(f.officer, { name: 'carol', role: 'user', certificates: [{ fingerprint: fp }] }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'uma', { certificates: [{ fingerprint: fp }] }), { code: 'INVALID_ARGUMENT' });
    // Nothing of carol was written: the name is free, and the fingerprint still leads to bob.
    await f.directory.createPrincipal(f.officer, { name: 'carol', role: 'user' });
    assert.equal((await f.directory.authenticateCertificate(fp, 'req-cert')).name, 'bob');
    // Two creates racing for one fingerprint: exactly one wins.
    const shared = fingerprint();
    const results = await Promise.allSettled(['dave', 'erin'].map((name) =>
      f.directory.createPrincipal(caller('olivia', 'officer'), { name, role: 'user', certificates: [{ fingerprint: shared }] })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = results.find((r) => r.status === 'rejected');
    assert.equal((refused?.reason as { code?: unknown } | undefined)?.code, 'INVALID_ARGUMENT');
  });
});

describe('getPrincipal and listPrincipals', () => {
  it('shows everyone to officers and auditors, by name or id', async (t) => {
    const f = await populated(t);
    const uma = await f.directory.getPrincipal(f.officer, 'uma');
    for (const actor of [caller('olivia', 'officer'), caller('ada', 'auditor')]) {
      assert.equal((await f.directory.getPrincipal(actor, uma.id)).name, 'uma');
      assertAudited(f, actor, 'principal.get', 'ALLOWED');
      assert.equal(entryFor(f.node, actor.requestId).detail?.['target'], 'uma');
    }
  });

  it('shows users and services only themselves; others are not found, audited as DENIED', async (t) => {
    const f = await populated(t);
    const sam = await f.directory.getPrincipal(f.officer, 'sam');
    for (const [self, other] of [[caller('uma', 'user', ['alpha']), 'sam'], [caller('sam', 'service', ['beta']), 'uma']] as const) {
      assert.equal((await f.directory.getPrincipal(self, self.principal)).name, self.principal);
      const actor = { ...self, requestId: `${self.requestId}-other` };
      await assert.rejects(f.directory.getPrincipal(actor, other), { code: 'PRINCIPAL_NOT_FOUND' });
      assertAudited(f, actor, 'principal.get', 'DENIED', 'PRINCIPAL_NOT_FOUND');
    }
    assert.equal((await f.directory.getPrincipal(caller('sam', 'service'), sam.id)).name, 'sam');
    await assert.rejects(f.directory.getPrincipal(caller('uma', 'user'), sam.id), { code: 'PRINCIPAL_NOT_FOUND' });
    const missing = caller('olivia', 'officer');
    await assert.rejects(f.directory.getPrincipal(missing, 'nobody'), { code: 'PRINCIPAL_NOT_FOUND' });
    assertAudited(f, missing, 'principal.get', 'FAILED', 'PRINCIPAL_NOT_FOUND');
    await assert.rejects(f.directory.getPrincipal(f.officer, 'NOT A NAME'), { code: 'INVALID_ARGUMENT' });
  });

  it('lists in name order with paging for officers and auditors only', async (t) => {
    const f = await populated(t);
    for (const actor of [caller('olivia', 'officer'), caller('ada', 'auditor')]) {
      assert.deepEqual((await f.directory.listPrincipals(actor)).map((p) => p.name), ['ada', 'olivia', 'sam', 'uma']);
      assertAudited(f, actor, 'principal.list', 'ALLOWED');
      assert.equal(entryFor(f.node, actor.requestId).detail?.['count'], 4);
    }
    assert.deepEqual((await f.directory.listPrincipals(f.officer, { after: 'ada', limit: 2 })).map((p) => p.name), ['olivia', 'sam']);
    for (const actor of [caller('uma', 'user', ['alpha']), caller('sam', 'service', ['beta'])]) {
      await assert.rejects(f.directory.listPrincipals(actor), { code: 'ACCESS_DENIED' });
      assertAudited(f, actor, 'principal.list', 'DENIED', 'ACCESS_DENIED');
    }
    await assert.rejects(f.directory.listPrincipals(f.officer, { limit: 0 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.directory.listPrincipals(f.officer, { limit: 1001 }), { code: 'INVALID_ARGUMENT' });
  });
});

describe('updatePrincipal', () => {
  it('lets an officer change projects, default project, certificates and status', async (t) => {
    const f = await populated(t);
    const actor = caller('olivia', 'officer');
    const fp = fingerprint();
    const updated = await f.directory.updatePrincipal(actor, 'uma', { projects: ['alpha', 'beta'], defaultProject: 'beta', certificates: [{ fingerprint: fp }] });
    assert.deepEqual([updated.projects, updated.defaultProject, updated.certificates], [['alpha', 'beta'], 'beta', [{ fingerprint: fp }]]);
    assertAudited(f, actor, 'principal.update', 'ALLOWED');
    // Leaving the default project drops it rather than refusing the revocation.
    const narrowed = await f.directory.updatePrincipal(f.officer, 'uma', { projects: ['alpha'] });
    assert.equal(narrowed.defaultProject, undefined);
    assert.equal((await f.directory.updatePrincipal(f.officer, 'uma', { status: 'DISABLED' })).status, 'DISABLED');
    assert.equal((await f.directory.getPrincipal(f.officer, 'uma')).status, 'DISABLED');
  });

  it('refuses non-officers, unknown principals, unknown projects and empty or malformed updates', async (t) => {
    const f = await populated(t);
    for (const actor of [caller('uma', 'user', ['alpha']), caller('ada', 'auditor'), caller('sam', 'service', ['beta'])]) {
      await assert.rejects(f.directory.updatePrincipal(actor, actor.principal, { projects: ['alpha', 'beta'] }), { code: 'ACCESS_DENIED' });
      assertAudited(f, actor, 'principal.update', 'DENIED', 'ACCESS_DENIED');
    }
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'nobody', { status: 'DISABLED' }), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'uma', { projects: ['gamma'] }), { code: 'PROJECT_NOT_FOUND' });
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'uma', {}), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'uma', { status: 'GONE' as 'ACTIVE' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.directory.updatePrincipal(f.officer, 'uma', { defaultProject: 'beta' }), { code: 'INVALID_ARGUMENT' });
    assert.deepEqual((await f.directory.getPrincipal(f.officer, 'uma')).projects, ['alpha']);
  });

  it('never leaves the domain without an active officer', async (t) => {
    const f = await populated(t);
    const self = caller('olivia', 'officer');
    await assert.rejects(f.directory.updatePrincipal(self, 'olivia', { status: 'DISABLED' }), { code: 'ACCESS_DENIED' });
    assertAudited(f, self, 'principal.update', 'DENIED', 'ACCESS_DENIED');
    await f.directory.createPrincipal(f.officer, { name: 'oscar', role: 'officer' });
    await f.directory.updatePrincipal(caller('oscar', 'officer'), 'olivia', { status: 'DISABLED' });
    // olivia's stale officer credentials cannot disable or delete the last active officer.
    const stale = caller('olivia', 'officer');
    await assert.rejects(f.directory.updatePrincipal(stale, 'oscar', { status: 'DISABLED' }), { code: 'ACCESS_DENIED' });
    assertAudited(f, stale, 'principal.update', 'DENIED', 'ACCESS_DENIED');
    await assert.rejects(f.directory.deletePrincipal(caller('olivia', 'officer'), 'oscar'), { code: 'ACCESS_DENIED' });
    // Re-enabling olivia makes two active officers again; then oscar may go.
    await f.directory.updatePrincipal(caller('oscar', 'officer'), 'olivia', { status: 'ACTIVE' });
    await f.directory.deletePrincipal(caller('olivia', 'officer'), 'oscar');
  });

  it('lets only one of two officers disabling each other at once succeed', async (t) => {
    const f = await populated(t);
    await f.directory.createPrincipal(f.officer, { name: 'oscar', role: 'officer' });
    const results = await Promise.allSettled([
      f.directory.updatePrincipal(caller('olivia', 'officer'), 'oscar', { status: 'DISABLED' }),
      f.directory.updatePrincipal(caller('oscar', 'officer'), 'olivia', { status: 'DISABLED' }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const refused = results.find((r) => r.status === 'rejected');
    assert.equal((refused?.reason as { code?: unknown } | undefined)?.code, 'ACCESS_DENIED');
    const officers = (await f.directory.listPrincipals(f.officer)).filter((p) => p.role === 'officer' && p.status === 'ACTIVE');
    assert.equal(officers.length, 1);
  });
});

describe('setPassword', () => {
  it('lets officers set anyone\'s password and everyone else only their own', async (t) => {
    const f = await populated(t);
    const officer = caller('olivia', 'officer');
    await f.directory.setPassword(officer, 'uma', USER_PASSWORD);
    assertAudited(f, officer, 'principal.set-password', 'ALLOWED');
    assert.equal((await f.directory.getPrincipal(f.officer, 'uma')).hasPassword, true);
    const auditor = caller('ada', 'auditor');
    await f.directory.setPassword(auditor, 'ada', 'auditor-pass-phrase');
    assertAudited(f, auditor, 'principal.set-password', 'ALLOWED');
    for (const actor of [caller('uma', 'user', ['alpha']), caller('ada', 'auditor'), caller('sam', 'service', ['beta'])]) {
      await assert.rejects(f.directory.setPassword(actor, 'olivia', 'hijack-pass-phrase'), { code: 'ACCESS_DENIED' });
      assertAudited(f, actor, 'principal.set-password', 'DENIED', 'ACCESS_DENIED');
    }
    await assert.rejects(f.directory.setPassword(f.officer, 'uma', 'short'), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.directory.setPassword(f.officer, 'nobody', USER_PASSWORD), { code: 'PRINCIPAL_NOT_FOUND' });
    const text = readFileSync(f.node.journalPath, 'utf8');
    for (const secret of [USER_PASSWORD, 'auditor-pass-phrase', 'hijack-pass-phrase', 'scrypt$']) assert.equal(text.includes(secret), false);
  });
});

describe('deletePrincipal', () => {
  it('lets an officer delete another principal: its certificate is free again, its name never (principal-names.test.ts)', async (t) => {
    const f = await populated(t);
    const fp = fingerprint();
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', certificates: [{ fingerprint: fp }] });
    const actor = caller('olivia', 'officer');
    await f.directory.deletePrincipal(actor, 'bob');
    assertAudited(f, actor, 'principal.delete', 'ALLOWED');
    await assert.rejects(f.directory.getPrincipal(f.officer, 'bob'), { code: 'PRINCIPAL_NOT_FOUND' });
    await assert.rejects(f.directory.authenticateCertificate(fp, 'req-deleted'), { code: 'AUTH_CERTIFICATE_UNTRUSTED' });
    // Re-bound from version 1: the barrier forgot the deleted certificate index.
    await f.directory.createPrincipal(f.officer, { name: 'bert', role: 'service', certificates: [{ fingerprint: fp }] });
    assert.equal((await f.directory.authenticateCertificate(fp, 'req-again')).name, 'bert');
  });

  it('refuses non-officers, self-deletion and unknown principals', async (t) => {
    const f = await populated(t);
    for (const actor of [caller('uma', 'user', ['alpha']), caller('ada', 'auditor'), caller('sam', 'service', ['beta'])]) {
      await assert.rejects(f.directory.deletePrincipal(actor, 'uma'), { code: 'ACCESS_DENIED' });
      assertAudited(f, actor, 'principal.delete', 'DENIED', 'ACCESS_DENIED');
    }
    const self = caller('olivia', 'officer');
    await assert.rejects(f.directory.deletePrincipal(self, 'olivia'), { code: 'ACCESS_DENIED' });
    assertAudited(f, self, 'principal.delete', 'DENIED', 'ACCESS_DENIED');
    await assert.rejects(f.directory.deletePrincipal(f.officer, 'nobody'), { code: 'PRINCIPAL_NOT_FOUND' });
    assert.equal((await f.directory.getPrincipal(f.officer, 'uma')).name, 'uma');
  });
});

describe('projects', () => {
  it('are created by officers only, once per name', async (t) => {
    const f = await populated(t);
    const actor = caller('olivia', 'officer');
    const gamma = await f.directory.createProject(actor, { name: 'gamma', description: 'third' });
    assert.deepEqual([gamma.name, gamma.description], ['gamma', 'third']);
    assertAudited(f, actor, 'project.create', 'ALLOWED');
    assert.equal(entryFor(f.node, actor.requestId)['project'], 'gamma');
    for (const other of [caller('uma', 'user', ['alpha']), caller('ada', 'auditor'), caller('sam', 'service', ['beta'])]) {
      await assert.rejects(f.directory.createProject(other, { name: 'delta' }), { code: 'ACCESS_DENIED' });
      assertAudited(f, other, 'project.create', 'DENIED', 'ACCESS_DENIED');
    }
    const again = caller('olivia', 'officer');
    await assert.rejects(f.directory.createProject(again, { name: 'gamma' }), { code: 'PROJECT_ALREADY_EXISTS' });
    assertAudited(f, again, 'project.create', 'FAILED', 'PROJECT_ALREADY_EXISTS');
    await assert.rejects(f.directory.createProject(f.officer, { name: 'Gamma' }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(f.directory.createProject(f.officer, { name: 'delta', description: '' }), { code: 'INVALID_ARGUMENT' });
  });

  it('are visible to officers and auditors, and to members only otherwise', async (t) => {
    const f = await populated(t);
    for (const actor of [caller('olivia', 'officer'), caller('ada', 'auditor')]) {
      assert.equal((await f.directory.getProject(actor, 'beta')).name, 'beta');
      assert.deepEqual((await f.directory.listProjects(actor)).map((p) => p.name), ['alpha', 'beta']);
    }
    assert.deepEqual((await f.directory.listProjects(f.officer, { after: 'alpha' })).map((p) => p.name), ['beta']);
    const uma = caller('uma', 'user', ['alpha']);
    assert.equal((await f.directory.getProject(uma, 'alpha')).description, 'first project');
    assertAudited(f, uma, 'project.get', 'ALLOWED');
    const probe = caller('uma', 'user', ['alpha']);
    await assert.rejects(f.directory.getProject(probe, 'beta'), { code: 'PROJECT_NOT_FOUND' });
    assertAudited(f, probe, 'project.get', 'DENIED', 'PROJECT_NOT_FOUND');
    const sam = caller('sam', 'service', ['beta']);
    assert.deepEqual((await f.directory.listProjects(sam)).map((p) => p.name), ['beta']);
    assertAudited(f, sam, 'project.list', 'ALLOWED');
    assert.deepEqual((await f.directory.listProjects(uma)).map((p) => p.name), ['alpha']);
    await assert.rejects(f.directory.getProject(f.officer, 'gamma'), { code: 'PROJECT_NOT_FOUND' });
  });

  it('are deleted by officers only, and only when no principal and no key is left in them', async (t) => {
    const f = await populated(t);
    let asked = 0;
    const hasKeys = (answer: boolean) => (): Promise<boolean> => {
      asked++;
      return Promise.resolve(answer);
    };
    const uma = caller('uma', 'user', ['alpha']);
    await assert.rejects(f.directory.deleteProject(uma, 'alpha', hasKeys(false)), { code: 'ACCESS_DENIED' });
    assertAudited(f, uma, 'project.delete', 'DENIED', 'ACCESS_DENIED');
    assert.equal(asked, 0);
    const officer = caller('olivia', 'officer');
    await assert.rejects(f.directory.deleteProject(officer, 'alpha', hasKeys(false)), { code: 'PROJECT_NOT_EMPTY' });
    assertAudited(f, officer, 'project.delete', 'FAILED', 'PROJECT_NOT_EMPTY');
    await f.directory.updatePrincipal(f.officer, 'uma', { projects: ['beta'] });
    await assert.rejects(f.directory.deleteProject(f.officer, 'alpha', hasKeys(true)), { code: 'PROJECT_NOT_EMPTY' });
    await f.directory.deleteProject(f.officer, 'alpha', hasKeys(false));
    await assert.rejects(f.directory.getProject(f.officer, 'alpha'), { code: 'PROJECT_NOT_FOUND' });
    await assert.rejects(f.directory.deleteProject(f.officer, 'alpha'), { code: 'PROJECT_NOT_FOUND' });
    // Re-created under the same name, it starts empty: nobody regained membership.
    await f.directory.createProject(f.officer, { name: 'alpha' });
    await f.directory.deleteProject(f.officer, 'alpha');
  });
});
