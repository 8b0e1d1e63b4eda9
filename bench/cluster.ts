// Cluster benchmark (npm run bench:cluster): a real PostgreSQL and three Coffer nodes as `coffer serve`
// child processes on loopback (test/cluster-kit.ts), measuring
//   1. change propagation between nodes: a change made through a client bound to node A, timed from
//      A's answer to the first call on node B (a client bound to B, polling back to back) that shows
//      it; p50 and p99 beside the raw PostgreSQL LISTEN/NOTIFY round trip in the same run;
//   2. aggregate P-256 signing throughput over mutual TLS with the load spread by the SDK over 1, 2
//      and 3 nodes, from separate load-generator processes, beside the 1-node figure and raw
//      node:crypto signing in the load generator, all in the same run. Configurations rotate within
//      each round; figures and ratios are medians over rounds.
// Every node, PostgreSQL and the load generator share this machine's cores, so more nodes add no CPU:
// the throughput rows show the cluster's overhead and scaling shape, not a multi-machine result.
// It is a report and exits 0 whatever the figures; it cleans up its processes and folders on failure
// and on SIGINT/SIGTERM.
//
// Environment: BENCH_SAMPLES propagation samples per row (default 100), BENCH_ROUNDS (default 3),
// BENCH_MS per throughput measurement (default 3000), BENCH_CONCURRENCY calls in flight in total
// (default 64), BENCH_LOADERS load-generator processes sharing them (default 1).
import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CofferClient } from '../src/client/index.ts';
import { adminQuery } from '../src/store/postgres/pg-test-server.ts';
import { readyCluster, startCluster, type ClusterNode, type TestCluster } from '../test/cluster-kit.ts';
import type { ClusterLoad, ClusterLoadResult } from './cluster-load-protocol.ts';
import { createdOnAUsableOnB, notifyRoundTrips, pollPeriod, toggledOnAThroughFeed, type Series } from './cluster-propagation.ts';
import { LoadDriver, readUserIdentity } from './load-driver.ts';
import { envInteger, formatRate, median, percentile } from './measure.ts';
import { machineCpu } from './proc-cpu.ts';
import { cpuOf, cpuOfTree, parentOf } from './process-tree.ts';
import { reapChildren } from './reap-children.ts';
import { loadAverage, printHeader, table } from './report.ts';

const SAMPLES = envInteger('BENCH_SAMPLES', 100);
const ROUNDS = envInteger('BENCH_ROUNDS', 3);
const MEASURE_MS = envInteger('BENCH_MS', 3000);
const CONCURRENCY = envInteger('BENCH_CONCURRENCY', 64);
const LOADERS = envInteger('BENCH_LOADERS', 1);
const WARMUP_MS = Math.min(1000, MEASURE_MS);
const RAW_MS = 1000;
/** The toggle series stops early past this, so a slow feed cannot push the run past its budget. */
const TOGGLE_BUDGET_MS = 30_000;
/**
 * The change follower's poll period: ChangeFollower's default (src/cluster/follower/change-follower.ts),
 * as startNode passes none. NOTIFY hints make it only the fallback for a missed notification.
 */
const FOLLOWER_POLL_MS = 1000;
const HEARTBEAT_SECONDS = 1;
/** readyCluster's project and user (ursula, the dev PKI's user certificate). */
const PROJECT = 'alpha';
/** Long enough for a node to seal and close; past it, nodes are killed so PostgreSQL and the folder still go. */
const CLOSE_TIMEOUT_MS = 20_000;

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));

let cluster: TestCluster | undefined;
const loaders: LoadDriver<ClusterLoad>[] = [];
const clients: CofferClient[] = [];
let cleaning: Promise<void> | undefined;
/** Set by SIGINT/SIGTERM: what fails in main() after it is the cleanup's doing, not news. */
const interruption: { signal?: NodeJS.Signals } = {};

