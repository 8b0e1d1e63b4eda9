// Tests only: drives the system gpg (an independent OpenPGP implementation) in a fresh home directory,
// quiet and non-interactive, reading its machine-readable status lines (--status-fd 1).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const GPG = '/usr/bin/gpg';

export interface GpgResult {
  /** gpg's exit code: 0 good, 1 a bad signature, 2 any other failure. */
  readonly code: number | null;
  /** The [GNUPG:] status lines. */
  readonly status: string;
  /** What gpg says to people ("Good signature", "BAD signature"). */
  readonly stderr: string;
}

/** A GNUPGHOME of its own (mode 0700, as gpg insists) under `parent`; call remove() when done. */
export class GpgHome {
  readonly path: string;

  constructor(parent: string) {
    this.path = mkdtempSync(join(parent, 'gnupg-'));
    chmodSync(this.path, 0o700);
  }

  /** Runs gpg here; the trust model is "always" so a verification reports only the signature's validity. */
  run(args: readonly string[], input?: Uint8Array): GpgResult {
    const result = spawnSync(GPG, ['--homedir', this.path, '--batch', '--no-tty', '--no-auto-key-retrieve', '--trust-model', 'always', '--status-fd', '1', ...args], {
      ...(input === undefined ? {} : { input }), timeout: 60_000, maxBuffer: 16 * 1024 * 1024,
    });
    return { code: result.status, status: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') };
  }

  /** The colon listing's fpr and pub lines for the keys here. */
  listKeys(): { fingerprints: string[]; capabilities: string[] } {
    const lines = this.run(['--with-colons', '--list-keys']).status.split('\n');
    const fields = (kind: string, index: number): string[] => lines.filter((line) => line.startsWith(`${kind}:`)).map((line) => line.split(':')[index] ?? '');
    return { fingerprints: fields('fpr', 9), capabilities: fields('pub', 11) };
  }

  remove(): void {
    // gpg may have started an agent for this home: stop it before the directory goes.
    spawnSync('/usr/bin/gpgconf', ['--homedir', this.path, '--kill', 'all'], { stdio: 'ignore' });
    rmSync(this.path, { recursive: true, force: true });
  }
}
