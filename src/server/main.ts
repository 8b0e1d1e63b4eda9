// Starting a node as a server: open the node (on its SQLite file, or on the cluster's PostgreSQL
// store), build its services, serve the API over mutual TLS and the health port over plain HTTP, and
// join the cluster machinery: heartbeat, change follower, join admitter, audit shipping. `coffer serve`
// and `coffer node join` call startNode.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApp, type AppOptions } from './app.ts';
import { CofferNode } from './coffer-node.ts';
import { ChangeFollower, invalidationDispatcher } from '../cluster/follower/index.ts';
import { Heartbeat } from '../cluster/registry/index.ts';
import { AuditShipper } from '../cluster/audit-shipping/index.ts';
import { BackupScheduler } from '../cluster/backup/index.ts';
import type { JoinConfig } from '../cluster/attestation/index.ts';
import type { Admitter } from '../cluster/join/index.ts';
import { openPostgresStore, type Store } from '../store/index.ts';
import type { NodeCertificatesConfig, ServerConfig } from './config.ts';
import { createHealthApp } from './health-app.ts';
import { nodeCertificateIssuer, startJoinAdmitter } from './join-wiring.ts';
import type { PrincipalDirectory } from './identity/index.ts';
import { NodeServices, principalDirectoryFactory } from './node-services.ts';
import { loadTlsOptions } from './tls-material.ts';
import { prepareRestoreFromBackup, type PendingRestore } from './restore-from-backup.ts';

export interface RunningNode {
  /** e.g. https://127.0.0.1:8443 (the bound port when the config asked for 0). */
  readonly apiUrl: string;
  readonly healthUrl: string;
  readonly node: CofferNode;
  readonly services: NodeServices;
  readonly cluster: ClusterMember;
  /** With StartOptions.restoreFrom: the backup restored at the custodians' unseal (undefined once done). */
  pendingRestore(): PendingRestore | undefined;
  /** The directory of the current unsealed period (DOMAIN_SEALED while sealed). */
  directory(): Promise<PrincipalDirectory>;
  /** Stops both listeners (in-flight requests finish), then seals and closes the node. */
  close(): Promise<void>;
}

/** The node's part in the cluster: its heartbeat, its change follower (while unsealed), its audit shipper. */
export interface ClusterMember {
  readonly heartbeat: Heartbeat;
  /** Present when the store is shared (postgres): a node's own SQLite file needs no copy of its journal. */
  readonly shipper: AuditShipper | undefined;
  /** The follower of the current unsealed period. */
  follower(): ChangeFollower | undefined;
  /** The join admitter of the current unsealed period (none while sealed, or with cluster.join off). */
  admitter(): Admitter | undefined;
  stop(): Promise<void>;
}

/**
 * Starts the heartbeat (and the audit shipper), and at each unseal a change follower that turns other
 * nodes' changes into invalidations of this node's caches and, with `join`, an admitter that answers
 * join requests (woken by the follower when one is written); both stop at seal.
 */
