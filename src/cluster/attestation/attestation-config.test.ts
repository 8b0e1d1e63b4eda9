import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJoinConfig } from './attestation-config.ts';
import { awsSigner } from './attestation-test-kit.ts';

describe('cluster.join configuration', () => {
  it('parses both providers and refuses unknown keys, bad lists and unreadable certificates', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-joincfg-'));
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(join(dir, 'aws.pem'), (await awsSigner()).certificatePem);
    assert.deepEqual(parseJoinConfig({ provider: 'join-token' }, { baseDir: dir }), { provider: 'join-token' });
    const aws = parseJoinConfig({ provider: 'aws-ec2', certificatesFile: 'aws.pem', accountIds: ['123456789012'], regions: ['eu-west-1'] }, { baseDir: dir });
    assert.equal(aws.provider === 'aws-ec2' && aws.launchWindowMinutes, 10);
    assert.ok(Object.isFrozen(aws));
    const base = { provider: 'aws-ec2', certificatesFile: 'aws.pem', accountIds: ['123456789012'], regions: ['eu-west-1'] };
    for (const raw of [
      { provider: 'join-token', extra: 1 }, { provider: 'tpm' }, null,
      { ...base, accountIds: ['12'] }, { ...base, regions: [] }, { ...base, launchWindowMinutes: 0 }, { ...base, certificatesFile: 'missing.pem' },
      { ...base, imageIds: ['not-an-ami'] }, { ...base, typo: true },
    ]) {
      assert.throws(() => parseJoinConfig(raw, { baseDir: dir }), { code: 'INVALID_ARGUMENT' }, JSON.stringify(raw));
    }
    writeFileSync(join(dir, 'junk.pem'), 'no certificate here');
    assert.throws(() => parseJoinConfig({ ...base, certificatesFile: 'junk.pem' }, { baseDir: dir }), { code: 'INVALID_ARGUMENT' });
  });
});