/** Idempotent: load generators, SDK clients, nodes, PostgreSQL, the temporary folder, stray children. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const loader of loaders) loader.close();
    const gone = Promise.all(loaders.map((l) => l.exited()));
    const timer = setTimeout(() => { for (const loader of loaders) loader.kill(); }, 2000);
    await gone;
    clearTimeout(timer);
    for (const client of clients) client.close();
    const running = cluster;
    if (running !== undefined) {
      const killer = setTimeout(() => { for (const node of running.nodes) void node.kill(); }, CLOSE_TIMEOUT_MS);
      try {
        await running.close();
      } catch (error) {
        console.error('cluster close failed:', error);
      } finally {
        clearTimeout(killer);
      }
    }
    // A node that never announced itself (startNode timed out) is not in cluster.nodes.
    const strays = reapChildren();
    if (strays.length > 0) console.error(`cleanup: killed stray child processes ${strays.join(', ')}`);
  })();
  return cleaning;
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interruption.signal = signal;
    console.error(`\nbenchmark: ${signal}, cleaning up`);
    void cleanup().finally(() => process.exit(code));
  });
}

function userClient(pki: TestCluster['pki'], url: string): CofferClient {
  // `url` alone: this node only, no discovery; one attempt, so nothing is retried on another node.
  const client = new CofferClient({ url, ca: pki.caPath, cert: pki.user.certPath, key: pki.user.keyPath, maxAttempts: 1 });
  clients.push(client);
  return client;
}

async function propagation(running: TestCluster, a: ClusterNode, b: ClusterNode): Promise<void> {
  const onA = userClient(running.pki, a.url);
  const onB = userClient(running.pki, b.url);
  const options = { onA, onB, project: PROJECT, samples: SAMPLES, budgetMs: TOGGLE_BUDGET_MS };
  // Warm-up: keep-alive connections to both nodes, JIT on every path timed below.
  await createdOnAUsableOnB({ ...options, samples: 5 });
  await toggledOnAThroughFeed({ ...options, samples: 3 });

  const reference = await notifyRoundTrips(running.postgres.url, SAMPLES);
  const period = await pollPeriod(onB, PROJECT, onA, SAMPLES);
  const created = await createdOnAUsableOnB(options);
  const { disabled, enabled } = await toggledOnAThroughFeed(options);
  const referenceAfter = await notifyRoundTrips(running.postgres.url, SAMPLES);

  const p = (s: Series, q: number): number => percentile(s.ms, q);
  const ref50 = median([p(reference, 50), p(referenceAfter, 50)]);
  const ref99 = median([p(reference, 99), p(referenceAfter, 99)]);
  const firstTry = (s: Series): string => `${s.polls.filter((n) => n === 1).length}/${s.polls.length}`;
  const row = (name: string, s: Series, ratios: boolean): string[] => [
    name, String(s.ms.length), ms(p(s, 50)), ms(p(s, 99)), ms(p(s, 100)),
    ratios ? (p(s, 50) / ref50).toFixed(1) : '-', ratios ? (p(s, 99) / ref99).toFixed(1) : '-',
    s.polls.length === 0 ? '-' : ratios ? firstTry(s) : '-',
  ];
  console.log('1. Change propagation, node A -> node B (ms; timed from A\'s answer to B\'s first call showing the change)');
  table(['what', 'samples', 'p50', 'p99', 'max', 'p50/ref', 'p99/ref', 'B right at once'], [
    row('reference: PostgreSQL NOTIFY -> LISTEN (raw pg), before', reference, false),
    row('reference: the same, after', referenceAfter, false),
    row('key created on A -> first sign on B succeeds', created, true),
    row('key disabled on A -> first KEY_DISABLED on B', disabled, true),
    row('key enabled on A -> first sign on B succeeds', enabled, true),
    row('context: one sign on B, back to back (poll period)', period, false),
  ]);
  console.log(`  reference for the ratios: median of the two NOTIFY runs, p50 ${ms(ref50)} ms, p99 ${ms(ref99)} ms`);
  console.log(`  node B's change follower: a NOTIFY hint per commit, plus a poll every ${FOLLOWER_POLL_MS} ms as the fallback for a missed hint`);
  console.log('  "B right at once": samples where B\'s first call already showed the change (no wait at all).');
  console.log('  A key created elsewhere needs no feed: nodes cache no misses, so B reads it from the store on first use.');
  console.log('  A disable or enable is only seen once B\'s follower drops its cached record: that row is the feed\'s latency.');
  console.log('  Resolution: one poll is one sign on B (period row; every call is audited, a durable journal write included),');
  console.log('    so each figure is late by up to one poll and cannot go below one call.');
  const changes = [created, disabled, enabled];
  const atOnce = changes.reduce((sum, s) => sum + s.polls.filter((n) => n === 1).length, 0);
  const total = changes.reduce((sum, s) => sum + s.polls.length, 0);
  if (atOnce === total) console.log(`  Every change was visible to B's first call (${total}/${total}): propagation is below this method's resolution.`);
  else console.log(`  ${total - atOnce} of ${total} changes needed more than one call on B.`);
  console.log('');
}

interface Config {
  readonly name: string;
  readonly nodes: readonly string[];
}

interface Run {
  readonly perSecond: number;
  readonly failed: number;
  readonly firstFailure?: string;
  /** CPU per successful signature, microseconds: the load generators, all nodes, PostgreSQL (Linux). */
  readonly loaderCpu: number;
  readonly nodesCpu?: number;
  readonly postgresCpu?: number;
  /** Cores other processes on this machine (not this benchmark's) kept busy meanwhile (Linux). */
  readonly othersCores?: number;
}