export async function joinCluster(node: CofferNode, services: NodeServices, options: {
  readonly apiUrl: string; readonly heartbeatSeconds?: number; readonly shipAudit: boolean; readonly pollMs?: number;
  readonly join?: JoinConfig; readonly admitPollMs?: number;
  /** With join: the built-in CA certifies the TLS keys of the nodes this one admits. */
  readonly nodeCertificates?: NodeCertificatesConfig;
  /** Failures of the background tasks (follower, admitter, audit shipper); each keeps retrying. */
  readonly onError?: (component: 'follower' | 'admitter' | 'audit-shipper', error: unknown) => void;
}): Promise<ClusterMember> {
  const report = (component: 'follower' | 'admitter' | 'audit-shipper') => (error: unknown): void => {
    options.onError?.(component, error);
  };
  let follower: ChangeFollower | undefined;
  let admitter: Admitter | undefined;
  const certify = options.nodeCertificates === undefined ? undefined : nodeCertificateIssuer(services, options.nodeCertificates);
  const heartbeat = new Heartbeat({
    registry: services.registry, nodeId: node.nodeId, apiUrl: options.apiUrl, version: services.version, state: () => node.state,
    ...(options.heartbeatSeconds === undefined ? {} : { heartbeatSeconds: options.heartbeatSeconds }),
    // Another node may initialise the shared domain: adopt its descriptor.
    onBeat: async () => {
      if (node.state === 'UNINITIALIZED') await node.refreshDomain();
    },
  });
  const removeListener = node.addLifecycleListener({
    unsealed: (engine, revision) => {
      // A new admitter per unsealed period: its provider holds this period's barrier state.
      const admit = options.join === undefined ? undefined
        : startJoinAdmitter(node, options.join, {
          onError: report('admitter'), ...(options.admitPollMs === undefined ? {} : { pollIntervalMs: options.admitPollMs }), ...(certify === undefined ? {} : { certify }),
        });
      admitter = admit;
      const current = new ChangeFollower({
        store: node.store, from: revision ?? node.knownRevision, onError: report('follower'),
        ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
        dispatch: invalidationDispatcher({
          invalidateKey: (id) => {
            engine.invalidate(id);
          },
          invalidateIdentity: () => {
            services.invalidateIdentity();
          },
          joinRequested: () => {
            admit?.wake();
          },
          versions: node.barrier,
        }),
      });
      follower = current;
      void current.start();
      void heartbeat.beat();
    },
    sealing: async () => {
      const current = follower;
      const admit = admitter;
      follower = undefined;
      admitter = undefined;
      // A pass in progress finishes (and audits) before the journal closes.
      await Promise.all([current?.stop(), admit?.stop()]);
      void heartbeat.beat();
    },
  });
  const shipper = options.shipAudit
    ? new AuditShipper({ store: node.store, nodeId: node.nodeId, journalPath: node.journalPath, durableSeq: () => node.journalDurableSeq(), onError: report('audit-shipper') })
    : undefined;
  const removeJournalListener = shipper === undefined ? () => true : node.onJournalDurable(() => {
    void shipper.nudge();
  });
  shipper?.start();
  await heartbeat.start();
  let stopping: Promise<void> | undefined;
  return {
    heartbeat, shipper,
    follower: () => follower,
    admitter: () => admitter,
    stop: () => (stopping ??= (async () => {
      removeListener();
      removeJournalListener();
      await heartbeat.stop();
      await Promise.all([follower?.stop(), admitter?.stop()]);
      follower = undefined;
      admitter = undefined;
      // What the journal made durable up to now (its final checkpoint included, once the node is closed).
      await shipper?.flush();
      await shipper?.stop();
    })()),
  };
}

/** While the store is down the background tasks fail every second or so: log the first failure, then one a minute. */
function throttledWarning<C extends string>(log: (component: C, error: unknown) => void, intervalMs = 60_000): (component: C, error: unknown) => void {
  const last = new Map<C, number>();
  return (component, error) => {
    const now = Date.now();
    const previous = last.get(component);
    if (previous !== undefined && now - previous < intervalMs) return;
    last.set(component, now);
    log(component, error);
  };
}

export interface StartOptions {
  /** Override the config's logging (tests pass false or a stream). */
  readonly logger?: AppOptions['logger'];
  /**
   * Rebuild after losing every node (src/server/restore-from-backup.ts): the store must be empty;
   * the node adopts the backup's domain and restores the file when the custodians unseal it.
   */
  readonly restoreFrom?: string;
}

