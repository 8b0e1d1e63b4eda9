// The load generator of bench/server.ts, run as a child process so the node under test keeps its
// own process (and core). Bodies are serialised in advance and answers are only checked for their
// status (and, for batches, for a failed item), so the client spends as little CPU as it can.
// Two transports (LoadTarget.transport): a minimal HTTP/1.1 client over node:tls, and node:https
// with one keep-alive agent holding the client certificate, as the SDK's transport does.
import { Agent, request, type RequestOptions } from 'node:https';
import { performance } from 'node:perf_hooks';
import { ConnectionPool, requestBytes, type Answer } from './load-connection.ts';
import type { FromLoadChild, ToLoadChild } from './load-child-protocol.ts';
import type { LoadJob, LoadResult, LoadTarget, ServerLoad } from './load-protocol.ts';

/** Undefined when the request succeeded, else what went wrong. */
type Outcome = string | undefined;

/** The first part of a failed answer's body is enough to say which error it was. */
const FAILURE_TEXT_LIMIT = 300;

/** Sends the i-th prepared request of a job. */
type Sender = (index: number) => Promise<Outcome>;

interface Client {
  prepare(job: LoadJob): Sender;
  close(): void;
}

function judge(answer: Answer, failureMarker: string | undefined): Outcome {
  if (answer.status !== 200) return `HTTP ${answer.status}: ${(answer.body ?? '').slice(0, FAILURE_TEXT_LIMIT)}`;
  if (failureMarker === undefined || answer.body === undefined) return undefined;
  const at = answer.body.indexOf(failureMarker);
  return at < 0 ? undefined : `a batch item failed: ${answer.body.slice(at, at + FAILURE_TEXT_LIMIT)}`;
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function tlsClient(target: LoadTarget): Client {
  const pool = new ConnectionPool({ host: target.host, port: target.port, ca: target.ca, cert: target.cert, key: target.key }, target.maxSockets);
  const host = `${target.host}:${target.port}`;
  return {
    prepare(job) {
      const requests = (job.bodies.length === 0 ? [undefined] : job.bodies).map((body) => requestBytes(job.method, host, job.path, body));
      const keepBody = job.failureMarker !== undefined;
      return (index) => {
        const bytes = requests[index % requests.length];
        if (bytes === undefined) return Promise.resolve('no request prepared');
        return pool.send(bytes, keepBody).then((answer) => judge(answer, job.failureMarker), reason);
      };
    },
    close: () => { pool.close(); },
  };
}

function httpsSend(options: RequestOptions, body: Buffer | undefined, keepBody: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(options, (res) => {
      const status = res.statusCode ?? 0;
      // A successful single answer is not read further.
      if (status === 200 && !keepBody) {
        res.on('end', () => { resolve({ status }); });
        res.resume();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => { chunks.push(chunk); });
      res.on('end', () => { resolve({ status, body: Buffer.concat(chunks).toString('utf8') }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function httpsClient(target: LoadTarget): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: target.maxSockets, maxFreeSockets: target.maxSockets, ca: target.ca, cert: target.cert, key: target.key });
  return {
    prepare(job) {
      const base = { host: target.host, port: target.port, method: job.method, path: job.path, agent };
      const prepared = job.bodies.length === 0
        ? [{ options: { ...base, headers: { accept: 'application/json' } }, body: undefined }]
        : job.bodies.map((text) => {
          const body = Buffer.from(text, 'utf8');
          return { options: { ...base, headers: { accept: 'application/json', 'content-type': 'application/json', 'content-length': body.length } }, body };
        });
      const keepBody = job.failureMarker !== undefined;
      return (index) => {
        const one = prepared[index % prepared.length];
        if (one === undefined) return Promise.resolve('no request prepared');
        return httpsSend(one.options, one.body, keepBody).then((answer) => judge(answer, job.failureMarker), reason);
      };
    },
    close: () => { agent.destroy(); },
  };
}

class Tally {
  readonly latencies: number[] = [];
  readonly lags: number[] = [];
  failed = 0;
  firstFailure: string | undefined;

  record(outcome: Outcome, latencyMs: number): void {
    if (outcome === undefined) this.latencies.push(latencyMs);
    else {
      this.failed++;
      this.firstFailure ??= outcome;
    }
  }
}

async function closedLoop(send: Sender, ms: number, connections: number, tally: Tally): Promise<void> {
  const deadline = performance.now() + ms;
  let next = 0;
  const connection = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      tally.record(await send(next++), performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: connections }, connection));
}

/** Sends on schedule: each timer tick sends every request whose time has come (timers are ~1 ms). */
function openLoop(send: Sender, ms: number, rate: number, tally: Tally): Promise<void> {
  const interval = 1000 / rate;
  const total = Math.max(1, Math.floor((ms / 1000) * rate));
  const start = performance.now();
  let sent = 0;
  let pending = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const due = start + sent * interval;
        tally.lags.push(now - due);
        pending++;
        void send(sent++).then((outcome) => {
          tally.record(outcome, performance.now() - due);
          pending--;
          if (sent === total && pending === 0) resolve();
        });
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
}

async function run(client: Client, job: LoadJob): Promise<LoadResult> {
  const send = client.prepare(job);
  const tally = new Tally();
  const cpu = process.cpuUsage();
  const start = performance.now();
  if (job.pace.kind === 'closed') await closedLoop(send, job.ms, job.pace.connections, tally);
  else await openLoop(send, job.ms, job.pace.rate, tally);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    completed: tally.latencies.length,
    failed: tally.failed,
    ...(tally.firstFailure === undefined ? {} : { firstFailure: tally.firstFailure }),
    seconds,
    latenciesMs: Float64Array.from(tally.latencies),
    sendLagMs: Float64Array.from(tally.lags),
    cpuMicros: used.user + used.system,
  };
}

function reply(message: FromLoadChild<ServerLoad>): void {
  process.send?.(message);
}

let client: Client | undefined;

process.on('message', (message: ToLoadChild<ServerLoad>) => {
  switch (message.type) {
    case 'connect':
      client = message.setup.transport === 'tls' ? tlsClient(message.setup) : httpsClient(message.setup);
      reply({ type: 'ready' });
      return;
    case 'job':
      if (client === undefined) {
        reply({ type: 'error', message: 'job before connect' });
        return;
      }
      run(client, message.job).then(
        (result) => { reply({ type: 'result', result }); },
        (error: unknown) => { reply({ type: 'error', message: reason(error) }); },
      );
      return;
    case 'exit':
      client?.close();
      process.disconnect();
      return;
  }
});

if (process.send === undefined) {
  console.error('bench/load-generator.ts is started by bench/server.ts, not on its own');
  process.exitCode = 1;
}