/** The processes whose CPU a run accounts for, besides the load generators (which report their own). */
interface Accounted {
  readonly nodes: readonly number[];
  readonly postmaster: number | undefined;
}

async function runLoad(config: Config, keyId: string, duration: number, accounted: Accounted): Promise<Run> {
  const perLoader = Math.max(1, Math.ceil(CONCURRENCY / loaders.length));
  const reading = (): { machine?: number; nodes?: number; postgres?: number; self: number } => {
    const machine = machineCpu()?.busy;
    const nodes = cpuOf(accounted.nodes);
    const postgres = accounted.postmaster === undefined ? undefined : cpuOfTree(accounted.postmaster);
    const self = process.cpuUsage();
    return { ...(machine === undefined ? {} : { machine }), ...(nodes === undefined ? {} : { nodes }), ...(postgres === undefined ? {} : { postgres }), self: self.user + self.system };
  };
  const before = reading();
  const start = performance.now();
  const results: ClusterLoadResult[] = await Promise.all(loaders.map((l) => l.run({ kind: 'sign', nodes: config.nodes, keyId, ms: duration, concurrency: perLoader })));
  const seconds = (performance.now() - start) / 1000;
  const after = reading();
  const completed = results.reduce((sum, r) => sum + r.completed, 0);
  const failed = results.reduce((sum, r) => sum + r.failed, 0);
  const firstFailure = results.find((r) => r.firstFailure !== undefined)?.firstFailure;
  const perSignature = (micros: number): number => micros / Math.max(1, completed);
  const loaderMicros = results.reduce((sum, r) => sum + r.cpuMicros, 0);
  const delta = (pick: (r: ReturnType<typeof reading>) => number | undefined): number | undefined => {
    const a = pick(before);
    const b = pick(after);
    return a === undefined || b === undefined ? undefined : b - a;
  };
  const nodes = delta((r) => r.nodes);
  const postgres = delta((r) => r.postgres);
  const machine = delta((r) => r.machine);
  const ours = loaderMicros + (nodes ?? 0) + (postgres ?? 0) + (delta((r) => r.self) ?? 0);
  return {
    perSecond: completed / Math.max(...results.map((r) => r.seconds)),
    failed,
    ...(firstFailure === undefined ? {} : { firstFailure }),
    loaderCpu: perSignature(loaderMicros),
    ...(nodes === undefined ? {} : { nodesCpu: perSignature(nodes) }),
    ...(postgres === undefined ? {} : { postgresCpu: perSignature(postgres) }),
    ...(machine === undefined || nodes === undefined || postgres === undefined ? {} : { othersCores: Math.max(0, machine - ours) / 1e6 / seconds }),
  };
}

