// The parent's side of the load generator: forks bench/load-generator.ts, connects it to the node
// and runs one job at a time on it.
import { fork, type ChildProcess } from 'node:child_process';
import type { FromLoadGenerator, LoadJob, LoadResult, LoadTarget, ToLoadGenerator } from './load-protocol.ts';

export class LoadDriver {
  readonly #child: ChildProcess;
  #pending: { resolve(message: FromLoadGenerator): void; reject(error: Error): void } | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: FromLoadGenerator) => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(message);
    });
    child.on('exit', (code) => {
      this.#pending?.reject(new Error(`the load generator exited (${String(code)})`));
      this.#pending = undefined;
    });
  }

  static async start(target: LoadTarget): Promise<LoadDriver> {
    // No execArgv: a --cpu-prof of the node's process must not profile the client too.
    const child = fork(new URL('./load-generator.ts', import.meta.url), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const driver = new LoadDriver(child);
    const answer = await driver.#exchange({ type: 'connect', target });
    if (answer.type !== 'ready') throw new Error(`the load generator did not start: ${answer.type === 'error' ? answer.message : answer.type}`);
    return driver;
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  async run(job: LoadJob): Promise<LoadResult> {
    const answer = await this.#exchange({ type: 'job', job });
    if (answer.type !== 'result') throw new Error(`load generator: ${answer.type === 'error' ? answer.message : answer.type}`);
    return answer.result;
  }

  close(): void {
    if (this.#child.connected) this.#child.send({ type: 'exit' } satisfies ToLoadGenerator);
  }

  #exchange(message: ToLoadGenerator): Promise<FromLoadGenerator> {
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
