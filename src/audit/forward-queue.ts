// Delivers durable batches to one forwarder in order, off the append path, counting its failures.

import type { AuditEntry } from './audit-entry.ts';
import type { AuditForwarder } from './forwarders.ts';

/** Entries a stalled forwarder may have queued before further batches are dropped (and counted). */
export const MAX_FORWARD_BACKLOG = 100_000;

export class ForwardQueue {
  readonly #forwarder: AuditForwarder;
  #tail: Promise<void> = Promise.resolve();
  #backlog = 0;
  #errors = 0;

  constructor(forwarder: AuditForwarder) {
    this.#forwarder = forwarder;
  }

  /** Failed deliveries plus dropped batches. */
  get errors(): number {
    return this.#errors;
  }

  push(entries: readonly AuditEntry[]): void {
    // Bounded memory: a forwarder that never answers must not hold every entry of a busy node.
    if (this.#backlog + entries.length > MAX_FORWARD_BACKLOG) {
      this.#errors += 1;
      return;
    }
    this.#backlog += entries.length;
    this.#tail = this.#tail
      .then(() => this.#forwarder.forward(entries))
      .catch(() => {
        this.#errors += 1;
      })
      .finally(() => {
        this.#backlog -= entries.length;
      });
  }

  /** Settles once every batch pushed so far has been delivered or has failed. */
  idle(): Promise<void> {
    return this.#tail;
  }
}

/** Waits until every queue is idle, or `timeoutMs` has passed: forwarders must not hang a shutdown. */
export async function drainQueues(queues: readonly ForwardQueue[], timeoutMs: number): Promise<void> {
  if (queues.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((done) => {
    timer = setTimeout(done, timeoutMs);
  });
  await Promise.race([Promise.all(queues.map((queue) => queue.idle())), timeout]);
  clearTimeout(timer);
}
