// Long-polls waiting in this process for a key-use request to finish: each wakes when the request is
// notified or when its own wait ends, whichever comes first.
export class RequestWaiters {
  /** requestId → the wake-ups of the long-polls waiting for it. */
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Resolves after `ms`, or sooner when `requestId` is notified. */
  waitFor(requestId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(requestId) ?? new Set<() => void>();
      this.#waiters.set(requestId, waiters);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0 && this.#waiters.get(requestId) === waiters) this.#waiters.delete(requestId);
        resolve();
      };
      // Unref'd: a waiting long-poll never keeps the process alive.
      const timer = setTimeout(done, ms);
      timer.unref();
      waiters.add(done);
    });
  }

  notify(requestId: string): void {
    for (const wake of [...(this.#waiters.get(requestId) ?? [])]) wake();
  }

  notifyAll(): void {
    for (const id of [...this.#waiters.keys()]) this.notify(id);
  }
}
