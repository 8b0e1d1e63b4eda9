// /v1/backups: officers create, list, verify and restore backups in the node's backup directory.
import type { Transport } from './transport.ts';

export interface BackupManifest {
  readonly format: string;
  readonly formatVersion: number;
  readonly backupId: string;
  readonly createdAt: string;
  readonly domainId: string;
  readonly auditPublicKey: string;
  readonly nodeId: string;
  readonly storeRevision: number;
  readonly chunkBytes: number;
  readonly body: { readonly sha256: string; readonly bytes: number; readonly chunks: number };
  readonly records: { readonly total: number; readonly byPrefix: Readonly<Record<string, number>> };
  readonly excludedPrefixes: readonly string[];
  /** The creating node's audit chain head when the backup was written (its journal is node-local). */
  readonly auditHead?: { readonly seq: number; readonly hash: string };
}

export interface BackupSummary {
  readonly name: string;
  /** Hex SHA-256 of the manifest: names the backup as well as its file name. */
  readonly manifestDigest: string;
  readonly manifest: BackupManifest;
}

export type RestoreMode = 'empty' | 'merge';

export interface RestoreSummary {
  readonly name: string;
  readonly mode: RestoreMode;
  readonly restored: number;
  readonly kept: number;
  readonly manifest: BackupManifest;
}

const segment = (value: string): string => encodeURIComponent(value);

export class BackupApi {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /** Writes a backup of every record to the node's backup directory; returns its manifest. */
  async create(): Promise<BackupSummary> {
    return (await this.#http.send('POST', '/v1/backups')) as BackupSummary;
  }

  /** The backups in the directory, oldest first; `damaged`: files whose manifest does not check. */
  async list(): Promise<{ backups: BackupSummary[]; damaged: string[] }> {
    return (await this.#http.send('GET', '/v1/backups')) as { backups: BackupSummary[]; damaged: string[] };
  }

  /** Checks a backup (name or manifest digest) completely without restoring: BACKUP_INTEGRITY_FAILED, BACKUP_FOREIGN_DOMAIN. */
  async verify(name: string): Promise<BackupSummary> {
    return (await this.#http.send('POST', `/v1/backups/${segment(name)}/verify`)) as BackupSummary;
  }

  /** Restores a backup; QUORUM_REQUIRED where the quorum policy covers backup.restore (request it with client.quorum). */
  async restore(name: string, mode: RestoreMode): Promise<RestoreSummary> {
    return (await this.#http.send('POST', `/v1/backups/${segment(name)}/restore`, { body: { mode } })) as RestoreSummary;
  }
}