function packageVersion(): string {
  try {
    const parsed: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)['version'] : undefined;
    return typeof version === 'string' ? version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function urlOf(app: FastifyInstance, scheme: 'http' | 'https'): string {
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

export async function startNode(config: ServerConfig, options: StartOptions = {}): Promise<RunningNode> {
  // TLS material is checked before the node opens, so a bad file changes nothing and listens nowhere.
  const https = loadTlsOptions(config.api.tls);
  const shared: Store | undefined = config.store.backend === 'postgres'
    ? await openPostgresStore({ connectionString: config.store.url, ...(config.store.poolSize === undefined ? {} : { poolSize: config.store.poolSize }) })
    : undefined;
  let node: CofferNode;
  try {
    node = await CofferNode.open({ dataDir: config.dataDir, nodeId: config.nodeId, ...(shared === undefined ? {} : { store: shared }) });
  } catch (error) {
    await shared?.close();
    throw error;
  }
  const services = new NodeServices(node, {
    createDirectory: principalDirectoryFactory({ tokenTtlSeconds: config.auth.tokenTtlSeconds, loginFailuresPerMinute: config.auth.loginFailuresPerMinute }),
    version: packageVersion(),
    deadAfterSeconds: config.cluster.deadAfterSeconds,
    backupDir: config.backup.dir,
  });
  const api = createApp(services, { https, limits: config.limits, logger: options.logger ?? { level: config.log.level } });
  const health = createHealthApp(services);
  let pending: PendingRestore | undefined;
  try {
    // Refused here, before anything listens: an altered file, a store that is not empty.
    if (options.restoreFrom !== undefined) {
      pending = await prepareRestoreFromBackup(node, options.restoreFrom, {
        restored: (done, result) => {
          pending = undefined;
          api.log.info({ backup: done.file, manifestDigest: done.manifestDigest, restored: result.restored }, 'backup restored at unseal');
        },
        failed: (failed, error) => {
          api.log.error({ err: error, backup: failed.file, manifestDigest: failed.manifestDigest }, 'restore from backup failed at unseal: the node sealed itself again; nothing was served');
        },
      });
    }
    await api.listen({ host: config.api.host, port: config.api.port });
    await health.listen({ host: config.health.host, port: config.health.port });
  } catch (error) {
    await Promise.allSettled([api.close(), health.close()]);
    await node.close();
    await shared?.close();
    throw error;
  }
  const apiUrl = urlOf(api, 'https');
  const cluster = await joinCluster(node, services, {
    apiUrl: config.cluster.advertiseUrl ?? apiUrl, heartbeatSeconds: config.cluster.heartbeatSeconds, shipAudit: shared !== undefined,
    // Only a shared store can hold another node's join request; a node on its own SQLite file admits no one.
    ...(shared === undefined || config.cluster.join === undefined ? {} : { join: config.cluster.join }),
    ...(config.cluster.nodeCertificates === undefined ? {} : { nodeCertificates: config.cluster.nodeCertificates }),
    onError: throttledWarning((component, error) => {
      api.log.warn({ err: error, component }, 'cluster background task failed; retrying');
    }),
  });
  // Scheduled backups run while unsealed; in a cluster the lease record lets one node at a time write them.
  let scheduler: BackupScheduler | undefined;
  const removeBackupListener = config.backup.intervalHours === 0 ? () => true : node.addLifecycleListener({
    unsealed: () => {
      scheduler = new BackupScheduler({
        store: node.store, barrier: node.barrier, nodeId: node.nodeId, dir: config.backup.dir, auditHead: () => node.auditHead(),
        intervalHours: config.backup.intervalHours, retention: config.backup.retention,
        onBackup: (backup, pruned) => {
          api.log.info({ backup: backup.name, records: backup.manifest.records.total, pruned }, 'scheduled backup written');
        },
        onError: (error) => {
          api.log.warn({ err: error }, 'scheduled backup failed; retrying at the next check');
        },
      });
      scheduler.start();
    },
    sealing: async () => {
      const current = scheduler;
      scheduler = undefined;
      await current?.stop();
    },
  });
  let closing: Promise<void> | undefined;
  return {
    apiUrl,
    healthUrl: urlOf(health, 'http'),
    node,
    services,
    cluster,
    pendingRestore: () => pending,
    directory: () => services.directory(),
    close: () => (closing ??= (async () => {
      // Deregistered first, so clients stop choosing this node while it drains.
      await cluster.heartbeat.stop();
      removeBackupListener();
      await scheduler?.stop();
      await Promise.allSettled([api.close(), health.close()]);
      await node.close();
      await cluster.stop();
      await shared?.close();
    })()),
  };
}
