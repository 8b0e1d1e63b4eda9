// What the HTTP layer is handed: the node, a principal directory and a quorum service (with the
// handlers that run its operations) that live for one unsealed period, key inventory and request metrics. The directory is rebuilt at each unseal, so
// sealing drops every login token, and the pending first officer is created before the directory is
// first used.
import type { KeyUseService } from '../approvals/key-use/index.ts';
import { QuorumService } from '../approvals/quorum/index.ts';
import type { AuditSink } from '../core/ports.ts';
import type { KeyEngine } from '../core/engine/index.ts';
import type { Barrier } from '../barrier/index.ts';
import type { Store } from '../store/index.ts';
import { NodeRegistry, type NodeRecord } from '../cluster/registry/index.ts';
import { join, dirname } from 'node:path';
import { applyPendingOfficer } from './bootstrap-officer.ts';
import { BackupService } from './backup-service.ts';
import type { CofferNode } from './coffer-node.ts';
import { PrincipalDirectory } from './identity/index.ts';
import { HttpMetrics } from './http-metrics.ts';
import { KeyInventory } from './key-inventory.ts';
import { createKeyUseService } from './key-use-wiring.ts';
import { ImportTokenService } from './import-tokens.ts';
import { PkiService } from '../pki/pki-service.ts';
import { quorumOperations } from './quorum-operations.ts';

export type DirectoryFactory = (parts: { readonly store: Store; readonly barrier: Barrier; readonly audit: AuditSink }) => PrincipalDirectory;

/** The production factory: a PrincipalDirectory with the configured token lifetime and login limit. */
export function principalDirectoryFactory(options: { tokenTtlSeconds?: number; loginFailuresPerMinute?: number } = {}): DirectoryFactory {
  return (parts) => new PrincipalDirectory({ ...parts, ...options });
}

interface CurrentDirectory {
  readonly audit: AuditSink;
  readonly directory: Promise<PrincipalDirectory>;
  /** Set once the directory is open, so invalidation can reach it synchronously. */
  opened?: PrincipalDirectory;
}

export class NodeServices {
  readonly node: CofferNode;
  readonly metrics: HttpMetrics;
  readonly keys: KeyInventory;
  readonly version: string;
  /** The cluster's node records in the (shared) store: GET /v1/cluster/nodes reads them. */
  readonly registry: NodeRegistry;
  readonly #createDirectory: DirectoryFactory;
  /** Backups (src/server/backup-service.ts), in the configured directory or `backups/` in the data directory. */
  readonly backups: BackupService;
  /** Keyed by the journal of the current unsealed period: a new journal means a new directory. */
  #current: CurrentDirectory | undefined;
  /** Same key: the service remembers committed record versions, so it must outlive one request. */
  #quorum: { readonly audit: AuditSink; readonly service: QuorumService } | undefined;
  /** Same key: the key-use service holds requests' ephemeral keys in memory, so it lives for the unsealed period. */
  #keyUse: { readonly audit: AuditSink; readonly service: KeyUseService } | undefined;
  /** Same key: import tokens (BYOK) are sealed by the barrier of the current unsealed period. */
  #importTokens: { readonly audit: AuditSink; readonly service: ImportTokenService } | undefined;
  /** Same key: PKI records (CAs, certificates, CRLs) are sealed by the barrier of the current unsealed period. */
  #pki: { readonly audit: AuditSink; readonly service: PkiService } | undefined;

  constructor(node: CofferNode, options: { createDirectory?: DirectoryFactory; metrics?: HttpMetrics; version?: string; deadAfterSeconds?: number; backupDir?: string } = {}) {
    this.node = node;
    this.registry = new NodeRegistry({ store: node.store, ...(options.deadAfterSeconds === undefined ? {} : { deadAfterSeconds: options.deadAfterSeconds }) });
    this.#createDirectory = options.createDirectory ?? principalDirectoryFactory();
    this.metrics = options.metrics ?? new HttpMetrics();
    this.keys = new KeyInventory(node);
    this.version = options.version ?? '0.0.0';
    this.backups = new BackupService(node, options.backupDir ?? join(dirname(node.journalPath), 'backups'), () => {
      this.invalidateIdentity();
    });
  }