async function throughput(running: TestCluster, nodes: readonly ClusterNode[], cores: number): Promise<void> {
  const [a] = nodes;
  if (a === undefined) throw new Error('no node');
  const onA = userClient(running.pki, a.url);
  const key = await onA.keys.create({ project: PROJECT, name: `throughput-${randomBytes(4).toString('hex')}`, spec: 'EC_P256', usage: 'SIGN_VERIFY' });
  // Sanity: every node signs with the key and the signature verifies, so the load times working calls.
  const publicKey = createPublicKey({ key: (await onA.keys.publicKey(key.id)).der, format: 'der', type: 'spki' });
  for (const node of nodes) {
    const message = randomBytes(32);
    const { signature } = await userClient(running.pki, node.url).crypto.sign({ keyId: key.id, algorithm: 'ECDSA_SHA_256', message });
    if (!verifySignature('sha256', message, publicKey, signature)) throw new Error(`a signature from ${node.name} does not verify`);
  }

  const identity = await readUserIdentity(running.pki);
  for (let i = 0; i < LOADERS; i++) loaders.push(await LoadDriver.start<ClusterLoad>(new URL('./cluster-load.ts', import.meta.url), identity));
  const [first] = loaders;
  if (first === undefined) throw new Error('no load generator');

  const pgBackend = (await adminQuery(running.postgres.url, 'SELECT pg_backend_pid() AS pid')).rows as { pid?: number }[];
  const backendPid = pgBackend[0]?.pid;
  const accounted: Accounted = { nodes: nodes.map((n) => n.process.pid ?? 0), postmaster: backendPid === undefined ? undefined : parentOf(backendPid) };
  const configs: Config[] = nodes.map((_, i) => ({ name: `${i + 1} node${i === 0 ? '' : 's'}`, nodes: nodes.slice(0, i + 1).map((n) => n.url) }));
  for (const config of configs) await runLoad(config, key.id, WARMUP_MS, accounted);
  await first.run({ kind: 'raw', ms: WARMUP_MS });

  const runs = new Map<string, Run[]>(configs.map((c) => [c.name, []]));
  const raw: number[] = [];
  const ratios = new Map<string, number[]>(configs.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const rate = await first.run({ kind: 'raw', ms: RAW_MS });
    raw.push(rate.completed / rate.seconds);
    const inRound = new Map<string, number>();
    for (let i = 0; i < configs.length; i++) {
      const config = configs[(round + i) % configs.length];
      if (config === undefined) continue;
      const run = await runLoad(config, key.id, MEASURE_MS, accounted);
      runs.get(config.name)?.push(run);
      inRound.set(config.name, run.perSecond);
    }
    const single = inRound.get(configs[0]?.name ?? '') ?? Number.NaN;
    for (const config of configs) ratios.get(config.name)?.push((inRound.get(config.name) ?? Number.NaN) / single);
    console.log(`  done: round ${round + 1} (${configs.map((c) => `${c.name} ${formatRate(inRound.get(c.name) ?? 0)}`).join(', ')}; raw ${formatRate(raw.at(-1) ?? 0)})`);
  }

  const med = (name: string, pick: (r: Run) => number | undefined): number | undefined => {
    const values = (runs.get(name) ?? []).map(pick).filter((v) => v !== undefined);
    return values.length === 0 ? undefined : median(values);
  };
  const rawMedian = median(raw);
  console.log('');
  console.log(`2. Aggregate P-256 signing throughput (SDK over mutual TLS, ${CONCURRENCY} in flight, ${MEASURE_MS} ms x ${ROUNDS} rounds, medians)`);
  const us = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(0));
  table(['configuration', 'signatures/s', 'per round', 'vs 1 node', 'vs raw', 'CPU us/sig: nodes', 'PostgreSQL', 'load gen.', 'others (cores)', 'failed'], [
    ...configs.map((c) => {
      const perRound = (runs.get(c.name) ?? []).map((r) => formatRate(r.perSecond)).join(' ');
      const others = med(c.name, (r) => r.othersCores);
      return [
        `${c.name} (${['A', 'B', 'C'].slice(0, c.nodes.length).join(', ')})`,
        formatRate(med(c.name, (r) => r.perSecond) ?? 0), perRound, median(ratios.get(c.name) ?? []).toFixed(2),
        ((med(c.name, (r) => r.perSecond) ?? 0) / rawMedian).toFixed(2),
        us(med(c.name, (r) => r.nodesCpu)), us(med(c.name, (r) => r.postgresCpu)), us(med(c.name, (r) => r.loaderCpu)),
        others === undefined ? '-' : others.toFixed(2),
        String((runs.get(c.name) ?? []).reduce((sum, r) => sum + r.failed, 0)),
      ];
    }),
    ['reference: raw node:crypto P-256 sign, sync, in the load generator', formatRate(rawMedian), raw.map((r) => formatRate(r)).join(' '), '-', '1.00', '-', '-', '-', '-', '-'],
  ]);
  for (const config of configs.slice(1)) {
    console.log(`  ${config.name} / 1 node: ${median(ratios.get(config.name) ?? []).toFixed(2)} (median of per-round ratios ${(ratios.get(config.name) ?? []).map((r) => r.toFixed(2)).join(' ')})`);
  }
  for (const config of configs) {
    const failure = (runs.get(config.name) ?? []).find((r) => r.firstFailure !== undefined)?.firstFailure;
    if (failure !== undefined) console.log(`  WARNING ${config.name}: calls failed and are not counted; first: ${failure}`);
  }
  console.log(`  load: ${LOADERS} load-generator process${LOADERS === 1 ? '' : 'es'} (pid ${loaders.map((l) => l.pid).join(', ')}), CofferClient with the configuration's node URLs,`);
  console.log('    round robin, no discovery, no retries; the user\'s client certificate; ECDSA_SHA_256 over a 32-byte message, DER.');
  console.log('    Every node runs throughout (heartbeat, change follower, audit shipping); a configuration only chooses where the load goes.');
  console.log(`  This machine has ${cores} cores shared by every node, PostgreSQL and the load generator, so more nodes cannot`);
  console.log('    add CPU: the ratios show what spreading costs or gains on the same cores (the cluster\'s overhead and scaling');
  console.log('    shape), not what more machines would give.');
  console.log('  CPU us/sig: CPU per signature of all three nodes together (idle ones included), of PostgreSQL (postmaster and');
  console.log('    backends) and of the load generators; "others": cores that processes outside this benchmark kept busy meanwhile.');
  console.log('  Raw node:crypto runs in the load generator with the nodes idle: the scale of one core\'s signing on this machine.');
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  const cores = printHeader('Coffer cluster benchmark: change propagation and aggregate signing over PostgreSQL');
  console.log(`  load average at start ${loadAverage()} (other work on this machine skews every row; compare within the run)`);
  const running = await startCluster({ heartbeatSeconds: HEARTBEAT_SECONDS });
  cluster = running;
  const a = await running.startNode('node-a');
  await readyCluster(running);
  const b = await running.startNode('node-b');
  const c = await running.startNode('node-c');
  for (const node of [b, c]) await running.client(undefined, [node.url]).domain.unsealAsCustodian(running.custodian);
  const versionRows = (await adminQuery(running.postgres.url, 'SHOW server_version')).rows as { server_version?: string }[];
  const version = versionRows[0]?.server_version ?? '?';
  console.log(`  PostgreSQL ${version} on 127.0.0.1:${running.postgres.port} (fsync on); nodes: \`coffer serve\` processes ${running.nodes.map((n) => `${n.name} pid ${n.process.pid ?? '?'}`).join(', ')}`);
  console.log(`  nodes' heartbeat ${HEARTBEAT_SECONDS} s, log level warn, audit journal shipped to the store; cluster ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  console.log('');

  await propagation(running, a, b);
  await throughput(running, [a, b, c], cores);
  console.log(`  load average at end ${loadAverage()}; total ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
}

try {
  await main();
} catch (error) {
  if (interruption.signal !== undefined) await new Promise<never>(() => undefined); // the signal handler exits once cleaned up
  console.error('benchmark failed:', error);
  for (const node of cluster?.nodes ?? []) {
    const tail = node.output().trim().split('\n').slice(-5).join('\n    ');
    if (tail !== '') console.error(`  ${node.name} printed:\n    ${tail}`);
  }
  process.exitCode = 1;
} finally {
  await cleanup();
}
