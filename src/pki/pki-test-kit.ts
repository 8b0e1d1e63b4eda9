// Shared helpers for the PKI tests: temp dirs, the real openssl binary, and file snapshots.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory, removed when the test (or suite, for a `before` context) ends. */
export function tempDir(t: { after: (cleanup: () => void) => unknown }): string {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-pki-'));
  t.after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export interface ToolResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs openssl with `args` and resolves with its exit status and output; never rejects on a non-zero exit. */
export function openssl(args: readonly string[], cwd?: string): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error('openssl could not be run', { cause: error }));
        return;
      }
      resolve({ status: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

/** Every file in `dir` with its bytes and modification time, to prove a call left them alone. */
export function snapshot(dir: string): Map<string, { readonly bytes: string; readonly mtimeMs: number }> {
  const files = new Map<string, { bytes: string; mtimeMs: number }>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    files.set(name, { bytes: readFileSync(path, 'base64'), mtimeMs: statSync(path).mtimeMs });
  }
  return files;
}

export const ALL_FILES = ['ca.key', 'ca.pem', 'officer.key', 'officer.pem', 'server.key', 'server.pem', 'signer.key', 'signer.pem', 'user.key', 'user.pem'];
export const LEAF_FILES = ['officer.key', 'officer.pem', 'server.key', 'server.pem', 'signer.key', 'signer.pem', 'user.key', 'user.pem'];

export function sorted(names: readonly string[]): string[] {
  return [...names].sort();
}

export const DAY_MS = 86_400_000;
