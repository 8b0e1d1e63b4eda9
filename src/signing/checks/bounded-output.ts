// Collects a check's output up to a fixed byte bound and marks what it dropped, so a chatty command
// cannot make a job record (or the service's memory) grow without limit.

/** 64 KiB: enough for a scanner's report, small enough to keep with every job. */
export const OUTPUT_LIMIT_BYTES = 64 * 1024;

export class BoundedOutput {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #dropped = 0;

  constructor(limit = OUTPUT_LIMIT_BYTES) {
    this.#limit = limit;
  }

  /** Keeps what fits under the bound and counts the rest; never buffers past the bound. */
  append(chunk: Uint8Array | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const room = this.#limit - this.#kept;
    if (room > 0) {
      const part = bytes.subarray(0, room);
      this.#chunks.push(Buffer.from(part));
      this.#kept += part.length;
    }
    this.#dropped += Math.max(0, bytes.length - Math.max(0, room));
  }

  /** The kept text, with a marker naming how many bytes were dropped when it was cut. */
  text(): string {
    const kept = Buffer.concat(this.#chunks).toString('utf8');
    return this.#dropped > 0 ? `${kept}\n[output truncated: ${String(this.#dropped)} more bytes not kept]` : kept;
  }
}

/** A short built-in message through the same bound, so every result obeys it. */
export function boundedText(text: string, limit = OUTPUT_LIMIT_BYTES): string {
  const output = new BoundedOutput(limit);
  output.append(text);
  return output.text();
}
