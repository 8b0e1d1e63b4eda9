// UploadStore: round trips, resumption after an interrupted append and after a restart, limits,
// id validation, expiry, file modes, and flat memory over a 512 MiB upload.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import type { Clock } from '../../core/ports.ts';
import { UploadStore, type UploadStoreOptions } from './index.ts';

const ALL = ['SHA-256', 'SHA-384', 'SHA-512'] as const;

/** A scratch parent with the store's directory inside it, so tests can see what lies outside. */
function scratch(t: TestContext): { parent: string; dir: string } {
  const parent = mkdtempSync(join(tmpdir(), 'coffer-uploads-'));
  t.after(() => { rmSync(parent, { recursive: true, force: true }); });
  return { parent, dir: join(parent, 'uploads') };
}

function store(dir: string, options: Partial<UploadStoreOptions> = {}): UploadStore {
  return new UploadStore({ dir, ...options });
}

/** Yields `parts` one event-loop turn apart, as a socket delivers them. */
async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await setImmediate();
    yield part;
  }
}

/** Yields `parts`, then fails as a dropped connection would. */
async function* brokenAfter(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks(...parts);
  throw new Error('connection reset');
}

function digestsOf(data: Uint8Array): Record<string, Buffer> {
  return {
    'SHA-256': createHash('sha256').update(data).digest(),
    'SHA-384': createHash('sha384').update(data).digest(),
    'SHA-512': createHash('sha512').update(data).digest(),
  };
}

class ManualClock implements Clock {
  time = Date.now();
  now(): Date {
    return new Date(this.time);
  }
}

