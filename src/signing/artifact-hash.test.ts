// hashArtifact: the digest of prefix ‖ artifact from a file or a stream, and the artifact's size.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashArtifact } from './artifact-hash.ts';

describe('hashArtifact', () => {
  it('hashes a file in chunks, with and without a prefix, and counts only the artifact', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'coffer-hash-'));
    t.after(() => { rmSync(dir, { recursive: true, force: true }); });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const file = join(dir, 'artifact.bin');
    writeFileSync(file, data);
    const plain = await hashArtifact({ hash: 'SHA-384' }, file);
    assert.deepEqual(plain.digest, createHash('sha384').update(data).digest());
    assert.equal(plain.size, data.length);
    const prefix = Buffer.from('eyJhbGciOiJFUzI1NiJ9.');
    const prefixed = await hashArtifact({ hash: 'SHA-256', prefix }, file);
    assert.deepEqual(prefixed.digest, createHash('sha256').update(prefix).update(data).digest());
    assert.equal(prefixed.size, data.length);
    assert.equal(prefixed.hash, 'SHA-256');
  });

  it('with also, hashes the artifact alone under a second hash in the same pass', async () => {
    const parts = [randomBytes(1000), randomBytes(5000)];
    const whole = Buffer.concat(parts);
    const prefix = Buffer.from('header.');
    const checked = await hashArtifact({ hash: 'SHA-384', prefix }, parts, 'SHA-256');
    assert.deepEqual(checked.digest, createHash('sha384').update(prefix).update(whole).digest());
    assert.deepEqual(checked.also, createHash('sha256').update(whole).digest());
  });

  it('hashes an iterable of chunks the same as the whole', async () => {
    const parts = [randomBytes(10), randomBytes(0), randomBytes(70_000)];
    const whole = Buffer.concat(parts);
    const streamed = await hashArtifact({ hash: 'SHA-512' }, parts);
    assert.deepEqual(streamed.digest, createHash('sha512').update(whole).digest());
    assert.equal(streamed.size, whole.length);
  });
});
