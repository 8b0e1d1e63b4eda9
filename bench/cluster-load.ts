// The load generator of bench/cluster.ts, a child process: P-256 signatures through the SDK
// (CofferClient over the given node URLs, round robin, no discovery, no retries so a failure is
// counted and not hidden), or raw node:crypto signing for scale. One SDK client per node list is
// kept across jobs, so keep-alive connections and TLS sessions outlive the warm-up.
import { generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CofferClient } from '../src/client/index.ts';
import type { ClusterLoad, ClusterLoadJob, ClusterLoadResult } from './cluster-load-protocol.ts';
import type { ClientIdentity, FromLoadChild, ToLoadChild } from './load-child-protocol.ts';

const ALGORITHM = 'ECDSA_SHA_256';
/** 32-byte messages, a digest's size, cycled so input generation stays out of the timed loop. */
const messages = Array.from({ length: 64 }, () => randomBytes(32));
const rawKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

let identity: ClientIdentity | undefined;
const clients = new Map<string, CofferClient>();

const reason = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

function clientFor(nodes: readonly string[]): CofferClient {
  if (identity === undefined) throw new Error('job before connect');
  const id = nodes.join(' ');
  let client = clients.get(id);
  if (client === undefined) {
    client = new CofferClient({ nodes, discovery: false, maxAttempts: 1, ca: identity.ca, cert: identity.cert, key: identity.key });
    clients.set(id, client);
  }
  return client;
}

async function run(job: ClusterLoadJob): Promise<ClusterLoadResult> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + job.ms;
  let completed = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  if (job.kind === 'raw') {
    while (performance.now() < deadline) {
      for (let i = 0; i < 16; i++) nodeSign('sha256', messages[i] ?? Buffer.alloc(32), rawKey);
      completed += 16;
    }
  } else {
    const client = clientFor(job.nodes);
    let next = 0;
    const loop = async (): Promise<void> => {
      while (performance.now() < deadline) {
        const message = messages[next++ % messages.length] ?? Buffer.alloc(32);
        try {
          await client.crypto.sign({ keyId: job.keyId, algorithm: ALGORITHM, message });
          completed++;
        } catch (error) {
          failed++;
          firstFailure ??= reason(error);
        }
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, loop));
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { completed, failed, ...(firstFailure === undefined ? {} : { firstFailure }), seconds, cpuMicros: used.user + used.system };
}

function reply(message: FromLoadChild<ClusterLoad>): void {
  // After 'exit' (or a parent gone on an interrupt) a job still finishing has no one to tell.
  if (process.connected) process.send?.(message);
}

process.on('message', (message: ToLoadChild<ClusterLoad>) => {
  switch (message.type) {
    case 'connect':
      identity = message.setup;
      reply({ type: 'ready' });
      return;
    case 'job':
      run(message.job).then(
        (result) => { reply({ type: 'result', result }); },
        (error: unknown) => { reply({ type: 'error', message: reason(error) }); },
      );
      return;
    case 'exit':
      for (const client of clients.values()) client.close();
      process.disconnect();
      return;
  }
});

if (process.send === undefined) {
  console.error('bench/cluster-load.ts is started by bench/cluster.ts, not on its own');
  process.exitCode = 1;
}
