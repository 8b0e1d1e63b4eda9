// /v1/backups: officers create, list, verify and restore backups in the node's backup directory.
// The backup shapes are the cluster's and the server's contract (type-only: nothing of either is loaded).
import type { BackupManifest as StoredManifest, RestoreMode } from '../cluster/backup/index.ts';
import type { RestoreSummary } from '../server/backup-service.ts';
import type { Transport } from './transport.ts';

/** The manifest as the API serves it: the key-derivation salt, nonce base and (long) descriptor stay in the file. */
export type BackupManifest = Omit<StoredManifest, 'salt' | 'nonceBase' | 'descriptor'>;

export interface BackupSummary {
  readonly name: string;
  /** Hex SHA-256 of the manifest: names the backup as well as its file name. */
  readonly manifestDigest: string;
  readonly manifest: BackupManifest;
}

export type { RestoreMode, RestoreSummary };

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
