// A cluster on one machine for end-to-end tests and the cluster benchmark: a real PostgreSQL server
// and Coffer nodes as separate processes (`coffer serve`) on loopback ports, sharing one development
// PKI, so a node can be killed with SIGKILL and the database stopped and restarted under load.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCustodianKeyPair, type CustodianKeyPair } from '../src/barrier/index.ts';
import { CofferClient } from '../src/client/index.ts';
import { ensureDevPki, type ClientCredentialPaths, type DevPki } from '../src/pki/index.ts';
import { startTestPostgres } from '../src/store/postgres/pg-test-server.ts';

const CLI = new URL('../src/cli/main.ts', import.meta.url).pathname;
const READY = /serving the API at (https:\/\/\S+),/;
const START_TIMEOUT_MS = 30_000;

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  /** Everything the process printed, for diagnostics. */
  output(): string;
  /** SIGKILL, no goodbye: the node stays in the registry until its heartbeat is stale. */
  kill(): Promise<void>;
  /** SIGTERM: seals, deregisters, closes. */
  stop(): Promise<void>;
}

export interface NodeStartOptions {
  readonly joinToken?: string;
  readonly cluster?: Readonly<Record<string, unknown>>;
}

export interface TestCluster {
  readonly dir: string;
  readonly pki: DevPki;
  readonly custodian: CustodianKeyPair;
  readonly postgres: Awaited<ReturnType<typeof startTestPostgres>>;
  readonly nodes: ClusterNode[];
  /**
   * Starts one more node process over the shared store (sealed, or uninitialised for the first):
   * `coffer serve`, or with `joinToken` `coffer node join`, which serves once admitted. `cluster`
   * adds keys to the node's cluster config section (e.g. nodeCertificates).
   */
  startNode(name: string, options?: NodeStartOptions): Promise<ClusterNode>;
  /** An SDK client trusting the dev CA, with the given certificate, over the given node URLs. */
  client(credentials: ClientCredentialPaths | undefined, urls: readonly string[]): CofferClient;
  close(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => {
    resolve();
  }));
}

export async function startCluster(options: { heartbeatSeconds?: number; deadAfterSeconds?: number } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-cluster-'));
  let postgres: Awaited<ReturnType<typeof startTestPostgres>> | undefined;
  let pki: DevPki;
  try {
    postgres = await startTestPostgres();
    pki = await ensureDevPki(join(dir, 'pki'));
  } catch (error) {
    await postgres?.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const database = postgres;
  const custodian = createCustodianKeyPair();
  const nodes: ClusterNode[] = [];
  const clients: CofferClient[] = [];

  async function startNode(name: string, startOptions: NodeStartOptions = {}): Promise<ClusterNode> {
    const dataDir = join(dir, name);
    mkdirSync(dataDir, { recursive: true });
    const configPath = join(dataDir, 'config.json');
    writeFileSync(configPath, JSON.stringify({
      dataDir, nodeId: name,
      api: { host: '127.0.0.1', port: 0, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
      health: { host: '127.0.0.1', port: 0 },
      store: { backend: 'postgres', url: database.url },
      cluster: { heartbeatSeconds: options.heartbeatSeconds ?? 1, deadAfterSeconds: options.deadAfterSeconds ?? 3, ...startOptions.cluster },
      log: { level: 'warn' },
    }));
    const command = startOptions.joinToken === undefined ? ['serve', '--config', configPath] : ['node', 'join', '--config', configPath];
    // The token travels in the environment, never on a command line other processes can read.
    const env = startOptions.joinToken === undefined ? process.env : { ...process.env, COFFER_JOIN_TOKEN: startOptions.joinToken };
    const child = spawn(process.execPath, [CLI, ...command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`node ${name} did not start:\n${printed}`));
      }, START_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        printed += chunk.toString('utf8');
        const match = READY.exec(printed);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`node ${name} exited (${String(code ?? signal)}):\n${printed}`));
      });
    });
    const node: ClusterNode = {
      name, url, dataDir, process: child,
      output: () => printed,
      kill: async () => {
        child.kill('SIGKILL');
        await exited(child);
      },
      stop: async () => {
        child.kill('SIGTERM');
        await exited(child);
      },
    };
    nodes.push(node);
    return node;
  }

  return {
    dir, pki, custodian, postgres: database, nodes, startNode,
    client(credentials, urls) {
      const client = new CofferClient({
        nodes: [...urls], ca: pki.caPath,
        ...(credentials === undefined ? {} : { cert: credentials.certPath, key: credentials.keyPath }),
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await Promise.all(nodes.map((n) => n.stop()));
      await database.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Initialises the domain through the first node (1-of-1 custodian, officer olivia), unseals every
 * node with the custodian, and creates project alpha and user ursula (user certificate).
 */
export async function readyCluster(cluster: TestCluster): Promise<void> {
  const [first, ...rest] = cluster.nodes;
  if (first === undefined) throw new Error('start a node first');
  const anonymous = cluster.client(undefined, [first.url]);
  await anonymous.domain.init({
    custodians: [{ name: 'custodian', publicKey: cluster.custodian.publicKey }], threshold: 1,
    initialOfficer: { name: 'olivia', certificateFingerprint: cluster.pki.officer.fingerprint },
  });
  for (const node of [first, ...rest]) await cluster.client(undefined, [node.url]).domain.unsealAsCustodian(cluster.custodian);
  const officer = cluster.client(cluster.pki.officer, [first.url]);
  await officer.projects.create({ name: 'alpha' });
  await officer.principals.create({
    name: 'ursula', role: 'user', projects: ['alpha'], defaultProject: 'alpha',
    certificates: [{ fingerprint: cluster.pki.user.fingerprint }],
  });
}
