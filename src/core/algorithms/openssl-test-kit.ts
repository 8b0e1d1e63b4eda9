// Test-only helpers to drive the system openssl CLI (an independent implementation) through files
// in a temporary directory. Imported by *.test.ts files only; core code never does I/O.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPENSSL = '/usr/bin/openssl';

export interface OpensslResult {
  readonly ok: boolean;
  readonly stdout: Buffer;
}

/** Runs openssl; a non-zero exit is `ok: false` (how `-verify` reports a bad signature). */
export function openssl(args: readonly string[], input?: Uint8Array): OpensslResult {
  try {
    const stdout = execFileSync(OPENSSL, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
    return { ok: true, stdout };
  } catch (error) {
    const stdout = (error as { stdout?: Buffer }).stdout ?? Buffer.alloc(0);
    return { ok: false, stdout };
  }
}

/** Like openssl(), but a failure throws with openssl's stderr, for steps that must succeed. */
export function opensslOrThrow(args: readonly string[], input?: Uint8Array): Buffer {
  return execFileSync(OPENSSL, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(input === undefined ? {} : { input }) });
}

/** A scratch directory for one test file; call remove() in an after() hook. */
export class ScratchDir {
  readonly path = mkdtempSync(join(tmpdir(), 'coffer-openssl-'));
  #counter = 0;

  /** Writes `data` to a fresh file and returns its path. */
  write(data: Uint8Array, name = 'data'): string {
    const path = join(this.path, `${String(this.#counter++)}-${name}`);
    writeFileSync(path, data);
    return path;
  }

  /** A fresh path for openssl to write to. */
  output(name = 'out'): string {
    return join(this.path, `${String(this.#counter++)}-${name}`);
  }

  read(path: string): Buffer {
    return readFileSync(path);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
