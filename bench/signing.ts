// Signing-service benchmark (npm run bench:signing): `coffer dev` (a development node and the signer in
// one process) started as a child and driven through the SDK (SignerClient) over mutual TLS, each
// figure beside its reference measured in the same run:
// - upload-and-sign of a large file (uploadFile + submitJob + waitForJob), MiB/s, against the same file
//   read from disk and SHA-256 hashed in this process; the signature checked once with openssl;
// - the server's memory from /proc/<pid>/status: VmHWM (peak RSS, reset before each upload where the
//   kernel allows) and its growth over the RSS before the upload. The process also holds a Coffer node,
//   so the growth, the signer's share, is what DESIGN.md's 128 MB target is compared with;
// - signed jobs per second for 4 KiB files, uploaded and as a digest, against node:crypto ECDSA P-256
//   signing the same files in process.
// Rounds rotate the sides; tables show medians of per-round figures and ratios. A report: it exits 0
// whatever the figures (1 only when it cannot run: too little disk, or the server never came up).
//
// Environment: BENCH_ROUNDS (default 3), BENCH_SIGN_MB (default 1024) MiB for the large file,
// BENCH_JOBS (default 200) small jobs per round and side, BENCH_CONCURRENCY (default 8) in flight,
// BENCH_SIGNING_DIR (default the OS temp directory) for the files and the server's data, since the
// disk is part of what is measured; COFFER_BENCH_20GB=1 adds one 20 GiB upload-and-sign.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { CofferClient } from '../src/client/index.ts';
import { SignerClient, type JobView } from '../src/signing/client/index.ts';
import { envInteger, formatRate, median } from './measure.ts';
import { cpuOf } from './process-tree.ts';
import { loadAverage, printHeader, table } from './report.ts';

const MIB = 1024 * 1024;
const ROUNDS = envInteger('BENCH_ROUNDS', 3);
const LARGE_MB = envInteger('BENCH_SIGN_MB', 1024);
const JOBS = envInteger('BENCH_JOBS', 200);
const CONCURRENCY = envInteger('BENCH_CONCURRENCY', 8);
const HUGE_MB = 20 * 1024;
const HUGE = process.env['COFFER_BENCH_20GB'] === '1';
const SMALL_BYTES = 4096;
/** What `coffer dev` sets up (src/cli/dev/dev-signer.ts, dev-identity.ts). */
const PROJECT = 'dev';
const PROFILE = 'raw';
const SIGNING_KEY = 'dev/code-signing';
/** DESIGN.md, performance targets: a 20 GB upload signed with server memory under 128 MB. */
const MEMORY_TARGET_BYTES = 128e6;
/** The first start makes a PKI and hashes a password; allow for a slow, shared machine. */
const READY_TIMEOUT_MS = 120_000;
/** A signed job is final well within this even for 20 GiB: the digest is taken as the bytes arrive. */
const JOB_TIMEOUT_S = 1800;
const ROOT = resolve(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => { done(); }));
  return port;
}

interface DevServer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly apiUrl: string;
  readonly signerUrl: string;
}

