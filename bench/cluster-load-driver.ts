// The parent's side of bench/cluster-load.ts: forks one load generator, hands it the identity, and
// runs one job at a time on it. kill() is for cleanup after a failure or an interrupt.
import { fork, type ChildProcess } from 'node:child_process';
import type { ClusterLoadIdentity, ClusterLoadJob, ClusterLoadResult, FromClusterLoad, ToClusterLoad } from './cluster-load-protocol.ts';

export class ClusterLoadDriver {
  readonly #child: ChildProcess;
  #pending: { resolve(message: FromClusterLoad): void; reject(error: Error): void } | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: FromClusterLoad) => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(message);
    });
    child.on('exit', (code, signal) => {
      this.#pending?.reject(new Error(`the load generator exited (${String(code ?? signal)})`));
      this.#pending = undefined;
    });
  }

  static async start(identity: ClusterLoadIdentity): Promise<ClusterLoadDriver> {
    const child = fork(new URL('./cluster-load.ts', import.meta.url), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const driver = new ClusterLoadDriver(child);
    try {
      const answer = await driver.#exchange({ type: 'connect', identity });
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

  async run(job: ClusterLoadJob): Promise<ClusterLoadResult> {
    const answer = await this.#exchange({ type: 'job', job });
    if (answer.type !== 'result') throw new Error(`load generator: ${answer.type === 'error' ? answer.message : answer.type}`);
    return answer.result;
  }

  /** Asks the child to close its clients and leave; it exits once its sockets are gone. */
  close(): void {
    if (this.#child.connected) this.#child.send({ type: 'exit' } satisfies ToClusterLoad);
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

  #exchange(message: ToClusterLoad): Promise<FromClusterLoad> {
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