  /** The key engine; DOMAIN_SEALED / DOMAIN_UNINITIALIZED unless the node is unsealed. */
  get engine(): KeyEngine {
    return this.node.engine;
  }

  /** The directory of the current unsealed period (DOMAIN_SEALED otherwise). */
  directory(): Promise<PrincipalDirectory> {
    const audit = this.node.audit;
    if (this.#current?.audit !== audit) {
      const directory = this.#open(audit);
      const current: CurrentDirectory = { audit, directory };
      this.#current = current;
      // A failed start (store down) is not remembered: the next request tries again.
      directory.then((opened) => {
        current.opened = opened;
      }, () => {
        if (this.#current === current) this.#current = undefined;
      });
    }
    return this.#current.directory;
  }

  /** The quorum service of the current unsealed period (DOMAIN_SEALED otherwise). */
  quorum(): QuorumService {
    const audit = this.node.audit;
    if (this.#quorum?.audit !== audit) {
      // The handlers read the directory and engine at each call, so they always act on the current period's.
      this.#quorum = { audit, service: new QuorumService({ store: this.node.store, barrier: this.node.barrier, audit, operations: quorumOperations(this) }) };
    }
    return this.#quorum.service;
  }

  /**
   * Cluster: another node changed a principal, project or the officer roster. Drops the current
   * directory's authentication caches (and those of one still opening, once it is open), so the
   * next request re-reads the store: a principal disabled elsewhere is refused here at once.
   */
  invalidateIdentity(): void {
    const current = this.#current;
    if (current === undefined) return;
    if (current.opened !== undefined) {
      current.opened.invalidateCaches();
      return;
    }
    void current.directory.then((directory) => {
      directory.invalidateCaches();
    }, () => undefined);
  }

  /** The live nodes of the cluster (this one included once its first heartbeat is written). */
  async clusterNodes(): Promise<{ nodes: (Pick<NodeRecord, 'nodeId' | 'apiUrl' | 'state' | 'lastHeartbeat'> & { self: boolean })[] }> {
    const live = await this.registry.liveNodes();
    return {
      nodes: live.map(({ nodeId, apiUrl, state, lastHeartbeat }) => ({ nodeId, apiUrl, state, lastHeartbeat, self: nodeId === this.node.nodeId })),
    };
  }

  /** The key-use approval service of the current unsealed period (DOMAIN_SEALED otherwise). */
  keyUse(): KeyUseService {
    const audit = this.node.audit;
    if (this.#keyUse?.audit !== audit) {
      // A new period: the old service's ephemeral keys are erased, so its pending sealed requests must be made again.
      this.#keyUse?.service.close();
      this.#keyUse = { audit, service: createKeyUseService(this.node, audit, () => this.directory()) };
    }
    return this.#keyUse.service;
  }

  /** The BYOK import-token service of the current unsealed period (DOMAIN_SEALED otherwise). */
  importTokens(): ImportTokenService {
    const audit = this.node.audit;
    if (this.#importTokens?.audit !== audit) {
      this.#importTokens = { audit, service: new ImportTokenService({ store: this.node.store, barrier: this.node.barrier, audit }) };
    }
    return this.#importTokens.service;
  }

  /** CSRs, certificates attached to keys, built-in CAs and the time-stamping authority (DOMAIN_SEALED otherwise). */
  pki(): PkiService {
    const audit = this.node.audit;
    if (this.#pki?.audit !== audit) {
      this.#pki = { audit, service: new PkiService({ store: this.node.store, barrier: this.node.barrier, audit, engine: () => this.node.engine }) };
    }
    return this.#pki.service;
  }

  async #open(audit: AuditSink): Promise<PrincipalDirectory> {
    const directory = this.#createDirectory({ store: this.node.store, barrier: this.node.barrier, audit });
    await applyPendingOfficer(this.node.store, directory);
    return directory;
  }
}
