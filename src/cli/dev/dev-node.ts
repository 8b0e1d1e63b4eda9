// `coffer dev` (what `npm start` runs): the dev PKI, a self-unsealing 1-of-1 domain, the development
// principals and key, then the API (mutual TLS) and health port in the foreground until a signal.
import { resolve } from 'node:path';
import { ensureDevPki } from '../../pki/index.ts';
import { parseConfig, startNode, type RunningNode } from '../../server/index.ts';
import { listenError, untilSignal } from '../run-until-signal.ts';
import { devBanner } from './dev-banner.ts';
import { initDevDomain, unsealDevNode } from './dev-domain.ts';
import { ensureDevIdentity } from './dev-identity.ts';
import { startDevSigner } from './dev-signer.ts';
import type { RunningSigner } from '../../signing/service/index.ts';

type Env = Readonly<Record<string, string | undefined>>;

export const DEV_DEFAULTS = { dataDir: '.coffer/dev', apiPort: 8443, healthPort: 8081, nodeId: 'dev' } as const;

export async function runDevNode(env: Env): Promise<void> {
  const dataDir = resolve(env['COFFER_DATA_DIR'] ?? DEV_DEFAULTS.dataDir);
  // The PKI lives with the data, so one directory is the whole development setup.
  const pki = await ensureDevPki(dataDir);
  // COFFER_* variables (ports, hosts, log level, node id) override these as they do for serve.
  const config = parseConfig({
    dataDir,
    nodeId: DEV_DEFAULTS.nodeId,
    api: { port: DEV_DEFAULTS.apiPort, tls: { certFile: pki.serverCertPath, keyFile: pki.serverKeyPath, clientCaFile: pki.caPath } },
    health: { port: DEV_DEFAULTS.healthPort },
    // One JSON line per request would bury the banner; COFFER_LOG_LEVEL=info brings them back.
    log: { level: 'warn' },
  }, { env });
  // Initialised before anything listens: nobody else can initialise the domain first.
  const domainCreated = await initDevDomain(config.dataDir, config.nodeId);
  const running = await startNode(config).catch((error: unknown) => {
    throw listenError(error);
  });
  let changes: string[];
  let signer: RunningSigner;
  try {
    await unsealDevNode(running.node, config.dataDir);
    changes = await ensureDevIdentity(running, pki, config.dataDir);
    signer = await startDevSigner(env, config.dataDir, pki, running.apiUrl, changes).catch((error: unknown) => {
      throw listenError(error);
    });
  } catch (error) {
    await running.close();
    throw error;
  }
  console.log(devBanner({
    dataDir: config.dataDir, pki, apiPort: portOf(running.apiUrl), healthUrl: running.healthUrl,
    domainId: running.node.status().domainId ?? '?', domainCreated, changes, signerUrl: signer.url,
  }));
  await serveUntilSignal(running, signer);
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function serveUntilSignal(running: RunningNode, signer: RunningSigner): Promise<void> {
  const signal = await untilSignal();
  console.log(`coffer: ${signal}: sealing and closing`);
  await signer.close();
  await running.close();
  console.log('coffer: stopped');
}
