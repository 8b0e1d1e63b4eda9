// The two pieces the cluster's background loops (change follower, audit shipper, heartbeat) share: an
// unref'd poll timer, and a run that callers share, where a call during a run asks for one more pass.

/** Calls `tick` every `ms`; the timer does not keep the process alive. Stop it with clearInterval. */
export function pollEvery(ms: number, tick: () => void): NodeJS.Timeout {
  const timer = setInterval(tick, ms);
  timer.unref();
  return timer;
}

/**
 * One run of `pass` at a time. request() starts a run, or, while one is in progress, marks it to
 * make one more pass when the current one ends (requests during a pass coalesce into that one).
 * Every caller gets the same run's promise. A run passes again only while `goOn()` holds, so the
 * owner's stop (or any state it checks) ends the run after the pass in progress.
 */
export class CoalescingRun {
  readonly #pass: () => Promise<void>;
  readonly #goOn: () => boolean;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(pass: () => Promise<void>, goOn: () => boolean) {
    this.#pass = pass;
    this.#goOn = goOn;
  }

  /** The run in progress, if any. */
  get running(): Promise<void> | undefined {
    return this.#running;
  }

  request(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const run = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#wantsAgain() && this.#goOn());
      } finally {
        this.#running = undefined;
      }
    })();
    this.#running = run;
    return run;
  }

  /** A request arrived during the pass (set across an await, hence a method). */
  #wantsAgain(): boolean {
    return this.#again;
  }
}
