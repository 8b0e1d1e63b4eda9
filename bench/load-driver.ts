// The parent's side of a load generator: forks the benchmark's child script, hands it its setup, and
// runs one job at a time on it. kill() and exited() are for cleanup after a failure or an interrupt.
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { DevPki } from '../src/pki/index.ts';
import type { ClientIdentity, FromLoadChild, LoadProtocol, ToLoadChild } from './load-child-protocol.ts';

/** The dev PKI's user identity and CA, read as PEM text for a load generator. */
export async function readUserIdentity(pki: DevPki): Promise<ClientIdentity> {
  const [ca = '', cert = '', key = ''] = await Promise.all([pki.caPath, pki.user.certPath, pki.user.keyPath].map((path) => readFile(path, 'utf8')));
  return { ca, cert, key };
}

export class LoadDriver<P extends LoadProtocol> {
  readonly #child: ChildProcess;
  #pending: { resolve(message: FromLoadChild<P>): void; reject(error: Error): void } | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: FromLoadChild<P>) => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(message);
    });
    child.on('exit', (code, signal) => {
      this.#pending?.reject(new Error(`the load generator exited (${String(code ?? signal)})`));
      this.#pending = undefined;
    });
  }

  /** Forks `script` (a load generator speaking ToLoadChild<P> / FromLoadChild<P>) and sends it `setup`. */
  static async start<P extends LoadProtocol>(script: URL, setup: P['setup']): Promise<LoadDriver<P>> {
    // No execArgv: a --cpu-prof of the parent's process must not profile the client too.
    const child = fork(script, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const driver = new LoadDriver<P>(child);
    try {
      const answer = await driver.#exchange({ type: 'connect', setup });
      if (answer.type !== 'ready') throw new Error(`the load generator did not start: ${answer.type === 'error' ? answer.message : answer.type}`);
    } catch (error) {
      driver.kill();
      throw error;
    }
    return driver;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  async run(job: P['job']): Promise<P['result']> {
    const answer = await this.#exchange({ type: 'job', job });
    if (answer.type !== 'result') throw new Error(`load generator: ${answer.type === 'error' ? answer.message : answer.type}`);
    return answer.result;
  }

  /** Asks the child to close its clients and leave; it exits once its sockets are gone. */
  close(): void {
    if (this.#child.connected) this.#child.send({ type: 'exit' } satisfies ToLoadChild<P>);
  }

  /** SIGKILL, for cleanup: a no-op when the child has already exited. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  /** Resolves when the child has exited. */
  exited(): Promise<void> {
    const child = this.#child;
    return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => { resolve(); }));
  }

  #exchange(message: ToLoadChild<P>): Promise<FromLoadChild<P>> {
    return new Promise((resolve, reject) => {
      if (this.#pending !== undefined) {
        reject(new Error('the load generator runs one job at a time'));
        return;
      }
      this.#pending = { resolve, reject };
      this.#child.send(message);
    });
  }
}
