// End to end through a real node: SQLite store, barrier-encrypted records, durable signed audit
// journal and the engine — persistence across restarts, sealing, M-of-N unseal through the node,
// and what an attacker who edits the database achieves (nothing but a refusal).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { prepareUnsealShare } from '../src/barrier/index.ts';
import { verifyJournal } from '../src/audit/index.ts';
import { CofferNode } from '../src/server/coffer-node.ts';
import { KeyEngine } from '../src/core/engine/index.ts';
import { SealedKeyRepository } from '../src/store/key-repository/index.ts';
import { MemoryAuditSink, MemoryKeyRepository } from '../src/core/engine/memory-key-repository.ts';
import { initDomain, openTestNode, tempDir, unseal, user } from './node-kit.ts';

const alice = user('alice');

function journalEntries(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => 'operation' in r);
}

describe('a node end to end', () => {
  it('keeps keys across a restart, answers nothing while sealed, and journals every operation', async (t) => {
    const dataDir = tempDir(t);
    const first = await CofferNode.open({ dataDir, nodeId: 'n1' });
    const domain = await initDomain(first, 1, 1);
    await unseal(first, domain, [0]);
    const aes = await first.engine.keys.create(alice, { project: 'alpha', name: 'aes', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const ec = await first.engine.keys.create(alice, { project: 'alpha', name: 'ec', spec: 'EC_P256', usage: 'SIGN_VERIFY' });
    const sealed = await first.engine.crypto.encrypt(alice, aes.id, Buffer.from('persist me'), { context: { purpose: 'e2e' } });
    const message = Buffer.from('signed before restart');
    const signature = (await first.engine.crypto.sign(alice, ec.id, { algorithm: 'ECDSA_SHA_256', message })).signature;

    await first.seal('olivia', 'req-seal');
    assert.equal(first.state, 'SEALED');
    assert.throws(() => first.engine, { code: 'DOMAIN_SEALED' });
    await first.close();

    const second = await CofferNode.open({ dataDir, nodeId: 'n1' });
    t.after(() => second.close());
    assert.equal(second.state, 'SEALED');
    assert.throws(() => second.engine, { code: 'DOMAIN_SEALED' });
    await unseal(second, domain, [0]);
    const opened = await second.engine.crypto.decrypt(alice, sealed.ciphertext, { context: { purpose: 'e2e' } });
    assert.equal(opened.plaintext.toString(), 'persist me');
    assert.equal((await second.engine.crypto.verify(alice, ec.id, { algorithm: 'ECDSA_SHA_256', message, signature })).valid, true);
    await assert.rejects(second.engine.crypto.decrypt(alice, sealed.ciphertext, { context: { purpose: 'other' } }), { code: 'CRYPTO_DECRYPT_FAILED' });

    // The database holds no plaintext: neither the message nor any key name-independent secret.
    const raw = readFileSync(join(dataDir, 'coffer.db'));
    assert.equal(raw.includes(Buffer.from('persist me')), false);

    await second.seal();
    const result = await verifyJournal(second.journalPath, { publicKey: second.auditPublicKey() });
    assert.equal(result.ok, true, JSON.stringify(result));
    const operations = journalEntries(second.journalPath).map((e) => `${String(e['operation'])}:${String(e['outcome'])}`);
    for (const expected of ['domain.unseal:ALLOWED', 'key.create:ALLOWED', 'crypto.encrypt:ALLOWED', 'crypto.sign:ALLOWED', 'domain.seal:ALLOWED', 'crypto.decrypt:ALLOWED', 'crypto.decrypt:FAILED', 'crypto.verify:ALLOWED']) {
      assert.ok(operations.includes(expected), `journal lacks ${expected}: ${operations.join(', ')}`);
    }
    // The input digest of the signed message is there; the message itself is not.
    const journal = readFileSync(second.journalPath, 'utf8');
    assert.ok(journal.includes(createHash('sha256').update(message).digest('hex')));
    assert.equal(journal.includes('signed before restart'), false);
  });

  it('unseals 3-of-5 through custodian envelopes, and refuses two shares or a corrupted one', async (t) => {
    const dataDir = tempDir(t);
    const node = await CofferNode.open({ dataDir, nodeId: 'n1' });
    t.after(() => node.close());
    const domain = await initDomain(node, 5, 3);
    await assert.rejects(initDomain(node, 1, 1), { code: 'DOMAIN_ALREADY_INITIALIZED' });
    await assert.rejects(unseal(node, domain, [0, 1]), { code: 'INVALID_ARGUMENT' });
    assert.equal(node.state, 'SEALED');

    const ticket = node.beginUnseal();
    const envelope = async (i: number): Promise<Parameters<CofferNode['submitUnsealShare']>[0]> => {
      const custodian = domain.descriptor.custodians[i];
      const pair = domain.custodians[i];
      assert.ok(custodian !== undefined && pair !== undefined);
      return prepareUnsealShare({ privateKey: pair.privateKey, descriptor: domain.descriptor, custodianId: custodian.id, session: ticket });
    };
    const corrupted = await envelope(4);
    const bytes = Buffer.from(corrupted.ciphertext, 'base64url');
    bytes[0] = (bytes[0] ?? 0) ^ 1;
    await assert.rejects(node.submitUnsealShare({ ...corrupted, ciphertext: bytes.toString('base64url') }), { code: 'UNSEAL_SESSION_INVALID' });
    assert.equal((await node.submitUnsealShare(await envelope(0))).received, 1);
    await assert.rejects(node.submitUnsealShare(await envelope(0)), { code: 'UNSEAL_SHARE_DUPLICATE' });
    assert.equal((await node.submitUnsealShare(await envelope(2))).state, 'SEALED');
    assert.equal((await node.submitUnsealShare(await envelope(3))).state, 'UNSEALED');
    const key = await node.engine.keys.create(alice, { project: 'alpha', name: 'k', spec: 'ED25519', usage: 'SIGN_VERIFY' });
    assert.equal(key.spec, 'ED25519');
  });
});

describe('one node per data directory', () => {
  it('refuses a second node on a held directory, takes over a dead holder\'s lock, and frees it on close', async (t) => {
    const dataDir = tempDir(t);
    const first = await CofferNode.open({ dataDir, nodeId: 'n1' });
    await assert.rejects(CofferNode.open({ dataDir, nodeId: 'n2' }), { code: 'DATA_DIR_IN_USE' });
    await first.close();
    const second = await CofferNode.open({ dataDir, nodeId: 'n1' });
    await second.close();
    // A lock left by a process that no longer exists (killed with SIGKILL) does not block a restart.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dataDir, 'node.lock'), `${dead.stdout}\n`);
    const third = await CofferNode.open({ dataDir, nodeId: 'n1' });
    assert.equal(readFileSync(join(dataDir, 'node.lock'), 'utf8').trim(), String(process.pid));
    await third.close();
    assert.equal(existsSync(join(dataDir, 'node.lock')), false);
  });
});

describe('an attacker with write access to the database', () => {
  async function withKeys(t: Parameters<typeof openTestNode>[0]): Promise<{ node: CofferNode; db: DatabaseSync; ids: string[] }> {
    const { node, dataDir } = await openTestNode(t);
    const ids: string[] = [];
    for (const name of ['one', 'two']) {
      ids.push((await node.engine.keys.create(alice, { project: 'alpha', name, spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' })).id);
    }
    const db = new DatabaseSync(join(dataDir, 'coffer.db'));
    t.after(() => {
      db.close();
    });
    return { node, db, ids };
  }
  // A fresh engine over the same store and barrier: no cached key objects hide the stored rows.
  function freshEngine(node: CofferNode): CofferNode['engine'] {
    return new KeyEngine({ repository: new SealedKeyRepository(node.store, node.barrier), audit: node.audit });
  }

  it('flipping one byte of a key record makes that key refuse with BARRIER_INTEGRITY_FAILED', async (t) => {
    const { node, db, ids } = await withKeys(t);
    const [id] = ids;
    assert.ok(id !== undefined);
    const row = db.prepare('SELECT value FROM entries WHERE key = ?').get(`key/${id}`) as { value: Uint8Array };
    const value = Buffer.from(row.value);
    value[value.length - 5] = (value[value.length - 5] ?? 0) ^ 0x40;
    db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(value, `key/${id}`);
    await assert.rejects(freshEngine(node).crypto.generateMac(alice, id, Buffer.from('x')), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('swapping two key rows is detected', async (t) => {
    const { node, db, ids } = await withKeys(t);
    const [a, b] = ids;
    assert.ok(a !== undefined && b !== undefined);
    const read = (id: string): Uint8Array => (db.prepare('SELECT value FROM entries WHERE key = ?').get(`key/${id}`) as { value: Uint8Array }).value;
    const [va, vb] = [read(a), read(b)];
    db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(vb, `key/${a}`);
    db.prepare('UPDATE entries SET value = ? WHERE key = ?').run(va, `key/${b}`);
    const engine = freshEngine(node);
    await assert.rejects(engine.crypto.generateMac(alice, a, Buffer.from('x')), { code: 'BARRIER_INTEGRITY_FAILED' });
    await assert.rejects(engine.crypto.generateMac(alice, { project: 'alpha', name: 'two' }, Buffer.from('x')), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('replaying an older version of a record (value and version) is detected after the node saw the newer one', async (t) => {
    const { node, db, ids } = await withKeys(t);
    const [id] = ids;
    assert.ok(id !== undefined);
    const old = db.prepare('SELECT value, version FROM entries WHERE key = ?').get(`key/${id}`) as { value: Uint8Array; version: number };
    // The owner disables the key; the attacker puts the enabled version 1 back, version number and all.
    await node.engine.keys.disable(alice, id);
    await assert.rejects(node.engine.crypto.generateMac(alice, id, Buffer.from('x')), { code: 'KEY_DISABLED' });
    db.prepare('UPDATE entries SET value = ?, version = ? WHERE key = ?').run(old.value, old.version, `key/${id}`);
    await assert.rejects(freshEngine(node).crypto.generateMac(alice, id, Buffer.from('x')), { code: 'BARRIER_INTEGRITY_FAILED' });
  });

  it('editing a row while keeping its version (a bumped version with old bytes) is detected', async (t) => {
    const { node, db, ids } = await withKeys(t);
    const [id] = ids;
    assert.ok(id !== undefined);
    db.prepare('UPDATE entries SET version = version + 1 WHERE key = ?').run(`key/${id}`);
    await assert.rejects(freshEngine(node).crypto.generateMac(alice, id, Buffer.from('x')), { code: 'BARRIER_INTEGRITY_FAILED' });
  });
});

describe('an unexpected fault inside the engine', () => {
  it('becomes INTERNAL_ERROR with the cause hidden, and is audited as FAILED', async () => {
    class FaultyRepository extends MemoryKeyRepository {
      override get(): Promise<never> {
        return Promise.reject(new TypeError('disk says /var/secret/path is gone'));
      }
    }
    const audit = new MemoryAuditSink();
    const engine = new KeyEngine({ repository: new FaultyRepository(), audit });
    await assert.rejects(engine.crypto.generateMac(alice, '00000000-0000-4000-8000-000000000000', Buffer.from('x')), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal((error as { code?: unknown }).code, 'INTERNAL_ERROR');
      assert.equal(error.message.includes('/var/secret'), false);
      return true;
    });
    const last = audit.events.at(-1);
    assert.equal(last?.outcome, 'FAILED');
    assert.equal(last.errorCode, 'INTERNAL_ERROR');
  });
});