/** `coffer dev` on free ports in `dataDir`, once it prints `coffer: ready`. */
async function startDev(dataDir: string): Promise<DevServer> {
  const [api, health, signer] = [await freePort(), await freePort(), await freePort()];
  const env = { ...process.env, COFFER_DATA_DIR: dataDir, COFFER_API_PORT: String(api), COFFER_HEALTH_PORT: String(health), COFFER_SIGNER_PORT: String(signer) };
  const child = spawn(process.execPath, [join(ROOT, 'src', 'cli', 'main.ts'), 'dev'], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  try {
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => { fail(new Error(`coffer dev was not ready within ${READY_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`)); }, READY_TIMEOUT_MS);
      child.stdout.on('data', () => {
        if (!stdout.includes('coffer: ready\n')) return;
        clearTimeout(timer);
        done();
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`coffer dev exited (${String(code)}) before it was ready:\n${stdout}\n${stderr}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  if (child.pid === undefined) throw new Error('coffer dev has no pid');
  return { child, pid: child.pid, apiUrl: `https://localhost:${api}`, signerUrl: `https://localhost:${signer}` };
}

/** SIGINT, as an operator stops it; SIGKILL if it is still there after 30 s. */
async function stopDev(dev: DevServer): Promise<void> {
  if (dev.child.exitCode !== null || dev.child.signalCode !== null) return;
  const exited = new Promise<void>((done) => dev.child.once('exit', () => { done(); }));
  dev.child.kill('SIGINT');
  const timer = setTimeout(() => dev.child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

interface Memory {
  /** Resident set now and its high-water mark, bytes. */
  readonly rss: number;
  readonly hwm: number;
}

function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

/** Resets VmHWM to the current RSS (proc(5), clear_refs value 5); false where that is not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** `mib` MiB of 8 distinct random 1 MiB blocks in turn, streamed to disk. */
async function writeLargeFile(path: string, mib: number): Promise<void> {
  const blocks = Array.from({ length: 8 }, () => randomBytes(MIB));
  await pipeline(function* () {
    for (let i = 0; i < mib; i++) yield blocks[i % blocks.length] ?? Buffer.alloc(MIB);
  }, createWriteStream(path));
}

/** The reference: the file read from disk and hashed here, as the client's upload reads it. */
async function hashFile(path: string): Promise<{ seconds: number; hex: string }> {
  const start = performance.now();
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const hex = hash.digest('hex');
  return { seconds: (performance.now() - start) / 1000, hex };
}

interface LargeRun {
  readonly seconds: number;
  readonly job: JobView;
  readonly before: Memory;
  readonly after: Memory;
  /** Whether VmHWM was reset before the upload (else it is the peak since the server started). */
  readonly peakReset: boolean;
  /** Server CPU (all threads) over the run, seconds. */
  readonly serverCpu: number;
}

async function uploadAndSign(signer: SignerClient, pid: number, path: string): Promise<LargeRun> {
  const peakReset = resetPeak(pid);
  const before = memoryOf(pid);
  const cpu = cpuOf([pid]) ?? 0;
  const start = performance.now();
  const upload = await signer.uploadFile(PROJECT, PROFILE, path);
  const submitted = await signer.submitJob(PROJECT, { profile: PROFILE, uploadId: upload.uploadId });
  const job = await signer.waitForJob(submitted.jobId, JOB_TIMEOUT_S);
  const seconds = (performance.now() - start) / 1000;
  const after = memoryOf(pid);
  if (job.state !== 'signed') throw new Error(`job ${job.jobId} ended ${job.state}: ${job.failure?.code ?? 'not final'}`);
  return { seconds, job, before, after, peakReset, serverCpu: ((cpuOf([pid]) ?? 0) - cpu) / 1e6 };
}

/** The job's signature checked by openssl with the key's public key: over the file itself, or over its digest (too big to read again). */
async function verifySignature(signer: SignerClient, coffer: CofferClient, job: JobView, scratch: string, over: { file: string } | { sha256: string }): Promise<string> {
  const { result } = job;
  if (result === undefined) throw new Error(`signed job ${job.jobId} has no result`);
  const output = await signer.jobOutput(job.jobId);
  const publicKey = await coffer.keys.publicKey(SIGNING_KEY, result.keyVersion);
  if (publicKey.keyId !== result.keyId) throw new Error(`job ${job.jobId} was signed with key ${result.keyId}, not ${SIGNING_KEY}`);
  const pub = join(scratch, 'key.pub.pem');
  const sig = join(scratch, 'job.sig');
  writeFileSync(pub, publicKey.pem);
  writeFileSync(sig, output.bytes);
  let args: string[];
  if ('file' in over) {
    args = ['dgst', '-sha256', '-verify', pub, '-signature', sig, over.file];
  } else {
    const digest = join(scratch, 'digest.bin');
    writeFileSync(digest, Buffer.from(over.sha256, 'hex'));
    args = ['pkeyutl', '-verify', '-pubin', '-inkey', pub, '-in', digest, '-sigfile', sig];
  }
  const run = spawnSync('openssl', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args[0] ?? ''} -verify rejected job ${job.jobId}'s signature: ${run.stdout}${run.stderr}`);
  return `openssl ${args[0] ?? ''} -verify: OK (${'file' in over ? 'over the file' : 'over the in-process SHA-256'}; key ${publicKey.keyId} v${publicKey.keyVersion}, ${result.algorithm})`;
}

/** Runs `work` over `items` with `concurrency` in flight; the wall time in seconds. */
async function timedPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await work(item);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - start) / 1000;
}

function requireSigned(job: JobView): void {
  if (job.state !== 'signed') throw new Error(`job ${job.jobId} ended ${job.state}: ${job.failure?.code ?? 'not final'}`);
}

/** N small files, each its own random bytes. */
function writeSmallFiles(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const path = join(dir, `small-${i}.bin`);
    writeFileSync(path, randomBytes(SMALL_BYTES));
    return path;
  });
}

/** Too little disk for what was asked: said plainly, not as a stack trace. */
class DiskRefusal extends Error {}

type SmallSide = 'upload' | 'digest' | 'inProcess';

function smallSides(signer: SignerClient): Record<SmallSide, (files: readonly string[]) => Promise<number>> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    upload: (files) => timedPool(files, CONCURRENCY, async (path) => {
      const upload = await signer.uploadFile(PROJECT, PROFILE, path);
      const job = await signer.submitJob(PROJECT, { profile: PROFILE, uploadId: upload.uploadId });
      requireSigned(await signer.waitForJob(job.jobId, 120));
    }),
    // The client reads and hashes the file itself; only the digest and size go to the service.
    digest: (files) => timedPool(files, CONCURRENCY, async (path) => {
      const bytes = await readFile(path);
      const value = createHash('sha256').update(bytes).digest('hex');
      const job = await signer.submitJob(PROJECT, { profile: PROFILE, digest: { hash: 'SHA-256', value }, size: bytes.length });
      requireSigned(await signer.waitForJob(job.jobId, 120));
    }),
    // The same files signed here, in passes over the whole set until 250 ms have gone, for a steady rate.
    inProcess: async (files) => {
      const contents = await Promise.all(files.map((path) => readFile(path)));
      const start = performance.now();
      let passes = 0;
      do {
        for (const data of contents) nodeSign('sha256', data, privateKey);
        passes++;
      } while (performance.now() - start < 250);
      return (performance.now() - start) / 1000 / passes;
    },
  };
}

