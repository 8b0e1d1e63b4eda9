// A node killed with SIGKILL in the middle of writes loses nothing it acknowledged: every key whose
// creation returned is there, every acknowledged operation has its audit entry, the journal still
// verifies, and the store opens cleanly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyJournal } from '../src/audit/index.ts';
import { CofferNode } from '../src/server/coffer-node.ts';
import { initDomain, tempDir, unseal, user } from './node-kit.ts';

const fixture = join(import.meta.dirname, 'fixtures', 'node-writer.ts');

interface Ack { readonly i: number; readonly id: string; readonly mac: string }

function runUntilKilled(dataDir: string, acks: number): Promise<{ acked: Ack[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if ((out.match(/^ack /gm) ?? []).length >= acks && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ended with ${String(code)}: ${err}`));
        return;
      }
      // Only complete lines count: a line cut by the kill was never fully acknowledged.
      const acked = out.split('\n').slice(0, -1).filter((l) => l.startsWith('ack ')).map((l) => {
        const [, i, id, mac] = l.split(' ');
        return { i: Number(i), id: id ?? '', mac: mac ?? '' };
      });
      resolve({ acked, signal });
    });
  });
}

describe('a node killed during writes', () => {
  it('keeps every acknowledged key and audit entry, and reopens cleanly', async (t) => {
    const dataDir = tempDir(t);
    const setup = await CofferNode.open({ dataDir, nodeId: 'crash-node' });
    const domain = await initDomain(setup, 1, 1);
    await setup.close();
    const [custodian] = domain.descriptor.custodians;
    const [pair] = domain.custodians;
    assert.ok(custodian !== undefined && pair !== undefined);
    writeFileSync(join(dataDir, 'custodian.json'), JSON.stringify({ privateKey: pair.privateKey, custodianId: custodian.id }), { mode: 0o600 });

    const { acked } = await runUntilKilled(dataDir, 60);
    assert.ok(acked.length >= 60, `only ${acked.length} acknowledgements`);

    const node = await CofferNode.open({ dataDir, nodeId: 'crash-node' });
    t.after(() => node.close());
    assert.deepEqual(await node.store.checkIntegrity(), []);
    await unseal(node, domain, [0]);
    const reader = user('writer');
    for (const ack of acked) {
      const key = await node.engine.keys.describe(reader, ack.id);
      assert.equal(key.name, `k-${ack.i}`);
      const check = await node.engine.crypto.verifyMac(reader, ack.id, Buffer.from(`m-${ack.i}`), Buffer.from(ack.mac, 'hex'));
      assert.equal(check.valid, true);
    }

    const journal = await verifyJournal(node.journalPath, { publicKey: node.auditPublicKey() });
    assert.equal(journal.ok, true, JSON.stringify(journal));
    const requests = new Set(readFileSync(node.journalPath, 'utf8').split('\n').filter((l) => l.includes('"outcome":"ALLOWED"')).map((l) => (JSON.parse(l) as { requestId: string }).requestId));
    for (const ack of acked) {
      assert.ok(requests.has(`crash-${ack.i}`), `no audit entry for the creation of k-${ack.i}`);
      assert.ok(requests.has(`crash-mac-${ack.i}`), `no audit entry for the MAC with k-${ack.i}`);
    }
    // The node goes on writing after the crash.
    await node.engine.keys.create(reader, { project: 'alpha', name: 'after-crash', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
  });
});
