// Engine benchmark (npm run bench): each primitive through a real Coffer node (SQLite store, sealed
// key records, durable group-committed audit journal) on a temporary data directory, beside two
// references in the same process: raw node:crypto called synchronously (one thread, pre-imported
// KeyObject) and, for signatures, raw node:crypto's callback form (libuv's thread pool) with the
// engine's concurrency. The engine signs on the thread pool too, so on a machine with a spare core
// it can pass the synchronous reference; the callback column shows what the same hardware gives
// without Coffer. The three measurements rotate within each round; ratios are per round, and the
// table shows medians of them. It is a report: it exits 0 whether or not the design target
// (P-256 signing ≥ 0.8× synchronous node:crypto) is met.
//
// Environment: BENCH_ROUNDS (default 3), BENCH_MS per measurement (default 1500), BENCH_CONCURRENCY
// operations in flight for the engine and the callback reference (default 256), BENCH_ONLY
// (comma-separated row ids: p256, p256-name, ed25519, rsa2048, aes, hmac).
import {
  createCipheriv, createHmac, createPublicKey, createSecretKey, generateKeyPairSync, randomBytes,
  sign as nodeSign, verify as nodeVerify, type KeyObject,
} from 'node:crypto';
import { AuditJournal } from '../src/audit/index.ts';
import type { Caller } from '../src/core/engine/caller.ts';
import { openBenchNode } from './bench-node.ts';
import { envInteger, formatRate, measureAsync, measureSync, median, type Rate } from './measure.ts';
import { loadAverage, printHeader } from './report.ts';

const ROUNDS = envInteger('BENCH_ROUNDS', 3);
const MEASURE_MS = envInteger('BENCH_MS', 1500);
const CONCURRENCY = envInteger('BENCH_CONCURRENCY', 256);
const WARMUP_MS = Math.min(500, MEASURE_MS);
const ONLY = (process.env['BENCH_ONLY'] ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
const PROJECT = 'bench';
/** The design target (engine / synchronous node:crypto) that this report checks, for P-256 signing only. */
const P256_TARGET = 0.8;

/** A fixed pool of inputs cycled through, so input generation stays out of the timed loop. */
function cycle<T>(items: readonly T[]): () => T {
  let i = 0;
  return () => {
    const item = items[i % items.length];
    i++;
    if (item === undefined) throw new Error('empty input pool');
    return item;
  };
}

/** 32..64-byte messages, as a client signing a digest-sized payload would send. */
const shortMessages = cycle(Array.from({ length: 256 }, (_, i) => randomBytes(32 + (i % 33))));
const kib = cycle(Array.from({ length: 16 }, () => randomBytes(1024)));

interface Row {
  readonly name: string;
  readonly id: string;
  readonly note: string;
  readonly target?: number;
  /** Raw node:crypto, synchronous. */
  readonly reference: () => unknown;
  /** Raw node:crypto's callback (thread-pool) form, where it has one. */
  readonly pooled?: () => Promise<unknown>;
  readonly engine: () => Promise<unknown>;
}

interface Result {
  readonly row: Row;
  readonly reference: Rate[];
  readonly pooled: Rate[];
  readonly engine: Rate[];
  /** engine / synchronous reference, per round. */
  readonly ratios: number[];
  /** engine / callback reference, per round. */
  readonly pooledRatios: number[];
}

/** node:crypto's sign in its callback form: the signature is made on libuv's thread pool. */
function signOnPool(algorithm: string | null, data: Uint8Array, key: KeyObject): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    nodeSign(algorithm, data, key, (error, signature) => {
      if (error === null) resolve(signature);
      else reject(error);
    });
  });
}

const medianOf = (rates: readonly Rate[], pick: (rate: Rate) => number): number => median(rates.map(pick));

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

