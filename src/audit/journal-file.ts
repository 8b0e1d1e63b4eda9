// The journal's file primitives: create-or-open durably, and write a whole buffer durably.

import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * O_DSYNC where the platform has it (Linux, macOS, the BSDs; not Windows): each write returns only
 * once its data, and the metadata needed to read it back, are on stable storage, exactly what
 * fdatasync after it would give (POSIX synchronized I/O data integrity completion). One write is then
 * one thread-pool job instead of two with an event-loop turn between them, so a batch becomes durable
 * while the event loop is still busy with other work.
 */
const O_DSYNC: number | undefined = (constants as Partial<typeof constants>).O_DSYNC;

export interface JournalFile {
  readonly handle: FileHandle;
  /** True when every write is durable on return (O_DSYNC); false means datasync after writing. */
  readonly writesAreDurable: boolean;
}

/** Opens the journal for reading and appending, creating it (mode 0600) if missing. */
export async function openJournalFile(path: string): Promise<JournalFile> {
  const flags = constants.O_RDWR | constants.O_APPEND | (O_DSYNC ?? 0);
  const writesAreDurable = O_DSYNC !== undefined;
  let file: FileHandle;
  try {
    file = await open(path, flags | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { handle: await open(path, flags), writesAreDurable };
  }
  try {
    // A new file's directory entry must be durable too, or a crash could lose the whole journal.
    const directory = await open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  } catch (error) {
    await file.close();
    throw error;
  }
  return { handle: file, writesAreDurable };
}

/**
 * Writes all of `data` at the end of the file (O_APPEND), however many writes that takes, and
 * resolves once it is on stable storage. A write cut short by a crash leaves a torn last line,
 * which was never acknowledged and which reopening cuts away.
 */
export async function writeDurably(file: JournalFile, data: Buffer): Promise<void> {
  for (let offset = 0; offset < data.length;) {
    const { bytesWritten } = await file.handle.write(data, offset, data.length - offset);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    offset += bytesWritten;
  }
  if (!file.writesAreDurable) await file.handle.datasync();
}
