// Server benchmark (npm run bench:server): ECDSA P-256 signatures over mutual TLS from one real node
// (startNode, SQLite store, durable audit journal), loaded by a child process on loopback, beside
// two references measured in the same run and the same process as the node: raw node:crypto signing
// synchronously (one thread), and the node's own engine (engine.crypto.sign, same key, 256 in
// flight). API rows: single requests at saturation (closed loop) and at half that rate (open loop,
// latency counted from the scheduled send), batches of 100 and 1000 signatures, and GET whoami as
// the floor of the HTTP path. Rows rotate within each round; figures and ratios are medians over
// rounds. It is a report: it prints the DESIGN.md targets with PASS or BELOW and exits 0 either way.
//
// Environment: BENCH_ROUNDS (default 3), BENCH_MS per measurement (default 3000), BENCH_CONNECTIONS
// for single requests (default 64), BENCH_BATCH_CONNECTIONS for batches (default 8), BENCH_CLIENT
// (tls: a minimal HTTP/1.1 client over node:tls, the default; https: node:https with a keep-alive
// agent), BENCH_CPU_PROFILE=<path prefix> to also profile this process's main thread under saturated
// single and 1000-item batch load (writes <prefix>-single.cpuprofile, <prefix>-batch1000.cpuprofile).
import { generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { connect } from 'node:tls';
import { AuditJournal } from '../src/audit/index.ts';
import { profileOf, summarise, type ProfileSummary } from './cpu-profile.ts';
import { LoadDriver, readUserIdentity } from './load-driver.ts';
import { TRANSPORTS, type LoadJob, type LoadTarget, type ServerLoad, type Transport } from './load-protocol.ts';
import { envInteger, formatRate, measureAsync, measureSync, median, percentile, startMeter, type Rate } from './measure.ts';
import { machineCpu, threadCpu, type ThreadCpu } from './proc-cpu.ts';
import { loadAverage, printHeader, table } from './report.ts';
import { startBenchNode, type BenchNode } from './server-node.ts';

const ROUNDS = envInteger('BENCH_ROUNDS', 3);
const MEASURE_MS = envInteger('BENCH_MS', 3000);
const CONNECTIONS = envInteger('BENCH_CONNECTIONS', 64);
const BATCH_CONNECTIONS = envInteger('BENCH_BATCH_CONNECTIONS', 8);
const CLIENT = envTransport('BENCH_CLIENT', 'tls');
const PROFILE_PREFIX = process.env['BENCH_CPU_PROFILE'] ?? '';
const ENGINE_CONCURRENCY = 256;
const WARMUP_MS = Math.min(1000, MEASURE_MS);
const BATCH_SIZES = [100, 1000] as const;
const ALGORITHM = 'ECDSA_SHA_256';
/** DESIGN.md "Performance targets", ECDSA P-256 over mutual TLS from one node. */
const TARGET = { singlePerSecond: 10_000, batchedPerSecond: 40_000, halfLoadP99Ms: 5 } as const;

function envTransport(name: string, fallback: Transport): Transport {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const found = TRANSPORTS.find((t) => t === raw);
  if (found === undefined) throw new Error(`${name} must be one of ${TRANSPORTS.join(', ')}, got ${raw}`);
  return found;
}

/** 32..64-byte messages, as a client signing a digest-sized payload would send. */
const messages = Array.from({ length: 256 }, (_, i) => randomBytes(32 + (i % 33)));

/** One measurement of one row. Rates count signatures (whoami: requests). CPU figures in us. */
interface Sample {
  readonly perSecond: number;
  readonly requestsPerSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  /** This process (the node), all threads, per signature / per request. */
  readonly serverCpuPerItem: number;
  readonly serverCpuPerRequest: number;
  /** This process per request, by thread (Linux). */
  readonly threads?: ThreadCpu;
  readonly clientCpuPerRequest?: number;
  readonly loopBusy: number;
  /** CPU that other processes on the machine used meanwhile, in cores (Linux). */
  readonly othersCores?: number;
  readonly failed: number;
  readonly firstFailure?: string;
  /** Open loop: p99 of how late the client sent against its schedule, and the rate asked for. */
  readonly sendLagP99Ms?: number;
  readonly offeredPerSecond?: number;
}

/** Accounting that needs the operating system: this process by thread, and everyone else. */
function account(): (requests: number, ourMicros: number) => Pick<Sample, 'threads' | 'othersCores'> {
  const start = performance.now();
  const threads = threadCpu();
  const machine = machineCpu();
  return (requests, ourMicros) => {
    const seconds = (performance.now() - start) / 1000;
    const threadsNow = threadCpu();
    const machineNow = machineCpu();
    const per = (a: number, b: number): number => (b - a) / Math.max(1, requests);
    return {
      ...(threads === undefined || threadsNow === undefined ? {} : {
        threads: { main: per(threads.main, threadsNow.main), pool: per(threads.pool, threadsNow.pool), other: per(threads.other, threadsNow.other) },
      }),
      ...(machine === undefined || machineNow === undefined ? {} : { othersCores: Math.max(0, machineNow.busy - machine.busy - ourMicros) / 1e6 / seconds }),
    };
  };
}

async function measureInProcess(work: () => Rate | Promise<Rate>): Promise<Sample> {
  const start = performance.now();
  const finish = account();
  const rate = await work();
  const ops = rate.opsPerSecond * ((performance.now() - start) / 1000);
  return {
    perSecond: rate.opsPerSecond, requestsPerSecond: rate.opsPerSecond, serverCpuPerItem: rate.cpuMicrosPerOp,
    serverCpuPerRequest: rate.cpuMicrosPerOp, loopBusy: rate.loopUtilization, failed: 0, ...finish(ops, rate.cpuMicrosPerOp * ops),
  };
}

async function measureApi(load: LoadDriver<ServerLoad>, job: LoadJob, itemsPerRequest: number): Promise<Sample> {
  const done = startMeter();
  const finish = account();
  const result = await load.run(job);
  const server = done(result.completed);
  if (result.completed === 0) throw new Error(`${job.method} ${job.path}: no request succeeded (${result.firstFailure ?? 'no answer'})`);
  const latencies = result.latenciesMs.sort();
  return {
    perSecond: (result.completed * itemsPerRequest) / result.seconds,
    requestsPerSecond: result.completed / result.seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    serverCpuPerItem: server.cpuMicrosPerOp / itemsPerRequest,
    serverCpuPerRequest: server.cpuMicrosPerOp,
    clientCpuPerRequest: result.cpuMicros / (result.completed + result.failed),
    loopBusy: server.loopUtilization,
    failed: result.failed,
    ...(result.firstFailure === undefined ? {} : { firstFailure: result.firstFailure }),
    ...(job.pace.kind === 'open' ? { sendLagP99Ms: percentile(result.sendLagMs.sort(), 99), offeredPerSecond: job.pace.rate } : {}),
    ...finish(result.completed, server.cpuMicrosPerOp * result.completed + result.cpuMicros),
  };
}

type RowId = 'raw' | 'engine' | 'single' | 'half' | 'batch100' | 'batch1000' | 'floor';
const ROWS: readonly RowId[] = ['raw', 'engine', 'single', 'half', 'batch100', 'batch1000', 'floor'];

const ROW_NAMES: Record<RowId, string> = {
  raw: 'raw node:crypto sign, sync, in-process',
  engine: `engine.crypto.sign, ${ENGINE_CONCURRENCY} in flight, in-process`,
  single: `API single, saturated (${CONNECTIONS} connections)`,
  half: 'API single, half load (open loop)',
  batch100: `API batch of 100 (${BATCH_CONNECTIONS} connections)`,
  batch1000: `API batch of 1000 (${BATCH_CONNECTIONS} connections)`,
  floor: `API floor: GET /v1/auth/whoami (${CONNECTIONS} conn.)`,
};

/** TLS version and cipher suite the node negotiates with the client identity. */
function negotiated(target: LoadTarget): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, ca: target.ca, cert: target.cert, key: target.key }, () => {
      resolve(`${socket.getProtocol() ?? '?'} ${socket.getCipher().standardName}`);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const ms = (value: number | undefined): string => (value === undefined ? '-' : value < 10 ? value.toFixed(2) : value.toFixed(1));
const us = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(0));