async function main(): Promise<void> {
  const bench = await openBenchNode('coffer-bench-');
  try {
    const { node, dataDir } = bench;
    const engine = node.engine;
    let requests = 0;
    const caller = (): Caller => ({ principal: 'bench-user', roles: ['user'], projects: [PROJECT], requestId: `bench-${++requests}` });
    const create = async (name: string, spec: string, usage: string): Promise<string> =>
      (await engine.keys.create(caller(), { project: PROJECT, name, spec, usage })).id;

    const ecId = await create('p256', 'EC_P256', 'SIGN_VERIFY');
    const edId = await create('ed25519', 'ED25519', 'SIGN_VERIFY');
    const rsaId = await create('rsa2048', 'RSA_2048', 'SIGN_VERIFY');
    const aesId = await create('aes256', 'AES_256', 'ENCRYPT_DECRYPT');
    const hmacId = await create('hmac256', 'HMAC_256', 'GENERATE_VERIFY_MAC');

    // Reference keys: same parameters, imported once as KeyObjects (engine keys never leave Coffer).
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const ed = generateKeyPairSync('ed25519').privateKey;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const aes = createSecretKey(randomBytes(32));
    const hmac = createSecretKey(randomBytes(32));
    const aesGcm = (plaintext: Buffer): Buffer => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', aes, iv);
      const body = cipher.update(plaintext);
      return Buffer.concat([iv, body, cipher.final(), cipher.getAuthTag()]);
    };

    const rows: Row[] = [
      {
        name: 'P-256 ECDSA sign', id: 'p256', target: P256_TARGET, note: 'ECDSA_SHA_256, 32-64 B message, DER, key by id',
        reference: () => nodeSign('sha256', shortMessages(), ec),
        pooled: () => signOnPool('sha256', shortMessages(), ec),
        engine: () => engine.crypto.sign(caller(), ecId, { algorithm: 'ECDSA_SHA_256', message: shortMessages() }),
      },
      {
        name: 'P-256 ECDSA sign, by name', id: 'p256-name', target: P256_TARGET, note: 'as above, key by {project, name}',
        reference: () => nodeSign('sha256', shortMessages(), ec),
        pooled: () => signOnPool('sha256', shortMessages(), ec),
        engine: () => engine.crypto.sign(caller(), { project: PROJECT, name: 'p256' }, { algorithm: 'ECDSA_SHA_256', message: shortMessages() }),
      },
      {
        name: 'Ed25519 sign', id: 'ed25519', note: 'pure Ed25519, 32-64 B message',
        reference: () => nodeSign(null, shortMessages(), ed),
        pooled: () => signOnPool(null, shortMessages(), ed),
        engine: () => engine.crypto.sign(caller(), edId, { algorithm: 'ED25519', message: shortMessages() }),
      },
      {
        name: 'RSA-2048 sign', id: 'rsa2048', note: 'RSASSA_PKCS1_V1_5_SHA_256, 32-64 B message',
        reference: () => nodeSign('sha256', shortMessages(), rsa),
        pooled: () => signOnPool('sha256', shortMessages(), rsa),
        engine: () => engine.crypto.sign(caller(), rsaId, { algorithm: 'RSASSA_PKCS1_V1_5_SHA_256', message: shortMessages() }),
      },
      {
        name: 'AES-256-GCM encrypt 1 KiB', id: 'aes', note: 'engine: XAES-256-GCM (per-message subkey) + header AAD',
        reference: () => aesGcm(kib()),
        engine: () => engine.crypto.encrypt(caller(), aesId, kib()),
      },
      {
        name: 'HMAC-SHA-256 1 KiB', id: 'hmac', note: 'HMAC_SHA_256',
        reference: () => createHmac('sha256', hmac).update(kib()).digest(),
        engine: () => engine.crypto.generateMac(caller(), hmacId, kib()),
      },
    ];
    const selected = rows.filter((row) => ONLY.length === 0 || ONLY.includes(row.id));
    if (selected.length === 0) throw new Error(`BENCH_ONLY matched no row; rows are ${rows.map((r) => r.id).join(', ')}`);

    // Sanity: the engine's signatures verify, so the benchmark times working operations.
    const message = shortMessages();
    const ecPublic = createPublicKey((await engine.crypto.getPublicKey(caller(), ecId)).pem);
    const ecSignature = (await engine.crypto.sign(caller(), ecId, { algorithm: 'ECDSA_SHA_256', message })).signature;
    if (!nodeVerify('sha256', message, ecPublic, ecSignature)) throw new Error('the engine P-256 signature does not verify');

    const journal = node.audit instanceof AuditJournal ? node.audit : undefined;
    const before = journal?.stats();
    printHeader('Coffer engine benchmark');
    console.log(`  rounds ${ROUNDS}, ${MEASURE_MS} ms per measurement, warm-up ${WARMUP_MS} ms, engine concurrency ${CONCURRENCY}`);
    console.log(`  data dir ${dataDir} (SQLite store + durable audit journal, fdatasync per group commit)`);
    console.log(`  references: raw node:crypto with pre-imported KeyObjects, (1) synchronous, one thread; (2) callback form, thread pool, ${CONCURRENCY} in flight`);
    console.log(`  engine: CofferNode.engine, awaited, audited, ${CONCURRENCY} in flight (signatures on the thread pool, UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'})`);
    console.log(`  load average at start ${loadAverage()} (other work on this machine skews both columns)`);
    console.log('');

    const results: Result[] = [];
    for (const row of selected) {
      const { pooled } = row;
      // Each side of a round, as a measurement; rotated per round so drift within a round favours none.
      const sides: { readonly name: 'reference' | 'pooled' | 'engine'; readonly measure: () => Promise<Rate> }[] = [
        { name: 'reference', measure: () => Promise.resolve(measureSync(row.reference, MEASURE_MS)) },
        ...(pooled === undefined ? [] : [{ name: 'pooled' as const, measure: () => measureAsync(pooled, MEASURE_MS, CONCURRENCY) }]),
        { name: 'engine', measure: () => measureAsync(row.engine, MEASURE_MS, CONCURRENCY) },
      ];
      measureSync(row.reference, WARMUP_MS);
      if (pooled !== undefined) await measureAsync(pooled, WARMUP_MS, CONCURRENCY);
      await measureAsync(row.engine, WARMUP_MS, CONCURRENCY);
      const result: Result = { row, reference: [], pooled: [], engine: [], ratios: [], pooledRatios: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const rates = new Map<string, Rate>();
        for (let i = 0; i < sides.length; i++) {
          const side = sides[(round + i) % sides.length];
          if (side !== undefined) rates.set(side.name, await side.measure());
        }
        const reference = rates.get('reference');
        const engineRate = rates.get('engine');
        if (reference === undefined || engineRate === undefined) throw new Error('a measurement is missing');
        result.reference.push(reference);
        result.engine.push(engineRate);
        result.ratios.push(engineRate.opsPerSecond / reference.opsPerSecond);
        const pooledRate = rates.get('pooled');
        if (pooledRate !== undefined) {
          result.pooled.push(pooledRate);
          result.pooledRatios.push(engineRate.opsPerSecond / pooledRate.opsPerSecond);
        }
      }
      results.push(result);
      const perRound = (ratios: readonly number[]): string => ratios.map((x) => x.toFixed(2)).join(' ');
      const vsPooled = result.pooledRatios.length === 0 ? '' : `; engine/callback ${perRound(result.pooledRatios)}`;
      console.log(`  done: ${row.name} (per-round engine/sync ${perRound(result.ratios)}${vsPooled})`);
    }
    const after = journal?.stats();

    const header = ['algorithm', 'sync ops/s', 'callback ops/s', 'engine ops/s', 'engine/sync', 'engine/callback', 'target (engine/sync)'];
    const lines = results.map(({ row, reference, pooled, engine: engineRates, ratios, pooledRatios }) => {
      const ratio = median(ratios);
      const target = row.target === undefined ? 'info' : `>= ${row.target.toFixed(2)} ${ratio >= row.target ? 'PASS' : 'BELOW'}`;
      return [
        row.name,
        formatRate(medianOf(reference, (r) => r.opsPerSecond)),
        pooled.length === 0 ? '-' : formatRate(medianOf(pooled, (r) => r.opsPerSecond)),
        formatRate(medianOf(engineRates, (r) => r.opsPerSecond)),
        ratio.toFixed(2),
        pooledRatios.length === 0 ? '-' : median(pooledRatios).toFixed(2),
        target,
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
    const format = (cells: readonly string[]): string =>
      `| ${cells.map((c, i) => pad(c, widths[i] ?? 0, i > 0 && i < 6)).join(' | ')} |`;
    console.log('');
    console.log(format(header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const line of lines) console.log(format(line));
    console.log('');
    for (const { row } of results) console.log(`  ${row.name}: ${row.note}`);
    console.log('  ops/s are medians over rounds; each ratio is the median over rounds of engine/reference in the same round.');
    console.log('  sync: raw node:crypto on the calling thread. callback: its thread-pool form with the same concurrency as');
    console.log('  the engine; "-" where node:crypto has none (ciphers and HMACs are synchronous only).');
    console.log('  Engine figures include the durable audit entry of every operation (the references write nothing).');
    console.log(`  The design target (engine/sync >= ${P256_TARGET}) is for P-256 signing; the other rows are informational.`);
    // CPU per operation is steadier than ops/s when the machine is shared; an event loop that is not
    // busy while every operation is in flight means the engine is waiting for the journal's fdatasync.
    console.log('');
    console.log('  diagnostics (medians): process CPU per op (all threads), sync / callback -> engine; engine event-loop busy share');
    for (const { row, reference, pooled, engine: engineRates } of results) {
      const ref = medianOf(reference, (r) => r.cpuMicrosPerOp);
      const pool = pooled.length === 0 ? '     -   ' : `${medianOf(pooled, (r) => r.cpuMicrosPerOp).toFixed(1).padStart(6)} us`;
      const eng = medianOf(engineRates, (r) => r.cpuMicrosPerOp);
      const busy = medianOf(engineRates, (r) => r.loopUtilization);
      const extra = eng - ref;
      console.log(`    ${pad(row.name, 26)} ${ref.toFixed(1).padStart(6)} us / ${pool} -> ${eng.toFixed(1).padStart(6)} us (${extra >= 0 ? '+' : ''}${extra.toFixed(1)} us over sync), loop busy ${(busy * 100).toFixed(0)}%`);
    }
    if (before !== undefined && after !== undefined) {
      const entries = after.entries - before.entries;
      const batches = after.batches - before.batches;
      console.log(`  audit journal: ${entries} entries in ${batches} group commits (${(entries / Math.max(1, batches)).toFixed(0)} per fdatasync), ${after.checkpoints - before.checkpoints} checkpoints`);
    }
    console.log(`  load average at end ${loadAverage()}`);

    const targeted = results.filter(({ row }) => row.target !== undefined);
    const misses = targeted.filter(({ row, ratios }) => median(ratios) < (row.target ?? 0));
    console.log('');
    for (const { row, ratios, pooledRatios } of targeted) {
      const vsPooled = pooledRatios.length === 0 ? '' : `, ${median(pooledRatios).toFixed(2)}x raw node:crypto on the thread pool`;
      console.log(`  ${row.name}: engine at ${median(ratios).toFixed(2)}x raw synchronous node:crypto${vsPooled}.`);
    }
    if (misses.length === 0) {
      console.log(`TARGET MET: P-256 signing through the engine is at least ${P256_TARGET}x raw synchronous node:crypto.`);
    } else {
      for (const { row, ratios } of misses) {
        console.log(`TARGET MISSED: ${row.name} runs at ${median(ratios).toFixed(2)}x raw synchronous node:crypto; the design target is ${row.target?.toFixed(2) ?? ''}x.`);
      }
    }
  } finally {
    await bench.close();
  }
}

await main().catch((error: unknown) => {
  console.error('benchmark failed:', error);
  process.exitCode = 1;
});
