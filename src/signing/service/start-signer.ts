// Starts the signing service: its own data directory (locked), SQLite database, upload and output
// stores, audit journal, its Coffer client (the service's own principal), the job runner (resuming
// what a previous run left), then the HTTPS API.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditJournal } from '../../audit/index.ts';
import { loadTlsOptions } from '../../server/tls-material.ts';
import { DataDirLock } from '../../server/data-dir-lock.ts';
import { openSqliteStore } from '../../store/index.ts';
import { CofferClient } from '../../client/index.ts';
import { ArtifactStore } from '../jobs/index.ts';
import { UploadStore } from '../uploads/index.ts';
import { createSignerApp } from './signer-app.ts';
import { SignerAuthenticator } from './signer-authentication.ts';
import type { SignerConfig } from './signer-config.ts';
import { SigningService } from './signing-service.ts';

export interface RunningSigner {
  readonly url: string;
  readonly service: SigningService;
  /** Jobs taken up again at start. */
  readonly resumed: number;
  close(): Promise<void>;
}

export interface StartSignerOptions {
  /** Log lines go here (default stdout) at config.log.level. */
  readonly logStream?: NodeJS.WritableStream;
}

export async function startSigner(config: SignerConfig, options: StartSignerOptions = {}): Promise<RunningSigner> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = DataDirLock.acquire(config.dataDir);
  const cleanups: (() => Promise<void>)[] = [() => {
    lock.release();
    return Promise.resolve();
  }];
  const undo = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const https = loadTlsOptions({ ...config.api.tls, minVersion: 'TLSv1.2' });
    const store = await openSqliteStore(join(config.dataDir, 'signer.db'));
    cleanups.push(() => store.close());
    const audit = await AuditJournal.open({ path: join(config.dataDir, 'audit.journal'), nodeId: config.nodeId, checkpointIntervalMs: 60_000 });
    cleanups.push(() => audit.close());
    const clientTls = { ...(config.coffer.ca === undefined ? {} : { ca: config.coffer.ca }) };
    const coffer = new CofferClient({
      ...(config.coffer.url === undefined ? {} : { url: config.coffer.url }), ...(config.coffer.nodes === undefined ? {} : { nodes: config.coffer.nodes }),
      ...clientTls, cert: config.coffer.cert, key: config.coffer.key,
    });
    cleanups.push(() => {
      coffer.close();
      return Promise.resolve();
    });
    const service = new SigningService({
      store, audit, coffer, nodeId: config.nodeId, admins: config.admins, auditors: config.auditors,
      uploads: new UploadStore({ dir: join(config.dataDir, 'uploads'), maxBytes: config.uploads.maxBytes, ttlMs: config.uploads.ttlHours * 3_600_000 }),
      artifacts: new ArtifactStore({ dir: join(config.dataDir, 'outputs') }),
      concurrency: config.jobs.concurrency,
      ...(config.jobs.approvalExpiresInSeconds === undefined ? {} : { approvalExpiresInSeconds: config.jobs.approvalExpiresInSeconds }),
    });
    cleanups.push(() => service.close());
    // Coffer says who a caller is: a certificate by its binding (asked as the signer), a token by whoami with that token.
    const authenticator = new SignerAuthenticator({
      certificates: async (der) => (await coffer.auth.identify(der)).name,
      tokens: async (token) => {
        const asCaller = new CofferClient({ ...(config.coffer.url === undefined ? { nodes: config.coffer.nodes ?? [] } : { url: config.coffer.url }), ...clientTls, token, maxAttempts: 1 });
        try {
          return (await asCaller.auth.whoami()).name;
        } finally {
          asCaller.close();
        }
      },
    });
    const app = createSignerApp(service, authenticator, {
      https, nodeId: config.nodeId, logger: { level: config.log.level, ...(options.logStream === undefined ? {} : { stream: options.logStream }) },
    });
    cleanups.push(() => app.close());
    await app.listen({ host: config.api.host, port: config.api.port });
    const resumed = await service.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.api.port;
    const host = config.api.host.includes(':') ? `[${config.api.host}]` : config.api.host;
    let closed: Promise<void> | undefined;
    return {
      url: `https://${host === '127.0.0.1' || host === '[::1]' ? 'localhost' : host}:${port}`, service, resumed,
      close: () => (closed ??= undo()),
    };
  } catch (error) {
    await undo();
    throw error;
  }
}
