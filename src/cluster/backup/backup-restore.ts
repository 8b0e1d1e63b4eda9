// Restores a verified backup into the store: 'empty' (a store with no records yet) or 'merge' (a
// record is written only where it is absent or the backup's is newer; a key record only when the
// backup holds more key versions, so a key rotated after the backup keeps its newer versions).
//
// Barrier records are bound to their store version (AEAD associated data), and a store numbers
// versions itself, so each restored barrier record is opened at the version it had in the backup
// and sealed again at the version it gets now. Other records (shipped audit lines) are copied as is.
import { CofferError } from '../../core/errors.ts';
import type { Barrier } from '../../barrier/index.ts';
import { decodeKeyRecord } from '../../store/key-repository/index.ts';
import type { Store, StoreEntry, StoreWrite } from '../../store/index.ts';
import { recordKindOf } from '../follower/index.ts';
import { isExcluded, prefixOf, type BackupManifest } from './backup-format.ts';
import { readRecords, verifyBackup, type BackupRecord } from './backup-reader.ts';

export const RESTORE_MODES = ['empty', 'merge'] as const;
export type RestoreMode = (typeof RESTORE_MODES)[number];

/** Writes per commit: large enough to be quick, small enough to stay far below any backend's limits. */
const BATCH = 64;
const KEY_PREFIX = 'key/';

export interface RestoreOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly mode: RestoreMode;
  /**
   * Called for every key written, after its commit: the caller drops its caches (KeyEngine.invalidate
   * for `key/<id>`, the principal caches for identity records). In a cluster the change feed does the
   * same on every other node.
   */
  readonly onRestored?: (key: string) => void;
}

export interface RestoreResult {
  readonly manifest: BackupManifest;
  readonly mode: RestoreMode;
  /** Records written. */
  readonly restored: number;
  /** Records kept as the store had them (merge: present and as new or newer). */
  readonly kept: number;
  readonly restoredByPrefix: Readonly<Record<string, number>>;
}

interface Planned {
  readonly write: StoreWrite;
  readonly key: string;
  readonly kind: string | undefined;
  readonly version: number;
}

/** The store holds nothing but what a backup leaves out (the descriptor, node records…), else BACKUP_TARGET_NOT_EMPTY. */
export async function requireEmptyStore(store: Store): Promise<void> {
  for (let after: string | undefined; ;) {
    const page = await store.list('', { limit: 256, ...(after === undefined ? {} : { after }) });
    if (page.some((entry) => !isExcluded(entry.key))) throw new CofferError('BACKUP_TARGET_NOT_EMPTY', "the store already holds records: restore in 'merge' mode");
    after = page.at(-1)?.key;
    if (page.length < 256) return;
  }
}

function highestKeyVersion(plaintext: Uint8Array): number {
  return decodeKeyRecord(plaintext).currentVersion;
}

/** Whether merge mode writes `record` over `current`. */
function newer(barrier: Barrier, record: BackupRecord, current: StoreEntry, kind: string | undefined): boolean {
  if (record.key.startsWith(KEY_PREFIX) && kind === 'key') {
    const theirs = barrier.openArchivedRecord(kind, record.key, record.version, record.value);
    const ours = barrier.decryptRecord(kind, current.key, current.version, current.value);
    try {
      return highestKeyVersion(theirs) > highestKeyVersion(ours);
    } finally {
      theirs.fill(0);
      ours.fill(0);
    }
  }
  return record.version > current.version;
}

function plan(barrier: Barrier, mode: RestoreMode, record: BackupRecord, current: StoreEntry | undefined): Planned | undefined {
  const kind = recordKindOf(record.key);
  if (current !== undefined && (mode === 'empty' || !newer(barrier, record, current, kind))) return undefined;
  const version = (current?.version ?? 0) + 1;
  let value: Uint8Array = record.value;
  if (kind !== undefined) {
    const plaintext = barrier.openArchivedRecord(kind, record.key, record.version, record.value);
    try {
      value = barrier.encryptRecord(kind, record.key, version, plaintext);
    } finally {
      plaintext.fill(0);
    }
  }
  return { write: { op: 'put', key: record.key, value, expectVersion: current?.version ?? 0 }, key: record.key, kind, version };
}

/**
 * Verifies the whole file first (signature, domain, every chunk, digest, counts), so nothing is
 * written from a damaged or foreign backup, then applies it in batches of compare-and-set writes.
 */
export async function restoreBackup(path: string, options: RestoreOptions): Promise<RestoreResult> {
  const { store, barrier, mode } = options;
  if (!(RESTORE_MODES as readonly string[]).includes(mode)) throw new CofferError('INVALID_ARGUMENT', "mode must be 'empty' or 'merge'");
  const manifest = await verifyBackup(path, barrier);
  if (mode === 'empty') await requireEmptyStore(store);
  const byPrefix: Record<string, number> = {};
  let restored = 0;
  let kept = 0;

  const applied = (done: Planned): void => {
    if (done.kind !== undefined) {
      barrier.forget(done.kind, done.key);
      barrier.noteCommitted(done.kind, done.key, done.version);
    }
    const prefix = prefixOf(done.key);
    byPrefix[prefix] = (byPrefix[prefix] ?? 0) + 1;
    restored++;
    options.onRestored?.(done.key);
  };

  /** One record at a time, re-reading the store: after a batch lost a race with a live writer. */
  const applyOne = async (record: BackupRecord): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const planned = plan(barrier, mode, record, await store.get(record.key));
      if (planned === undefined) {
        kept++;
        return;
      }
      try {
        await store.commit([planned.write]);
        applied(planned);
        return;
      } catch (error) {
        if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT') || attempt >= 3) throw error;
      }
    }
  };

  const flush = async (records: BackupRecord[]): Promise<void> => {
    if (records.length === 0) return;
    const planned: Planned[] = [];
    for (const record of records) {
      const next = plan(barrier, mode, record, await store.get(record.key));
      if (next === undefined) kept++;
      else planned.push(next);
    }
    if (planned.length === 0) return;
    try {
      await store.commit(planned.map((p) => p.write));
      for (const done of planned) applied(done);
    } catch (error) {
      if (!(error instanceof CofferError && error.code === 'STORE_CONFLICT')) throw error;
      const retry = new Set(planned.map((p) => p.key));
      for (const record of records) if (retry.has(record.key)) await applyOne(record);
    }
  };

  let batch: BackupRecord[] = [];
  for await (const record of readRecords(path, barrier)) {
    if (isExcluded(record.key)) continue;
    batch.push(record);
    if (batch.length >= BATCH) {
      await flush(batch);
      batch = [];
    }
  }
  await flush(batch);
  return { manifest, mode, restored, kept, restoredByPrefix: byPrefix };
}
