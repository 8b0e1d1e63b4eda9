// Writes a backup: pages through the store (never holding it whole), encrypts the records in chunks
// to a temporary body file, then writes the signed manifest and the body to the final name (renamed
// into place only once complete and synced, so a reader never sees half a file).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Barrier } from '../../barrier/index.ts';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import type { Store } from '../../store/index.ts';
import {
  BACKUP_FILE_SUFFIX, BACKUP_FORMAT, BACKUP_FORMAT_VERSION, ChunkCipher, DEFAULT_CHUNK_BYTES, encodeHead, encodeRecord, EXCLUDED_PREFIXES, isExcluded,
  manifestBytesOf, prefixOf, signManifest, u32, type BackupHeader, type BackupManifest,
} from './backup-format.ts';

/** Records read per store.list call. */
const PAGE = 256;

export interface WriteBackupOptions {
  readonly store: Store;
  readonly barrier: Barrier;
  readonly nodeId: string;
  /** The backup directory (created if absent, mode 0700). */
  readonly dir: string;
  readonly clock?: Clock;
  readonly chunkBytes?: number;
  /** The creating node's audit chain head, read when the manifest is sealed (see BackupManifest.auditHead). */
  readonly auditHead?: () => { readonly seq: number; readonly hash: string } | undefined;
}

export interface WrittenBackup {
  readonly name: string;
  readonly path: string;
  readonly manifest: BackupManifest;
}

/** `coffer-backup-20250101T000000Z-<8 characters of the id>.cbk`: sorts by time. */
export function backupFileName(createdAt: string, backupId: string): string {
  const stamp = createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `coffer-backup-${stamp}-${backupId.slice(0, 8)}${BACKUP_FILE_SUFFIX}`;
}

/** Buffers plaintext into chunks and appends them, encrypted and framed, to the body file. */
class ChunkSink {
  readonly #file: FileHandle;
  readonly #cipher: ChunkCipher;
  readonly #chunkBytes: number;
  readonly #hash = createHash('sha256');
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #index = 0;
  #bytes = 0;

  constructor(file: FileHandle, cipher: ChunkCipher, chunkBytes: number) {
    this.#file = file;
    this.#cipher = cipher;
    this.#chunkBytes = chunkBytes;
  }

  async add(bytes: Buffer): Promise<void> {
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    while (this.#pendingBytes >= this.#chunkBytes) {
      const all = Buffer.concat(this.#pending);
      // The last chunk is written by finish(), with the final flag: a full chunk here is never the last.
      if (all.length === this.#chunkBytes) {
        this.#pending = [all];
        break;
      }
      await this.#emit(all.subarray(0, this.#chunkBytes), false);
      const rest = all.subarray(this.#chunkBytes);
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
  }

  async finish(): Promise<{ sha256: string; bytes: number; chunks: number }> {
    await this.#emit(Buffer.concat(this.#pending), true);
    this.#pending = [];
    return { sha256: this.#hash.digest('hex'), bytes: this.#bytes, chunks: this.#index };
  }

  async #emit(plaintext: Buffer, final: boolean): Promise<void> {
    const sealed = this.#cipher.seal(this.#index++, final, plaintext);
    plaintext.fill(0);
    const framed = Buffer.concat([u32(sealed.length), sealed]);
    this.#hash.update(framed);
    this.#bytes += framed.length;
    await this.#file.write(framed);
  }
}

/** Streams every record of the store (but the excluded prefixes) into a new backup file in `dir`. */
export async function writeBackup(options: WriteBackupOptions): Promise<WrittenBackup> {
  const { store, barrier, dir } = options;
  const descriptor = barrier.descriptor;
  if (descriptor === undefined) throw new CofferError('DOMAIN_UNINITIALIZED', 'the security domain has not been initialised');
  const signingKey = barrier.auditSigningKey();
  const clock = options.clock ?? systemClock;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const salt = randomBytes(32);
  const header: BackupHeader = {
    format: BACKUP_FORMAT, formatVersion: BACKUP_FORMAT_VERSION,
    backupId: randomBytes(16).toString('base64url'),
    createdAt: clock.now().toISOString(),
    domainId: descriptor.domainId,
    auditPublicKey: descriptor.auditPublicKey,
    nodeId: options.nodeId,
    storeRevision: await store.revision(),
    salt: salt.toString('base64url'),
    nonceBase: randomBytes(12).toString('base64url'),
    chunkBytes,
  };
  const name = backupFileName(header.createdAt, header.backupId);
  const path = join(dir, name);
  const bodyPath = join(dir, `.${name}.body`);
  const partPath = join(dir, `.${name}.part`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cipher = new ChunkCipher(barrier.backupKey(salt), header);
  try {
    const byPrefix: Record<string, number> = {};
    let total = 0;
    const bodyFile = await open(bodyPath, 'wx', 0o600);
    let body: BackupManifest['body'];
    try {
      const sink = new ChunkSink(bodyFile, cipher, chunkBytes);
      for (let after: string | undefined; ;) {
        const page = await store.list('', { limit: PAGE, ...(after === undefined ? {} : { after }) });
        for (const entry of page) {
          if (isExcluded(entry.key)) continue;
          await sink.add(encodeRecord(entry.key, entry.version, entry.value));
          const prefix = prefixOf(entry.key);
          byPrefix[prefix] = (byPrefix[prefix] ?? 0) + 1;
          total++;
        }
        after = page.at(-1)?.key;
        if (page.length < PAGE) break;
      }
      body = await sink.finish();
      await bodyFile.sync();
    } finally {
      await bodyFile.close();
    }
    const head = options.auditHead?.();
    const manifest: BackupManifest = {
      ...header, descriptor, body, records: { total, byPrefix }, excludedPrefixes: EXCLUDED_PREFIXES,
      ...(head === undefined ? {} : { auditHead: { seq: head.seq, hash: head.hash } }),
    };
    const manifestBytes = manifestBytesOf(manifest);
    const out = await open(partPath, 'wx', 0o600);
    try {
      await out.write(encodeHead(manifestBytes, signManifest(manifestBytes, signingKey)));
      const input = await open(bodyPath, 'r');
      try {
        const buffer = Buffer.alloc(1024 * 1024);
        for (;;) {
          const { bytesRead } = await input.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) break;
          await out.write(buffer.subarray(0, bytesRead));
        }
      } finally {
        await input.close();
      }
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(partPath, path);
    return { name, path, manifest };
  } finally {
    cipher.wipe();
    await rm(bodyPath, { force: true });
    await rm(partPath, { force: true });
  }
}
