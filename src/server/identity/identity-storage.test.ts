// What the directory keeps in the store: it survives a restart, holds no password or hash in clear,
// refuses edited or swapped rows, stays consistent under racing writers, is closed while sealed, and
// turns failures below it (corrupt records, endless conflicts, a dead journal) into their codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CofferError } from '../../core/errors.ts';
import type { Store } from '../../store/index.ts';
import { CofferNode } from '../coffer-node.ts';
import { PrincipalDirectory } from './principal-directory.ts';
import { caller, directoryFor, fingerprint, ManualClock, openFixture, openTestNode, unseal } from './identity-test-kit.ts';

const PASSWORD = 'persistent-pass-phrase';

function openDatabase(dataDir: string, t: { after: (fn: () => void) => void }): DatabaseSync {
  const db = new DatabaseSync(join(dataDir, 'coffer.db'));
  t.after(() => {
    db.close();
  });
  return db;
}

describe('identity records in the store', () => {
  it('survive closing and reopening the node, and hold no password, hash or token in clear', async (t) => {
    const f = await openFixture(t);
    const fp = fingerprint();
    await f.directory.createProject(f.officer, { name: 'alpha', description: 'kept' });
    const bob = await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', projects: ['alpha'], certificates: [{ fingerprint: fp }], password: PASSWORD });
    const issued = await f.directory.login('bob', PASSWORD, { requestId: 'before', remoteAddress: '127.0.0.1' });
    await f.node.close();

    const raw = readFileSync(join(f.dataDir, 'coffer.db'));
    for (const secret of [PASSWORD, 'scrypt$', issued.token, 'kept']) assert.equal(raw.includes(Buffer.from(secret)), false, secret);

    const node = await CofferNode.open({ dataDir: f.dataDir, nodeId: 'test-node' });
    t.after(() => node.close());
    await unseal(node, f.domain);
    const directory = directoryFor(node, new ManualClock());
    assert.deepEqual(await directory.getPrincipal(f.officer, 'bob'), bob);
    assert.equal((await directory.getProject(f.officer, 'alpha')).description, 'kept');
    assert.equal((await directory.authenticateCertificate(fp, 'after-cert')).id, bob.id);
    assert.equal((await directory.login('bob', PASSWORD, { requestId: 'after', remoteAddress: '127.0.0.1' })).principal.id, bob.id);
    // Tokens live in one directory's memory: a restart ends them.
    await assert.rejects(directory.authenticateToken(issued.token, 'old-token'), { code: 'AUTH_FAILED' });
    await assert.rejects(directory.bootstrapOfficer({ name: 'again' }), { code: 'ACCESS_DENIED' });
  });

  it('refuses a principal row with one byte flipped (BARRIER_INTEGRITY_FAILED)', async (t) => {
    const f = await openFixture(t);
    const fp = fingerprint();
    const bob = await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user', certificates: [{ fingerprint: fp }] });
    const db = openDatabase(f.dataDir, t);
    const row = db.prepare('SELECT value FROM entries WHERE key = ?').get(`principal/${bob.id}`) as { value: Uint8Array };
    const value = Buffer.from(row.value);
    value[value.length - 20] = (value[value.length - 20] ?? 0) ^ 0x01;
    db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(value, `principal/${bob.id}`);
    const fresh = directoryFor(f.node, f.clock);
    await assert.rejects(fresh.getPrincipal(f.officer, 'bob'), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(fresh.getPrincipal(f.officer, bob.id), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(fresh.authenticateCertificate(fp, 'tampered'), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(fresh.listPrincipals(f.officer), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('refuses swapped rows: two principals, or two name index entries', async (t) => {
    const f = await openFixture(t);
    const bob = await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user' });
    const carol = await f.directory.createPrincipal(f.officer, { name: 'carol', role: 'officer' });
    const db = openDatabase(f.dataDir, t);
    const swap = (a: string, b: string): void => {
      const read = (key: string): Uint8Array => (db.prepare('SELECT value FROM entries WHERE key = ?').get(key) as { value: Uint8Array }).value;
      const [va, vb] = [read(a), read(b)];
      db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(vb, a);
      db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(va, b);
    };
    swap('principal-name/bob', 'principal-name/carol');
    await assert.rejects(directoryFor(f.node, f.clock).getPrincipal(f.officer, 'bob'), { code: 'BARRIER_INTEGRITY_FAILED' });
    swap('principal-name/bob', 'principal-name/carol');
    swap(`principal/${bob.id}`, `principal/${carol.id}`);
    await assert.rejects(directoryFor(f.node, f.clock).getPrincipal(f.officer, bob.id), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('keeps a retired name across a restart, and refuses an edited tombstone (BARRIER_INTEGRITY_FAILED)', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user' });
    await f.directory.createPrincipal(f.officer, { name: 'carol', role: 'user' });
    for (const name of ['bob', 'carol']) await f.directory.deletePrincipal(f.officer, name);
    await f.node.close();
    const node = await CofferNode.open({ dataDir: f.dataDir, nodeId: 'test-node' });
    t.after(() => node.close());
    await unseal(node, f.domain);
    const directory = directoryFor(node, new ManualClock());
    await assert.rejects(directory.createPrincipal(f.officer, { name: 'bob', role: 'user' }), { code: 'PRINCIPAL_ALREADY_EXISTS' });

    const db = openDatabase(f.dataDir, t);
    const row = db.prepare('SELECT value FROM entries WHERE key = ?').get('principal-name/carol') as { value: Uint8Array };
    const value = Buffer.from(row.value);
    value[value.length - 20] = (value[value.length - 20] ?? 0) ^ 0x01;
    db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(value, 'principal-name/carol');
    await assert.rejects(directory.createPrincipal(f.officer, { name: 'carol', role: 'user' }), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(directory.listPrincipals(f.officer), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('lets only one of two racing bootstraps create an officer', async (t) => {
    const { node } = await openTestNode(t);
    const directory = directoryFor(node, new ManualClock());
    assert.equal(await directory.hasPrincipals(), false);
    const results = await Promise.allSettled([directory.bootstrapOfficer({ name: 'first' }), directory.bootstrapOfficer({ name: 'second' })]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((results.find((r) => r.status === 'rejected')?.reason as { code?: unknown } | undefined)?.code, 'ACCESS_DENIED');
    assert.equal((await directory.listPrincipals(caller('first', 'officer'))).length, 1);
  });

  it('does not delete a project that gained a member while the delete was checking', async (t) => {
    const f = await openFixture(t);
    await f.directory.createProject(f.officer, { name: 'alpha' });
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user' });
    let joined = false;
    // The key check runs after the member scan and before the commit: a member added there must win.
    const hasKeys = async (): Promise<boolean> => {
      if (!joined) {
        joined = true;
        await f.directory.updatePrincipal(f.officer, 'bob', { projects: ['alpha'] });
      }
      return false;
    };
    await assert.rejects(f.directory.deleteProject(f.officer, 'alpha', hasKeys), { code: 'PROJECT_NOT_EMPTY' });
    assert.equal((await f.directory.getProject(f.officer, 'alpha')).name, 'alpha');
  });

  it('answers DOMAIN_SEALED while the node is sealed', async (t) => {
    const f = await openFixture(t, { officerPassword: true });
    await f.node.seal();
    await assert.rejects(f.directory.getPrincipal(f.officer, 'olivia'), { code: 'DOMAIN_SEALED' });
    await assert.rejects(f.directory.login('olivia', 'officer-pass-phrase-1', { requestId: 'sealed', remoteAddress: '127.0.0.1' }), { code: 'DOMAIN_SEALED' });
    await assert.rejects(f.directory.authenticateCertificate(fingerprint(), 'sealed-cert'), { code: 'DOMAIN_SEALED' });
  });
});

describe('failures below the directory', () => {
  it('reports a record that decrypts but is malformed as STORE_CORRUPT', async (t) => {
    const f = await openFixture(t);
    const bob = await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user' });
    const path = `principal/${bob.id}`;
    const entry = await f.node.store.get(path);
    assert.ok(entry !== undefined);
    const forged = f.node.barrier.encryptRecord('principal', path, entry.version + 1, Buffer.from(JSON.stringify({ id: bob.id, name: 'bob' })));
    await f.node.store.commit([{ op: 'put', key: path, value: forged, expectVersion: entry.version }]);
    await assert.rejects(directoryFor(f.node, f.clock).getPrincipal(f.officer, bob.id), { code: 'STORE_CORRUPT' });
  });

  it('gives up with STORE_CONFLICT after three attempts against a store that always conflicts', async (t) => {
    const f = await openFixture(t);
    await f.directory.createPrincipal(f.officer, { name: 'bob', role: 'user' });
    let commits = 0;
    const store = f.node.store;
    const always: Store = {
      get: (key) => store.get(key),
      list: (prefix, options) => store.list(prefix, options),
      commit: () => {
        commits++;
        return Promise.reject(new CofferError('STORE_CONFLICT', 'changed concurrently'));
      },
      changes: (after, limit) => store.changes(after, limit),
      revision: () => store.revision(),
      close: () => store.close(),
    };
    const directory = new PrincipalDirectory({ store: always, barrier: f.node.barrier, audit: f.node.audit, clock: f.clock });
    await assert.rejects(directory.updatePrincipal(f.officer, 'bob', { status: 'DISABLED' }), { code: 'STORE_CONFLICT' });
    assert.equal(commits, 3);
  });

  it('fails closed with AUDIT_UNAVAILABLE when the audit entry cannot be written', async (t) => {
    const f = await openFixture(t);
    const audit = { append: (): Promise<void> => Promise.reject(new Error('disk full')) };
    const directory = new PrincipalDirectory({ store: f.node.store, barrier: f.node.barrier, audit, clock: f.clock });
    await assert.rejects(directory.getPrincipal(f.officer, 'olivia'), { code: 'AUDIT_UNAVAILABLE' });
    await assert.rejects(directory.login('olivia', 'whatever-pass-phrase', { requestId: 'r', remoteAddress: '127.0.0.1' }), { code: 'AUDIT_UNAVAILABLE' });
  });

  it('answers DOMAIN_UNINITIALIZED before the domain exists', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coffer-identity-'));
    t.after(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });
    const node = await CofferNode.open({ dataDir, nodeId: 'n' });
    t.after(() => node.close());
    const directory = new PrincipalDirectory({ store: node.store, barrier: node.barrier, audit: { append: () => Promise.resolve() } });
    await assert.rejects(directory.bootstrapOfficer({ name: 'olivia' }), { code: 'DOMAIN_UNINITIALIZED' });
  });

  it('refuses a login with RATE_LIMITED while the token table is full of live sessions', async (t) => {
    const f = await openFixture(t, { officerPassword: true, extra: { maxTokens: 1 } });
    const context = { requestId: 'r1', remoteAddress: '127.0.0.1' };
    await f.directory.login('olivia', 'officer-pass-phrase-1', context);
    await assert.rejects(f.directory.login('olivia', 'officer-pass-phrase-1', { ...context, requestId: 'r2' }), { code: 'RATE_LIMITED' });
    f.clock.advance(900);
    await f.directory.login('olivia', 'officer-pass-phrase-1', { ...context, requestId: 'r3' });
  });
});
