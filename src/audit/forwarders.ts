// Copies of durable journal entries for other destinations: a stream (stdout) or another file.

import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { AuditEntry } from './audit-entry.ts';

/**
 * Receives each batch of entries once it is durable in the journal, in journal order, one batch at a
 * time. Best effort: a rejection is counted by the journal and never fails or delays an append.
 */
export interface AuditForwarder {
  forward(entries: readonly AuditEntry[]): Promise<void>;
}

function toJsonLines(entries: readonly AuditEntry[]): string {
  let text = '';
  for (const entry of entries) text += `${JSON.stringify(entry)}\n`;
  return text;
}

/** Writes entries as JSON lines to a stream: process.stdout by default (for a log collector). */
export class StdoutForwarder implements AuditForwarder {
  readonly #stream: Writable;

  constructor(stream: Writable = process.stdout) {
    this.#stream = stream;
  }

  forward(entries: readonly AuditEntry[]): Promise<void> {
    const text = toJsonLines(entries);
    // The write callback fires once the stream has taken the chunk, which honours backpressure.
    return new Promise((resolve, reject) => {
      this.#stream.write(text, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }
}

/** Appends entries as JSON lines to another file (not fsynced: it is a copy, the journal is the record). */
export class FileForwarder implements AuditForwarder {
  readonly #file: FileHandle;

  private constructor(file: FileHandle) {
    this.#file = file;
  }

  static async open(path: string): Promise<FileForwarder> {
    return new FileForwarder(await open(path, 'a'));
  }

  async forward(entries: readonly AuditEntry[]): Promise<void> {
    await this.#file.appendFile(toJsonLines(entries), 'utf8');
  }

  async close(): Promise<void> {
    await this.#file.close();
  }
}
