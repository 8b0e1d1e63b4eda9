// The LISTEN side of the change feed: one dedicated connection per store, opened on the first
// watch(), that turns commit notifications into listener calls and reconnects after failures.
import pg from 'pg';

export type RevisionListener = (revision: number) => void;

/** Backoff between reconnection attempts: doubling from the first step up to the cap. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;
/**
 * A LISTEN connection is idle by nature, so a silently dead one (a network partition) would never
 * error; a periodic round trip finds it within this interval plus the query timeout.
 */
const HEARTBEAT_MS = 10_000;

export interface NotificationOptions {
  readonly client: pg.ClientConfig;
  readonly channel: string;
  /** Reads the store's current revision on the given connection (for the catch-up call). */
  readonly readRevision: (client: pg.Client) => Promise<number>;
}

/** A revision as NOTIFY carries it: decimal text. Anything else is ignored, not believed. */
function parseRevision(payload: string | undefined): number | undefined {
  if (payload === undefined || !/^[1-9][0-9]{0,15}$/.test(payload)) return undefined;
  const revision = Number(payload);
  return Number.isSafeInteger(revision) ? revision : undefined;
}

export class NotificationFeed {
  readonly #options: NotificationOptions;
  readonly #listeners = new Set<RevisionListener>();
  #client: pg.Client | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #failures = 0;
  #started = false;
  #closed = false;

  constructor(options: NotificationOptions) {
    this.#options = options;
  }

  /** Adds a listener; the connection opens on the first one. Returns the unsubscribe function. */
  subscribe(listener: RevisionListener): () => void {
    if (this.#closed) return () => undefined;
    // A wrapper, so the same function subscribed twice is two subscriptions.
    const entry: RevisionListener = (revision) => {
      listener(revision);
    };
    this.#listeners.add(entry);
    if (!this.#started) {
      this.#started = true;
      void this.#connect();
    }
    return () => {
      this.#listeners.delete(entry);
    };
  }

  #emit(revision: number): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(revision);
      } catch {
        // Listeners are hints; one that throws must not stop the others or the feed.
      }
    }
  }

  async #connect(): Promise<void> {
    this.#retryTimer = undefined;
    if (this.#closed) return;
    const client = new pg.Client(this.#options.client);
    this.#client = client;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      clearInterval(this.#heartbeat);
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      this.#scheduleReconnect();
    };
    client.on('error', fail);
    client.on('end', fail);
    client.on('notification', (message) => {
      if (message.channel !== this.#options.channel) return;
      const revision = parseRevision(message.payload);
      if (revision !== undefined) this.#emit(revision);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel}"`);
      // Commits made while no connection listened (before the first one, or during an outage)
      // sent notifications nobody heard: one call with the current revision lets readers catch up.
      const revision = await this.#options.readRevision(client);
      // fail() or close() ran meanwhile (each clears #client): this connection is done.
      if (this.#client !== client) return;
      this.#failures = 0;
      this.#heartbeat = setInterval(() => {
        client.query('SELECT 1').catch(fail);
      }, HEARTBEAT_MS);
      this.#heartbeat.unref();
      this.#emit(revision);
    } catch {
      fail();
    }
  }

  #scheduleReconnect(): void {
    if (this.#closed) return;
    const step = Math.min(FIRST_RETRY_MS * 2 ** this.#failures, MAX_RETRY_MS);
    this.#failures = Math.min(this.#failures + 1, 16);
    // Jitter, so nodes that lost the server together do not reconnect in lockstep.
    const delay = step / 2 + Math.random() * (step / 2);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#retryTimer.unref();
  }

  /** Stops listening for good: closes the connection, cancels reconnection, drops the listeners. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    clearTimeout(this.#retryTimer);
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) {
      client.removeAllListeners('notification');
      await client.end().catch(() => undefined);
    }
  }
}
