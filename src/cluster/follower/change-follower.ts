// Follows the store's change feed from a revision: reads `changes(after)` on every watch hint and on
// a periodic poll, hands each page to a dispatcher in revision order, and advances only after it.
import type { Store, StoreChange } from '../../store/index.ts';
import { CoalescingRun, pollEvery } from '../background-loop.ts';

export interface ChangeFollowerOptions {
  readonly store: Store;
  /** The revision to follow from: changes after it are dispatched. */
  readonly from: number;
  /** Receives each page, in order; the follower advances past a page only once this resolves. */
  readonly dispatch: (changes: readonly StoreChange[]) => void | Promise<void>;
  /** Poll period, so a missed notification only delays (default 1000 ms). */
  readonly pollMs?: number;
  /** Changes per read (default 1000). */
  readonly pageSize?: number;
  /** Told of read or dispatch failures; the follower retries at the next hint or poll. */
  readonly onError?: (error: unknown) => void;
}

const DEFAULT_POLL_MS = 1000;
const DEFAULT_PAGE_SIZE = 1000;

/** What a store with notifications offers; the Store contract makes it optional. */
type Unsubscribe = (() => void) | { close(): void | Promise<void> } | { unsubscribe(): void } | undefined;
interface WatchableStore {
  watch?: (listener: () => void) => Unsubscribe | Promise<Unsubscribe>;
}

function unsubscribe(handle: Unsubscribe): void {
  if (handle === undefined) return;
  if (typeof handle === 'function') handle();
  else if ('close' in handle) void Promise.resolve(handle.close()).catch(() => undefined);
  else handle.unsubscribe();
}

export class ChangeFollower {
  readonly #options: ChangeFollowerOptions;
  readonly #pollMs: number;
  readonly #pageSize: number;
  #revision: number;
  #timer: NodeJS.Timeout | undefined;
  #watch: Promise<Unsubscribe> | undefined;
  /** Catch-ups, one at a time: a hint during one runs it once more after it. */
  readonly #run = new CoalescingRun(() => this.#catchUp(), () => !this.#isStopped());
  #stopped = false;
  #started = false;
  /** Pages dispatched (for tests and metrics). */
  pages = 0;

  constructor(options: ChangeFollowerOptions) {
    if (!Number.isSafeInteger(options.from) || options.from < 0) throw new RangeError('from must be a non-negative integer');
    this.#options = options;
    this.#revision = options.from;
    this.#pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** The last revision whose changes were dispatched. */
  get revision(): number {
    return this.#revision;
  }

  /** Subscribes to the store's notifications (when it has them), starts polling, and catches up once. */
  start(): Promise<void> {
    if (this.#started) return this.#run.running ?? Promise.resolve();
    this.#started = true;
    const store = this.#options.store as Store & WatchableStore;
    if (typeof store.watch === 'function') {
      try {
        this.#watch = Promise.resolve(store.watch(() => {
          void this.poke();
        })).catch((error: unknown) => {
          this.#options.onError?.(error);
          return undefined;
        });
      } catch (error) {
        this.#options.onError?.(error);
      }
    }
    this.#timer = pollEvery(this.#pollMs, () => {
      void this.poke();
    });
    return this.poke();
  }

  /**
   * Reads and dispatches everything after the current revision. Concurrent calls share one run (and
   * a call during a run schedules one more), so pages are dispatched one at a time, in order.
   */
  poke(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    return this.#run.request();
  }

  /** Read through a method: stop() may run across an await. */
  #isStopped(): boolean {
    return this.#stopped;
  }

  async #catchUp(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      let page: StoreChange[];
      try {
        page = await this.#options.store.changes(this.#revision, this.#pageSize);
      } catch (error) {
        this.#options.onError?.(error);
        return;
      }
      if (page.length === 0 || this.#isStopped()) return;
      try {
        await this.#options.dispatch(page);
      } catch (error) {
        // Not advanced: the same page comes again at the next hint or poll.
        this.#options.onError?.(error);
        return;
      }
      this.pages += 1;
      this.#revision = Math.max(this.#revision, page.at(-1)?.revision ?? this.#revision);
      // A short page is not the end: a page stops before a commit that would not fit. Read until empty.
    }
  }

  /** Stops polling and listening; a dispatch in progress finishes first. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    const watch = this.#watch;
    this.#watch = undefined;
    if (watch !== undefined) unsubscribe(await watch);
    await this.#run.running;
  }
}