describe('UploadStore', () => {
  it('stores several appends and returns the digests of the whole file for three hashes at once', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir);
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const created = await uploads.create({ hashes: ALL, expectedSize: data.length, metadata: { branch: 'main' } });
    assert.equal(created.offset, 0);
    assert.equal(created.complete, false);
    assert.deepEqual(created.hashes, ALL);
    const cuts = [0, 10, 1024 * 1024, 2 * 1024 * 1024 + 7, data.length];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const from = cuts[i] ?? 0;
      const to = cuts[i + 1] ?? 0;
      // Several chunks per append, and a Node stream for one of them.
      const source = i === 2 ? Readable.from([data.subarray(from, from + 5), data.subarray(from + 5, to)]) : chunks(data.subarray(from, to));
      const status = await uploads.append(created.uploadId, from, source);
      assert.equal(status.offset, to);
    }
    const done = await uploads.complete(created.uploadId);
    assert.equal(done.size, data.length);
    assert.deepEqual(done.digests, digestsOf(data));
    assert.deepEqual(readFileSync(done.path), data);
    const status = await uploads.status(created.uploadId);
    assert.equal(status.complete, true);
    assert.equal(status.offset, data.length);
    assert.deepEqual(status.metadata, { branch: 'main' });
    // Completing again answers the same; appending is refused.
    assert.deepEqual(await uploads.complete(created.uploadId), done);
    await assert.rejects(uploads.append(created.uploadId, data.length, chunks(Buffer.from('x'))), { code: 'UPLOAD_ALREADY_COMPLETE' });
  });

  it('keeps what an interrupted append wrote and resumes from the reported offset', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir);
    const data = randomBytes(200_000);
    const { uploadId } = await uploads.create({ hashes: ['SHA-256'] });
    await assert.rejects(uploads.append(uploadId, 0, brokenAfter(data.subarray(0, 70_000), data.subarray(70_000, 90_000))), /connection reset/);
    const status = await uploads.status(uploadId);
    assert.equal(status.offset, 90_000);
    assert.equal(statSync(join(dir, `${uploadId}.part`)).size, 90_000);
    await uploads.append(uploadId, status.offset, chunks(data.subarray(90_000)));
    const done = await uploads.complete(uploadId);
    assert.deepEqual(done.digests['SHA-256'], digestsOf(data)['SHA-256']);
  });

  it('resumes after a restart, rebuilding the hashes from the file and dropping an undurable tail', async (t) => {
    const { dir } = scratch(t);
    const data = randomBytes(2 * 1024 * 1024 + 99);
    const first = store(dir);
    const { uploadId } = await first.create({ hashes: ['SHA-384', 'SHA-512'], expectedSize: data.length });
    await first.append(uploadId, 0, chunks(data.subarray(0, 1_500_000)));
    // A crash mid-append: bytes reached the file but no record says they are durable.
    appendFileSync(join(dir, `${uploadId}.part`), Buffer.alloc(1000, 0xee));
    const second = store(dir);
    const status = await second.status(uploadId);
    assert.equal(status.offset, 1_500_000);
    await assert.rejects(second.append(uploadId, 1_501_000, chunks(data.subarray(1_500_000))), { code: 'UPLOAD_OFFSET_MISMATCH' });
    await second.append(uploadId, 1_500_000, chunks(data.subarray(1_500_000)));
    const done = await second.complete(uploadId);
    const expected = digestsOf(data);
    assert.deepEqual(done.digests, { 'SHA-384': expected['SHA-384'], 'SHA-512': expected['SHA-512'] });
    // A third process finds it complete, digests and all.
    assert.deepEqual(await store(dir).complete(uploadId), done);
  });

  it('refuses an append at the wrong offset, and a second append while one runs', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir);
    const { uploadId } = await uploads.create({ hashes: ['SHA-256'] });
    await uploads.append(uploadId, 0, chunks(Buffer.from('hello')));
    await assert.rejects(uploads.append(uploadId, 0, chunks(Buffer.from('again'))), { code: 'UPLOAD_OFFSET_MISMATCH' });
    await assert.rejects(uploads.append(uploadId, 9, chunks(Buffer.from('gap'))), { code: 'UPLOAD_OFFSET_MISMATCH' });
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(' wor');
      await gate;
      yield Buffer.from('ld');
    }
    const running = uploads.append(uploadId, 5, slow());
    await assert.rejects(uploads.append(uploadId, 5, chunks(Buffer.from('!'))), { code: 'UPLOAD_IN_PROGRESS' });
    await assert.rejects(uploads.complete(uploadId), { code: 'UPLOAD_IN_PROGRESS' });
    release();
    assert.equal((await running).offset, 11);
    assert.equal(readFileSync((await uploads.complete(uploadId)).path, 'utf8'), 'hello world');
  });

  it('refuses bytes past expectedSize or maxBytes without growing the file', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir, { maxBytes: 1000 });
    await assert.rejects(uploads.create({ hashes: ['SHA-256'], expectedSize: 1001 }), { code: 'INPUT_TOO_LARGE' });
    const sized = await uploads.create({ hashes: ['SHA-256'], expectedSize: 100 });
    await assert.rejects(uploads.append(sized.uploadId, 0, chunks(randomBytes(60), randomBytes(41))), { code: 'INPUT_TOO_LARGE' });
    assert.equal((await uploads.status(sized.uploadId)).offset, 60);
    assert.equal(statSync(join(dir, `${sized.uploadId}.part`)).size, 60);
    const open = await uploads.create({ hashes: ['SHA-256'] });
    await assert.rejects(uploads.append(open.uploadId, 0, chunks(randomBytes(1001))), { code: 'INPUT_TOO_LARGE' });
    assert.equal(statSync(join(dir, `${open.uploadId}.part`)).size, 0);
    await uploads.append(open.uploadId, 0, chunks(randomBytes(1000)));
    await assert.rejects(uploads.append(open.uploadId, 1000, chunks(randomBytes(1))), { code: 'INPUT_TOO_LARGE' });
    assert.equal(statSync(join(dir, `${open.uploadId}.part`)).size, 1000);
  });

  it('will not complete an upload short of its expected size', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir);
    const { uploadId } = await uploads.create({ hashes: ['SHA-256'], expectedSize: 10 });
    await uploads.append(uploadId, 0, chunks(Buffer.from('12345')));
    await assert.rejects(uploads.complete(uploadId), { code: 'UPLOAD_INCOMPLETE' });
    await uploads.append(uploadId, 5, chunks(Buffer.from('67890')));
    assert.equal((await uploads.complete(uploadId)).size, 10);
  });

  it('checks what create() is given', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir);
    await assert.rejects(uploads.create({ hashes: [] }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(uploads.create({ hashes: ['MD5' as 'SHA-256'] }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(uploads.create({ hashes: ['SHA-256'], expectedSize: -1 }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(uploads.create({ hashes: ['SHA-256'], metadata: { big: 'x'.repeat(20_000) } }), { code: 'INPUT_TOO_LARGE' });
    assert.deepEqual((await uploads.create({ hashes: ['SHA-256', 'SHA-256'] })).hashes, ['SHA-256']);
  });

  it('answers UPLOAD_NOT_FOUND for unknown and malformed ids without touching files outside its directory', async (t) => {
    const { parent, dir } = scratch(t);
    const uploads = store(dir);
    const { uploadId } = await uploads.create({ hashes: ['SHA-256'] });
    // Bait next to the store's directory: a path built from '../x' would find these.
    const bait = { version: 1, uploadId: '../x', hashes: ['SHA-256'], createdAt: '2020-01-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z', durableOffset: 0 };
    writeFileSync(join(parent, 'x.json'), JSON.stringify(bait));
    writeFileSync(join(parent, 'x.part'), 'outside');
    for (const id of ['../x', '..%2Fx', uploadId.toUpperCase(), '', '00000000-0000-0000-0000-000000000000']) {
      await assert.rejects(uploads.status(id), { code: 'UPLOAD_NOT_FOUND' });
      await assert.rejects(uploads.append(id, 0, chunks(Buffer.from('x'))), { code: 'UPLOAD_NOT_FOUND' });
      await assert.rejects(uploads.complete(id), { code: 'UPLOAD_NOT_FOUND' });
      await assert.rejects(uploads.remove(id), { code: 'UPLOAD_NOT_FOUND' });
    }
    assert.equal(readFileSync(join(parent, 'x.part'), 'utf8'), 'outside');
    assert.ok(existsSync(join(parent, 'x.json')));
    assert.deepEqual(readdirSync(parent).sort(), ['uploads', 'x.json', 'x.part']);
    await uploads.remove(uploadId);
    await assert.rejects(uploads.status(uploadId), { code: 'UPLOAD_NOT_FOUND' });
    assert.deepEqual(readdirSync(dir), []);
  });

  it('expires incomplete uploads by the injected clock, and create() sweeps them', async (t) => {
    const { dir } = scratch(t);
    const clock = new ManualClock();
    const uploads = store(dir, { clock, ttlMs: 60 * 60 * 1000 });
    const stale = await uploads.create({ hashes: ['SHA-256'] });
    await uploads.append(stale.uploadId, 0, chunks(Buffer.from('partial')));
    const kept = await uploads.create({ hashes: ['SHA-256'] });
    await uploads.complete(kept.uploadId);
    assert.equal(stale.expiresAt, new Date(clock.time + 60 * 60 * 1000).toISOString());
    clock.time += 60 * 60 * 1000 - 1;
    assert.equal((await uploads.status(stale.uploadId)).offset, 7);
    clock.time += 1;
    await assert.rejects(uploads.status(stale.uploadId), { code: 'UPLOAD_NOT_FOUND' });
    await assert.rejects(uploads.append(stale.uploadId, 7, chunks(Buffer.from('more'))), { code: 'UPLOAD_NOT_FOUND' });
    assert.ok(existsSync(join(dir, `${stale.uploadId}.part`)));
    // Debris of a crash between the data file and its record goes too, once older than the ttl.
    const orphan = join(dir, '11111111-1111-4111-8111-111111111111.part');
    writeFileSync(orphan, 'orphan');
    clock.time += 60 * 60 * 1000;
    const fresh = await uploads.create({ hashes: ['SHA-256'] });
    assert.ok(!existsSync(join(dir, `${stale.uploadId}.part`)));
    assert.ok(!existsSync(join(dir, `${stale.uploadId}.json`)));
    assert.ok(!existsSync(orphan));
    // A complete upload is its job's to remove, not the sweep's.
    assert.equal((await uploads.status(kept.uploadId)).complete, true);
    assert.equal((await uploads.status(fresh.uploadId)).offset, 0);
    assert.equal(await uploads.sweep(), 0);
  });

  it('makes its directory 0700 and its files 0600', async (t) => {
    const { dir } = scratch(t);
    mkdirSync(dir, { mode: 0o755 });
    const uploads = store(dir);
    const { uploadId } = await uploads.create({ hashes: ['SHA-256'] });
    await uploads.append(uploadId, 0, chunks(Buffer.from('data')));
    const done = await uploads.complete(uploadId);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(done.path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, `${uploadId}.json`)).mode & 0o777, 0o600);
  });

  it('keeps memory flat over a 512 MiB upload', async (t) => {
    const { dir } = scratch(t);
    const uploads = store(dir);
    const { uploadId } = await uploads.create({ hashes: ['SHA-256'] });
    const chunk = 1024 * 1024;
    const count = 512;
    // Each chunk a fresh buffer, as a socket delivers them; the content cycles so the digest is checkable.
    const seeds = Array.from({ length: 4 }, () => randomBytes(chunk));
    async function* generated(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < count; i++) {
        await setImmediate();
        yield Buffer.from(seeds[i % seeds.length] ?? Buffer.alloc(0));
      }
    }
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    try {
      await uploads.append(uploadId, 0, generated());
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    const done = await uploads.complete(uploadId);
    assert.equal(done.size, count * chunk);
    const expected = createHash('sha256');
    for (let i = 0; i < count; i++) expected.update(seeds[i % seeds.length] ?? Buffer.alloc(0));
    assert.deepEqual(done.digests['SHA-256'], expected.digest());
    // V8 frees the source's spent 1 MiB buffers only once ~64 MiB of them pile up (measured: ~67 MiB
    // whatever the upload's size; ~1 MiB when the source reuses one buffer). A store that kept the
    // chunks would grow by 512 MiB.
    const grown = (peak - before) / 1024 / 1024;
    assert.ok(grown < 96, `rss grew by ${grown.toFixed(1)} MiB`);
  });
});
