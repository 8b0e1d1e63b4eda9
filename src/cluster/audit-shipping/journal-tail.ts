// Reads a journal file forward from a byte offset, complete lines only: an unterminated last line is
// a write in progress (or a torn one the journal will cut), never returned.
import { open } from 'node:fs/promises';

export interface TailLine {
  readonly text: string;
  /** Byte offset just past this line's newline. */
  readonly end: number;
}

/** Read at most this much per call: bounds memory whatever the backlog. */
const MAX_READ_BYTES = 4 * 1024 * 1024;

/** Complete lines from `offset` on (none if the file is missing). */
export async function readLines(path: string, offset: number, maxBytes = MAX_READ_BYTES): Promise<TailLine[]> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    const { size } = await file.stat();
    if (size <= offset) return [];
    const length = Math.min(size - offset, maxBytes);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await file.read(buffer, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    const lines: TailLine[] = [];
    let start = 0;
    for (let newline = buffer.indexOf(0x0a, 0); newline !== -1 && newline < read; newline = buffer.indexOf(0x0a, start)) {
      lines.push({ text: buffer.toString('utf8', start, newline), end: offset + newline + 1 });
      start = newline + 1;
    }
    if (lines.length === 0 && read === maxBytes) throw new Error(`a journal line longer than ${maxBytes} bytes at offset ${offset}`);
    return lines;
  } finally {
    await file.close();
  }
}