/** Refuses the run when `dir`'s disk has fewer than `bytes` free. */
function requireDisk(dir: string, bytes: number, what: string): void {
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    throw new DiskRefusal(`${what} needs ${(bytes / 1024 ** 3).toFixed(1)} GiB free in ${dir} (the file and the server's uploaded copy, plus margin); there are ${(free / 1024 ** 3).toFixed(1)} GiB. Set BENCH_SIGNING_DIR to a larger disk.`);
  }
}

const mib = (bytes: number): string => `${(bytes / MIB).toFixed(0)} MiB`;
const mibs = (value: number): string => `${value.toFixed(0)} MiB/s`;

function memoryLine(label: string, run: LargeRun): string[] {
  return [label, mib(run.before.rss), `${mib(run.after.hwm)}${run.peakReset ? '' : ' (since start)'}`, mib(run.after.hwm - run.before.rss), mib(run.after.rss), run.serverCpu.toFixed(1)];
}

async function main(): Promise<void> {
  const base = process.env['BENCH_SIGNING_DIR'] ?? tmpdir();
  // The large file and its uploaded copy, one of each at a time, plus 1 GiB for the rest.
  requireDisk(base, 2 * LARGE_MB * MIB + 1024 ** 3, `the ${LARGE_MB} MiB run`);
  if (HUGE) requireDisk(base, 2 * HUGE_MB * MIB + 1024 ** 3, 'COFFER_BENCH_20GB=1');
  const dir = mkdtempSync(join(base, 'coffer-bench-signing-'));
  let dev: DevServer | undefined;
  const clients: { close(): void }[] = [];
  try {
    printHeader('Coffer signing-service benchmark');
    console.log(`  coffer dev (node + signer, one process) via SignerClient over mutual TLS; data and files in ${dir}; load average at start ${loadAverage()}`);
    console.log(`  rounds ${ROUNDS}; large file ${LARGE_MB} MiB; ${JOBS} small jobs of ${SMALL_BYTES} B per round and side, ${CONCURRENCY} in flight${HUGE ? `; plus one ${HUGE_MB} MiB run` : ''}`);
    console.log('  upload-and-sign: uploadFile + submitJob + waitForJob (signed); reference: the same file read and SHA-256 hashed in this process');
    console.log('  small jobs: reference node:crypto ECDSA P-256 sign of the same files in this process');
    console.log('');
    const largePath = join(dir, 'large.bin');
    const generated = performance.now();
    await writeLargeFile(largePath, LARGE_MB);
    console.log(`  wrote ${LARGE_MB} MiB in ${((performance.now() - generated) / 1000).toFixed(1)} s`);
    const started = performance.now();
    dev = await startDev(join(dir, 'dev'));
    const rest = memoryOf(dev.pid).rss;
    console.log(`  coffer dev ready in ${((performance.now() - started) / 1000).toFixed(1)} s (pid ${dev.pid}); server at rest: ${mib(rest)} RSS`);
    const credentials = { ca: join(dir, 'dev', 'ca.pem'), cert: join(dir, 'dev', 'user.pem'), key: join(dir, 'dev', 'user.key') };
    const signer = new SignerClient({ url: dev.signerUrl, ...credentials, timeoutMs: 120_000 });
    clients.push(signer);
    const coffer = new CofferClient({ url: dev.apiUrl, ...credentials });
    clients.push(coffer);

    // Small jobs first warm both paths (TLS sessions, JIT) before anything is measured.
    const sides = smallSides(signer);
    const warm = writeSmallFiles(join(dir, 'warm'), 2 * CONCURRENCY);
    await sides.upload(warm);
    await sides.digest(warm);

    // a. Upload-and-sign of the large file, rotating which side goes first.
    const large: { rate: number[]; reference: number[]; ratio: number[]; runs: LargeRun[] } = { rate: [], reference: [], ratio: [], runs: [] };
    let verified = '';
    for (let round = 0; round < ROUNDS; round++) {
      let reference: { seconds: number; hex: string } | undefined;
      let run: LargeRun | undefined;
      for (const side of round % 2 === 0 ? ['reference', 'coffer'] : ['coffer', 'reference']) {
        if (side === 'reference') reference = await hashFile(largePath);
        else run = await uploadAndSign(signer, dev.pid, largePath);
      }
      if (reference === undefined || run === undefined) throw new Error('a side did not run');
      if (run.job.artifact.digests['SHA-256'] !== reference.hex) throw new Error(`job ${run.job.jobId} names a SHA-256 other than the file's`);
      if (round === 0) verified = await verifySignature(signer, coffer, run.job, dir, { file: largePath });
      large.rate.push(LARGE_MB / run.seconds);
      large.reference.push(LARGE_MB / reference.seconds);
      large.ratio.push(reference.seconds / run.seconds);
      large.runs.push(run);
    }
    rmSync(largePath, { force: true });

    // d. Small jobs: uploaded, as a digest, and the in-process reference, rotating the order.
    const small: Record<SmallSide, number[]> = { upload: [], digest: [], inProcess: [] };
    const smallRatio: { upload: number[]; digest: number[] } = { upload: [], digest: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const files = writeSmallFiles(join(dir, `small-${round}`), JOBS);
      const got: Partial<Record<SmallSide, number>> = {};
      const order: SmallSide[] = (['upload', 'digest', 'inProcess'] as const).map((_, i, all) => all[(i + round) % all.length] ?? 'upload');
      for (const side of order) got[side] = JOBS / (await sides[side](files));
      for (const side of ['upload', 'digest', 'inProcess'] as const) small[side].push(got[side] ?? 0);
      smallRatio.upload.push((got.upload ?? 0) / (got.inProcess ?? 1));
      smallRatio.digest.push((got.digest ?? 0) / (got.inProcess ?? 1));
      rmSync(join(dir, `small-${round}`), { recursive: true, force: true });
    }

    // c. One 20 GiB upload-and-sign, on request.
    let huge: { run: LargeRun; rate: number; reference: number; verified: string } | undefined;
    if (HUGE) {
      const hugePath = join(dir, 'huge.bin');
      try {
        await writeLargeFile(hugePath, HUGE_MB);
        const reference = await hashFile(hugePath);
        const run = await uploadAndSign(signer, dev.pid, hugePath);
        if (run.job.artifact.digests['SHA-256'] !== reference.hex) throw new Error(`job ${run.job.jobId} names a SHA-256 other than the file's`);
        huge = { run, rate: HUGE_MB / run.seconds, reference: HUGE_MB / reference.seconds, verified: await verifySignature(signer, coffer, run.job, dir, { sha256: reference.hex }) };
      } finally {
        rmSync(hugePath, { force: true });
      }
    }

    console.log('');
    const rows: string[][] = [
      [`upload-and-sign ${LARGE_MB} MiB`, mibs(median(large.rate)), `${mibs(median(large.reference))} read + SHA-256`, median(large.ratio).toFixed(2)],
      [`signed jobs, ${SMALL_BYTES} B uploaded`, formatRate(median(small.upload)), `${formatRate(median(small.inProcess))} P-256 sign`, median(smallRatio.upload).toFixed(4)],
      [`signed jobs, ${SMALL_BYTES} B as digest`, formatRate(median(small.digest)), `${formatRate(median(small.inProcess))} P-256 sign`, median(smallRatio.digest).toFixed(4)],
    ];
    if (huge !== undefined) rows.push([`upload-and-sign ${HUGE_MB} MiB (one run)`, mibs(huge.rate), `${mibs(huge.reference)} read + SHA-256`, (huge.rate / huge.reference).toFixed(2)]);
    console.log(`Medians of ${ROUNDS} rounds (ratio: median of per-round ratios)`);
    table(['figure', 'value', 'reference', 'ratio'], rows);
    console.log('');
    console.log('Server memory per upload-and-sign (whole process: Coffer node + signer), from /proc/<pid>/status');
    const memoryRows = large.runs.map((run, i) => memoryLine(`${LARGE_MB} MiB, round ${i + 1}`, run));
    if (huge !== undefined) memoryRows.push(memoryLine(`${HUGE_MB} MiB`, huge.run));
    table(['upload', 'VmRSS before', 'VmHWM (peak)', 'growth (peak - before)', 'VmRSS after', 'server CPU s'], memoryRows);

    const allRuns = huge === undefined ? large.runs : [...large.runs, huge.run];
    const peak = Math.max(...allRuns.map((run) => run.after.hwm));
    const growth = Math.max(...allRuns.map((run) => run.after.hwm - run.before.rss));
    const target = huge === undefined ? large.runs : [huge.run];
    const targetGrowth = Math.max(...target.map((run) => run.after.hwm - run.before.rss));
    console.log('');
    console.log('Summary');
    console.log(`  upload-and-sign: ${mibs(median(large.rate))} for ${LARGE_MB} MiB, ${median(large.ratio).toFixed(2)}x the in-process read + SHA-256 of the same file (${mibs(median(large.reference))})`);
    if (huge !== undefined) console.log(`  20 GiB: ${mibs(huge.rate)}, ${(huge.rate / huge.reference).toFixed(2)}x read + SHA-256 (${huge.run.seconds.toFixed(0)} s)`);
    console.log(`  server memory: highest VmHWM during an upload ${mib(peak)} (node + signer, at rest ${mib(rest)}); largest growth during an upload ${mib(growth)}`);
    console.log(`  target (DESIGN.md: a 20 GB upload signed with server memory under 128 MB), compared with the growth, the signer's share: ${mib(targetGrowth)} ${targetGrowth < MEMORY_TARGET_BYTES ? 'under' : 'OVER'} 128 MB${huge === undefined ? ` (${LARGE_MB} MiB runs only; COFFER_BENCH_20GB=1 for the 20 GiB figure)` : ' (20 GiB run)'}`);
    console.log(`  signature: ${verified}`);
    if (huge !== undefined) console.log(`  20 GiB signature: ${huge.verified}`);
    console.log(`  small jobs: ${formatRate(median(small.upload))} uploaded, ${formatRate(median(small.digest))} by digest (${CONCURRENCY} in flight); in-process P-256 sign ${formatRate(median(small.inProcess))}`);
  } finally {
    for (const client of clients) client.close();
    try {
      if (dev !== undefined) await stopDev(dev);
    } finally {
      dev?.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof DiskRefusal)) throw error;
  console.error(`bench:signing refused: ${error.message}`);
  process.exitCode = 1;
}
