// Scheduled backups: every `intervalHours` one node of the cluster writes a backup to the directory
// and applies the retention policy. Which node: whoever holds the lease record `backup/lease`
// (plain JSON, compare-and-set, with an expiry), so a dead holder is replaced after one expiry.
import type { Barrier } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import { pruneBackups, type RetentionPolicy } from './backup-directory.ts';
import { writeBackup, type WrittenBackup } from './backup-writer.ts';

export const BACKUP_LEASE_KEY = 'backup/lease';
const HOUR_MS = 3_600_000;

interface Lease {
  readonly holder: string;
  readonly expiresAt: string;
  /** When the last scheduled backup was written (by any holder). */
  readonly lastBackupAt?: string;
}

export interface BackupSchedulerOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly nodeId: string;
  /** The node's audit chain head, pinned in each backup's manifest. */
  readonly auditHead?: () => { readonly seq: number; readonly hash: string } | undefined;
  readonly dir: string;
  readonly intervalHours: number;
  readonly retention: RetentionPolicy;
  readonly clock?: Clock;
  /** How often a node checks whether a backup is due (default one minute). */
  readonly checkMs?: number;
  /** Told of each backup written (the server audits it). */
  readonly onBackup?: (backup: WrittenBackup, pruned: readonly string[]) => void | Promise<void>;
  readonly onError?: (error: unknown) => void;
}

function parseLease(value: Uint8Array): Lease | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { holder, expiresAt, lastBackupAt } = parsed as Record<string, unknown>;
    if (typeof holder !== 'string' || typeof expiresAt !== 'string') return undefined;
    return { holder, expiresAt, ...(typeof lastBackupAt === 'string' ? { lastBackupAt } : {}) };
  } catch {
    return undefined;
  }
}

export class BackupScheduler {
  readonly #options: BackupSchedulerOptions;
  readonly #clock: Clock;
  readonly #checkMs: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<WrittenBackup | undefined> | undefined;

  constructor(options: BackupSchedulerOptions) {
    if (!(options.intervalHours > 0)) throw new CofferError('INVALID_ARGUMENT', 'intervalHours must be positive');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#checkMs = options.checkMs ?? 60_000;
  }

  /** Checks now and then every checkMs; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      void this.tick().catch((error: unknown) => this.#options.onError?.(error));
    }, this.#checkMs);
    this.#timer.unref();
    void this.tick().catch((error: unknown) => this.#options.onError?.(error));
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One check: takes or renews the lease, and writes a backup if one is due. Returns it, if written. */
  tick(): Promise<WrittenBackup | undefined> {
    this.#running ??= this.#tick().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #tick(): Promise<WrittenBackup | undefined> {
    const { store, barrier, nodeId } = this.#options;
    if (barrier.state !== 'UNSEALED') return undefined;
    const now = this.#clock.now();
    const entry = await store.get(BACKUP_LEASE_KEY);
    const lease = entry === undefined ? undefined : parseLease(entry.value);
    if (lease !== undefined && lease.holder !== nodeId && Date.parse(lease.expiresAt) > now.getTime()) return undefined;
    const due = lease?.lastBackupAt === undefined || now.getTime() - Date.parse(lease.lastBackupAt) >= this.#options.intervalHours * HOUR_MS;
    // Held for three checks: long enough to write a backup, short enough that another node takes over soon after a holder dies.
    const expiresAt = new Date(now.getTime() + 3 * this.#checkMs + (due ? HOUR_MS : 0)).toISOString();
    const held: Lease = { holder: nodeId, expiresAt, ...(lease?.lastBackupAt === undefined ? {} : { lastBackupAt: lease.lastBackupAt }) };
    let version: number;
    try {
      version = (await store.commit([{ op: 'put', key: BACKUP_LEASE_KEY, value: Buffer.from(JSON.stringify(held)), expectVersion: entry?.version ?? 0 }])).versions[0] ?? 0;
    } catch (error) {
      // Another node took the lease between our read and write: it runs this round.
      if (error instanceof CofferError && error.code === 'STORE_CONFLICT') return undefined;
      throw error;
    }
    if (!due) return undefined;
    const written = await writeBackup({
      store, barrier, nodeId, dir: this.#options.dir, clock: this.#clock,
      ...(this.#options.auditHead === undefined ? {} : { auditHead: this.#options.auditHead }),
    });
    const pruned = await pruneBackups(this.#options.dir, this.#options.retention, this.#clock);
    const done: Lease = { holder: nodeId, expiresAt: new Date(this.#clock.now().getTime() + 3 * this.#checkMs).toISOString(), lastBackupAt: written.manifest.createdAt };
    await store.commit([{ op: 'put', key: BACKUP_LEASE_KEY, value: Buffer.from(JSON.stringify(done)), expectVersion: version }]);
    await this.#options.onBackup?.(written, pruned);
    return written;
  }
}