function printProfile(label: string, summary: ProfileSummary, requests: number): void {
  const perRequest = (value: number): string => ((value * 1000) / requests).toFixed(1);
  console.log('');
  console.log(`  main-thread profile, ${label}: busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms over ${requests} requests`);
  console.log('  (wall-clock samples: on a shared machine "busy" includes time the thread waited for a core)');
  table(['area', 'self us/req', 'self share', 'on stack us/req'], summary.areas.map((a) => [
    a.area, perRequest(a.selfMs), `${((a.selfMs / summary.busyMs) * 100).toFixed(1)}%`, perRequest(a.totalMs),
  ]));
  console.log('  top functions by self time:');
  for (const f of summary.topFunctions) console.log(`    ${perRequest(f.selfMs).padStart(7)} us/req  ${f.area.padEnd(32)} ${f.name}`);
}

async function main(): Promise<void> {
  let node: BenchNode | undefined;
  let load: LoadDriver<ServerLoad> | undefined;
  try {
    node = await startBenchNode();
    const { keyId } = node;
    const apiUrl = new URL(node.running.apiUrl);
    const target: LoadTarget = { host: apiUrl.hostname, port: Number(apiUrl.port), ...await readUserIdentity(node.pki), maxSockets: Math.max(CONNECTIONS, BATCH_CONNECTIONS), transport: CLIENT };
    load = await LoadDriver.start<ServerLoad>(new URL('./load-generator.ts', import.meta.url), target);
    const driver = load;
    const tls = await negotiated(target);

    const engine = node.running.node.engine;
    const reference = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    let n = 0;
    const nextMessage = (): Buffer => messages[n++ % messages.length] ?? Buffer.alloc(32);
    const caller = node.caller.bind(node);
    const signItem = (message: Buffer): object => ({ keyId, algorithm: ALGORITHM, message: message.toString('base64') });
    const singleBodies = messages.map((m) => JSON.stringify(signItem(m)));
    const batchBodies = new Map<number, string[]>(BATCH_SIZES.map((size) => [size, Array.from({ length: 4 }, (_, b) =>
      JSON.stringify({ items: Array.from({ length: size }, (_, i) => signItem(messages[(b * 7 + i) % messages.length] ?? Buffer.alloc(32))) }))]));

    const single = (pace: LoadJob['pace'], duration = MEASURE_MS): LoadJob => ({ method: 'POST', path: '/v1/crypto/sign', bodies: singleBodies, ms: duration, pace });
    const batch = (size: number, duration = MEASURE_MS): LoadJob => ({
      method: 'POST', path: '/v1/crypto/sign/batch', bodies: batchBodies.get(size) ?? [], ms: duration,
      pace: { kind: 'closed', connections: BATCH_CONNECTIONS }, failureMarker: '"ok":false',
    });
    const floor = (duration = MEASURE_MS): LoadJob => ({ method: 'GET', path: '/v1/auth/whoami', bodies: [], ms: duration, pace: { kind: 'closed', connections: CONNECTIONS } });
    const raw = (duration: number): Rate => measureSync(() => nodeSign('sha256', nextMessage(), reference), duration);
    const viaEngine = (duration: number): Promise<Rate> => measureAsync(
      () => engine.crypto.sign(caller(`bench-engine-${++n}`), keyId, { algorithm: ALGORITHM, message: nextMessage() }), duration, ENGINE_CONCURRENCY);

    const journal = node.running.node.audit instanceof AuditJournal ? node.running.node.audit : undefined;
    const cores = printHeader('Coffer server benchmark: ECDSA P-256 signatures over mutual TLS');
    console.log(`  node under test: startNode in this process (pid ${process.pid}) on ${node.running.apiUrl}, ${tls}, log level warn,`);
    console.log('    SQLite store + durable audit journal (a durable write per group commit), every signature audited');
    const transport = CLIENT === 'tls' ? 'a minimal HTTP/1.1 client over node:tls' : 'node:https with a keep-alive agent';
    console.log(`  load generator: child process (pid ${load.pid}), ${transport}, the user's client certificate`);
    console.log(`  requests: ${ALGORITHM}, 32-64 B messages, DER, key by id; single ${CONNECTIONS} connections, batches ${BATCH_CONNECTIONS}`);
    console.log(`  rounds ${ROUNDS}, ${MEASURE_MS} ms per measurement, warm-up ${WARMUP_MS} ms each; UV_THREADPOOL_SIZE ${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}`);
    console.log(`  load average at start ${loadAverage()} (other work on this machine skews every row; compare within a round)`);
    console.log('');

    // Warm-up: JIT, a TLS session on every connection, the key cache.
    raw(WARMUP_MS);
    await viaEngine(WARMUP_MS);
    await driver.run(single({ kind: 'closed', connections: CONNECTIONS }, WARMUP_MS));
    for (const size of BATCH_SIZES) await driver.run(batch(size, WARMUP_MS));
    await driver.run(floor(WARMUP_MS));

    const samples = new Map<RowId, Sample[]>(ROWS.map((id) => [id, []]));
    const record = (id: RowId, sample: Sample): void => { samples.get(id)?.push(sample); };
    const ratios = { singleRaw: [] as number[], batch100Raw: [] as number[], batch1000Raw: [] as number[], bestBatchRaw: [] as number[], singleEngine: [] as number[] };
    const before = journal?.stats();
    const steps: readonly (() => Promise<void>)[] = [
      async () => { record('raw', await measureInProcess(() => raw(MEASURE_MS))); },
      async () => { record('engine', await measureInProcess(() => viaEngine(MEASURE_MS))); },
      async () => {
        const saturated = await measureApi(driver, single({ kind: 'closed', connections: CONNECTIONS }), 1);
        record('single', saturated);
        record('half', await measureApi(driver, single({ kind: 'open', rate: saturated.requestsPerSecond / 2 }), 1));
      },
      ...BATCH_SIZES.map((size) => async () => { record(`batch${size}`, await measureApi(driver, batch(size), size)); }),
      async () => { record('floor', await measureApi(driver, floor(), 1)); },
    ];
    const last = (id: RowId): number => samples.get(id)?.at(-1)?.perSecond ?? Number.NaN;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < steps.length; i++) await steps[(round + i) % steps.length]?.();
      ratios.singleRaw.push(last('single') / last('raw'));
      ratios.batch100Raw.push(last('batch100') / last('raw'));
      ratios.batch1000Raw.push(last('batch1000') / last('raw'));
      ratios.bestBatchRaw.push(Math.max(last('batch100'), last('batch1000')) / last('raw'));
      ratios.singleEngine.push(last('single') / last('engine'));
      const latest = (values: readonly number[]): string => (values.at(-1) ?? Number.NaN).toFixed(2);
      console.log(`  done: round ${round + 1} of ${ROUNDS} (API single/raw ${latest(ratios.singleRaw)}, batch 1000/raw ${latest(ratios.batch1000Raw)}, single/engine ${latest(ratios.singleEngine)}; load average ${loadAverage()})`);
    }
    const after = journal?.stats();

    const med = (id: RowId, pick: (s: Sample) => number | undefined): number | undefined => {
      const values = (samples.get(id) ?? []).map(pick).filter((v): v is number => v !== undefined);
      return values.length === 0 ? undefined : median(values);
    };
    const rawRate = med('raw', (s) => s.perSecond) ?? Number.NaN;
    const engineRate = med('engine', (s) => s.perSecond) ?? Number.NaN;
    // The headline ratios are medians of per-round ratios; the other rows divide medians.
    const rawRatio: Partial<Record<RowId, number>> = { single: median(ratios.singleRaw), batch100: median(ratios.batch100Raw), batch1000: median(ratios.batch1000Raw) };
    console.log('');
    table(
      ['measurement', 'sig/s', 'req/s', 'p50 ms', 'p99 ms', 'x raw', 'x engine', 'server CPU us/sig', 'client CPU us/req', 'loop busy', "others' CPU"],
      ROWS.map((id) => {
        const rate = med(id, (s) => s.perSecond) ?? Number.NaN;
        const signs = id !== 'floor';
        // Half load runs at a rate the client chose, so it has no ratio to a capacity.
        const ratioed = signs && id !== 'half';
        const others = med(id, (s) => s.othersCores);
        return [
          id === 'half' ? `${ROW_NAMES.half} at ${formatRate(med('half', (s) => s.offeredPerSecond) ?? 0)}` : ROW_NAMES[id],
          signs ? formatRate(rate) : '-',
          formatRate(med(id, (s) => s.requestsPerSecond) ?? Number.NaN),
          ms(med(id, (s) => s.p50Ms)),
          ms(med(id, (s) => s.p99Ms)),
          ratioed ? (rawRatio[id] ?? rate / rawRate).toFixed(2) : '-',
          ratioed ? (id === 'single' ? median(ratios.singleEngine) : rate / engineRate).toFixed(2) : '-',
          us(med(id, (s) => (signs ? s.serverCpuPerItem : s.serverCpuPerRequest))),
          us(med(id, (s) => s.clientCpuPerRequest)),
          `${((med(id, (s) => s.loopBusy) ?? 0) * 100).toFixed(0)}%`,
          others === undefined ? '-' : `${others.toFixed(2)} cores`,
        ];
      }),
    );
    console.log('  Rates and latencies are medians over rounds; "x raw" of the API rows and "x engine" of API single are medians of');
    console.log('  per-round ratios. Batch latencies are per request (100 or 1000 signatures). Half load paces at half of the same');
    console.log("  round's saturated rate; its latency counts from the scheduled send time. Server CPU is this process, all threads");
    console.log("  (the event loop and the thread pool that signs); client CPU is the load generator's. Others' CPU: what the rest");
    console.log(`  of this machine used meanwhile (of ${cores} cores); contention outside it (a VM's host) shows only as slower rows.`);

    const singleRate = med('single', (s) => s.perSecond) ?? 0;
    const bestBatch = BATCH_SIZES.map((size) => ({ size, rate: med(`batch${size}`, (s) => s.perSecond) ?? 0 })).sort((a, b) => b.rate - a.rate)[0] ?? { size: 0, rate: 0 };
    const halfP99 = med('half', (s) => s.p99Ms) ?? Number.POSITIVE_INFINITY;
    const halfRate = med('half', (s) => s.requestsPerSecond) ?? 0;
    const verdict = (pass: boolean): string => (pass ? 'PASS ' : 'BELOW');
    console.log('');
    console.log('Targets (DESIGN.md "Performance targets", one node, ECDSA P-256 over mutual TLS):');
    console.log(`  ${verdict(singleRate >= TARGET.singlePerSecond)} single requests  >= ${formatRate(TARGET.singlePerSecond)}: ${formatRate(singleRate)} (${median(ratios.singleRaw).toFixed(2)}x raw node:crypto, ${median(ratios.singleEngine).toFixed(2)}x the engine in-process)`);
    console.log(`  ${verdict(bestBatch.rate >= TARGET.batchedPerSecond)} batched          >= ${formatRate(TARGET.batchedPerSecond)}: ${formatRate(bestBatch.rate)} with ${bestBatch.size} per request (${median(ratios.bestBatchRaw).toFixed(2)}x raw node:crypto)`);
    const atTargetLoad = halfRate >= TARGET.singlePerSecond / 2;
    console.log(`  ${verdict(halfP99 < TARGET.halfLoadP99Ms)} p99 at half load <  ${TARGET.halfLoadP99Ms} ms: ${ms(halfP99)} ms at ${formatRate(halfRate)}${atTargetLoad ? '' : ` (half the measured saturation; the target means half of ${formatRate(TARGET.singlePerSecond)}, a load not reached here)`}`);

    console.log('');
    console.log('  server CPU per signature (whoami: per request) by thread, medians, us: event loop / thread pool / V8 and other');
    for (const id of ROWS) {
      const perItem = id === 'batch100' ? 100 : id === 'batch1000' ? 1000 : 1;
      const part = (pick: (t: ThreadCpu) => number): string => us(med(id, (s) => (s.threads === undefined ? undefined : pick(s.threads) / perItem))).padStart(5);
      console.log(`    ${ROW_NAMES[id].padEnd(48)} ${part((t) => t.main)} / ${part((t) => t.pool)} / ${part((t) => t.other)}`);
    }
    // Ceilings implied by this run's CPU costs: one event loop cannot go past 1 s of its own CPU per
    // second, and node plus client cannot use more than the machine's cores.
    const ceiling = (id: RowId, perItem: number): string => {
      const loop = med(id, (s) => (s.threads === undefined ? undefined : s.threads.main / perItem));
      const total = med(id, (s) => (s.serverCpuPerRequest + (s.clientCpuPerRequest ?? 0)) / perItem);
      const loopCap = loop === undefined ? '?' : formatRate(1e6 / loop);
      return `event loop ${us(loop)} us/sig -> one loop caps at ${loopCap}; node + client ${us(total)} us/sig -> ${cores} idle cores cap at ${total === undefined ? '?' : formatRate((cores * 1e6) / total)}`;
    };
    console.log('  ceilings implied by those costs:');
    console.log(`    single:          ${ceiling('single', 1)}`);
    console.log(`    batch of 1000:   ${ceiling('batch1000', 1000)}`);
    const half = samples.get('half') ?? [];
    console.log(`  half-load pacing: offered ${half.map((s) => formatRate(s.offeredPerSecond ?? 0)).join(', ')}; client send lag p99 ${half.map((s) => ms(s.sendLagP99Ms)).join(', ')} ms; server CPU ${half.map((s) => us(s.serverCpuPerRequest)).join(', ')} us/req`);
    if (before !== undefined && after !== undefined) {
      const entries = after.entries - before.entries;
      const batches = after.batches - before.batches;
      console.log(`  audit journal: ${entries} entries in ${batches} group commits (${(entries / Math.max(1, batches)).toFixed(0)} per durable write)`);
    }
    for (const id of ROWS) {
      const failed = (samples.get(id) ?? []).reduce((sum, s) => sum + s.failed, 0);
      const first = samples.get(id)?.find((s) => s.firstFailure !== undefined)?.firstFailure;
      if (failed > 0) console.log(`  WARNING ${ROW_NAMES[id]}: ${failed} requests failed and are not counted; first: ${first ?? '?'}`);
    }
    console.log(`  load average at end ${loadAverage()}`);

    if (PROFILE_PREFIX !== '') {
      const profiled = async (label: string, file: string, job: LoadJob): Promise<void> => {
        const { result, profile } = await profileOf(() => driver.run(job));
        await writeFile(file, JSON.stringify(profile));
        printProfile(`${label} (${file})`, summarise(profile), result.completed);
      };
      await profiled('saturated single signs', `${PROFILE_PREFIX}-single.cpuprofile`, single({ kind: 'closed', connections: CONNECTIONS }));
      await profiled('batches of 1000', `${PROFILE_PREFIX}-batch1000.cpuprofile`, batch(1000));
    }
  } finally {
    load?.close();
    await node?.close();
  }
}

await main().catch((error: unknown) => {
  console.error('benchmark failed:', error);
  process.exitCode = 1;
});
