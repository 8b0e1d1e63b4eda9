// Runs the `coffer` command (src/cli/main.ts) as a child process, the way an operator would, and
// asserts on its exit status and output.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const MAIN = resolve(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `coffer args…` with the given environment (no COFFER_* from the test's own). */
export function coffer(args: readonly string[], env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_')));
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status) => {
      done({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') });
    });
  });
}

/** Asserts exit 0; returns stdout. */
export function ok(run: Run, what: string): string {
  assert.equal(run.status, 0, `${what}: exit ${String(run.status)}, stderr: ${run.stderr}`);
  return run.stdout;
}

/** Asserts exit 1 with `coffer: CODE: …` on stderr. */
export function failsWith(run: Run, code: string, what: string): void {
  assert.equal(run.status, 1, `${what}: exit ${String(run.status)}, stdout: ${run.stdout}`);
  assert.match(run.stderr, new RegExp(`^coffer: ${code}: `), what);
}
