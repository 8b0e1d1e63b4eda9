// Upload benchmark (npm run bench:upload): a file generated on the fly in 1 MiB chunks goes through
// UploadStore (streamed to disk, hashed with SHA-256, completed), beside the reference measured in the
// same run: plain node:crypto SHA-256 over the same chunks, in memory; and direct-mode hashing
// (src/signing/artifact-hash.ts reading the file back, as `coffer sign --direct` does) against it. Reports MiB/s, the ratio, and
// the peak RSS sampled during each side. A report: it exits 0 whatever the figures.
//
// Environment: BENCH_UPLOAD_MB (default 1024) MiB to upload; BENCH_UPLOAD_DIR (default the OS temp
// directory) for the store, since the disk is part of what is measured.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashArtifact } from '../src/signing/artifact-hash.ts';
import { UploadStore } from '../src/signing/uploads/index.ts';
import { envInteger } from './measure.ts';
import { loadAverage, printHeader, table } from './report.ts';

const MIB = 1024 * 1024;
const SIZE_MB = envInteger('BENCH_UPLOAD_MB', 1024);
/** A few distinct seeds, each chunk a fresh copy, so the source allocates as a socket would. */
const SEEDS = Array.from({ length: 8 }, () => randomBytes(MIB));

async function* source(): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < SIZE_MB; i++) {
    yield Buffer.from(SEEDS[i % SEEDS.length] ?? Buffer.alloc(0));
    // A socket hands chunks over on separate event-loop turns; this also lets the RSS sampler run.
    if (i % 16 === 15) await new Promise<void>((resolve) => { setImmediate(resolve); });
  }
}

interface Run {
  readonly seconds: number;
  /** Peak RSS sampled during the run, and its growth over the RSS at the start. */
  readonly peakRss: number;
  readonly rssGrowth: number;
  readonly digest: string;
}

/** Times `work`, sampling RSS every 10 ms. */
async function measured(work: () => Promise<string>): Promise<Run> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
  const start = performance.now();
  try {
    const digest = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { seconds: (performance.now() - start) / 1000, peakRss: peak, rssGrowth: peak - before, digest };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env['BENCH_UPLOAD_DIR'] ?? tmpdir(), 'coffer-bench-upload-'));
  try {
    printHeader('Coffer upload benchmark');
    console.log(`  ${SIZE_MB} MiB in 1 MiB chunks to ${dir}; load average at start ${loadAverage()}`);
    console.log('  upload: UploadStore.append (disk write + SHA-256 on the way) then complete (fsync); reference: node:crypto SHA-256 of the same chunks');
    console.log('');
    const reference = await measured(async () => {
      const hash = createHash('sha256');
      for await (const chunk of source()) hash.update(chunk);
      return hash.digest('hex');
    });
    const uploads = new UploadStore({ dir });
    let uploaded = '';
    const upload = await measured(async () => {
      const { uploadId } = await uploads.create({ hashes: ['SHA-256'], expectedSize: SIZE_MB * MIB });
      await uploads.append(uploadId, 0, source());
      const done = await uploads.complete(uploadId);
      uploaded = done.path;
      return done.digests['SHA-256']?.toString('hex') ?? '';
    });
    if (upload.digest !== reference.digest) throw new Error('the upload digest differs from the reference');
    // Direct mode: a builder hashes its file locally (coffer sign --direct); here the uploaded file,
    // just written and so mostly in the page cache, as a build output usually is.
    const direct = await measured(async () => (await hashArtifact({ hash: 'SHA-256' }, uploaded)).digest.toString('hex'));
    if (direct.digest !== reference.digest) throw new Error('the direct-mode digest differs from the reference');
    // Raw SHA-256 speed, nothing else: one 1 MiB buffer hashed over and over (no allocation, no I/O).
    const seed = SEEDS[0] ?? Buffer.alloc(MIB);
    const rawHash = await measured(() => {
      const hash = createHash('sha256');
      for (let i = 0; i < SIZE_MB; i++) hash.update(seed);
      return Promise.resolve(hash.digest('hex'));
    });
    const rate = (run: Run): number => SIZE_MB / run.seconds;
    const mb = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MiB`;
    console.log(`  direct-mode hashing at ${(rate(direct) / rate(rawHash)).toFixed(2)}x raw SHA-256 (target 0.90x)`);
    table(['side', 'MiB/s', 'ratio', 'seconds', 'peak RSS', 'RSS growth'], [
      ['upload (store + SHA-256)', rate(upload).toFixed(0), (rate(upload) / rate(reference)).toFixed(2), upload.seconds.toFixed(2), mb(upload.peakRss), mb(upload.rssGrowth)],
      ['direct mode: hashArtifact of the file', rate(direct).toFixed(0), (rate(direct) / rate(reference)).toFixed(2), direct.seconds.toFixed(2), mb(direct.peakRss), mb(direct.rssGrowth)],
      ['raw SHA-256, one reused buffer', rate(rawHash).toFixed(0), (rate(rawHash) / rate(reference)).toFixed(2), rawHash.seconds.toFixed(2), mb(rawHash.peakRss), mb(rawHash.rssGrowth)],
      ['node:crypto SHA-256', rate(reference).toFixed(0), '1.00', reference.seconds.toFixed(2), mb(reference.peakRss), mb(reference.rssGrowth)],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
