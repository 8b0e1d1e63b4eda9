// The heartbeat loop: writes this node's record at start and every heartbeatSeconds (unref'd
// timer), and removes it on a clean stop. A failed beat (store down) is retried at the next tick.
import { randomUUID } from 'node:crypto';
import { CofferError } from '../../core/errors.ts';
import { systemClock, type Clock } from '../../core/ports.ts';
import { pollEvery } from '../background-loop.ts';
import type { NodeRecord, NodeRegistry, NodeState } from './node-registry.ts';

export interface HeartbeatOptions {
  readonly registry: NodeRegistry;
  readonly nodeId: string;
  readonly apiUrl: string;
  readonly version: string;
  /** Read at every beat, so a state change shows at the next one (or at once through beat()). */
  readonly state: () => NodeState;
  /** Default 5. */
  readonly heartbeatSeconds?: number;
  readonly clock?: Clock;
  /** Called after each beat, whether it succeeded (the sealed node also refreshes its domain here). */
  readonly onBeat?: (error: unknown) => void | Promise<void>;
}

const DEFAULT_HEARTBEAT_SECONDS = 5;

export class Heartbeat {
  readonly instanceId = randomUUID();
  readonly #options: HeartbeatOptions;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #startedAt: string;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The last error of a beat, undefined after a good one. */
  lastError: unknown = undefined;
  beats = 0;

  constructor(options: HeartbeatOptions) {
    const seconds = options.heartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
    if (!Number.isSafeInteger(seconds) || seconds < 1) throw new CofferError('INVALID_ARGUMENT', 'heartbeatSeconds must be a positive integer');
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = seconds * 1000;
    this.#startedAt = this.#clock.now().toISOString();
  }

  /** This node's record as of now. */
  record(): NodeRecord {
    const { nodeId, apiUrl, version, state } = this.#options;
    return { nodeId, apiUrl, state: state(), version, instanceId: this.instanceId, startedAt: this.#startedAt, lastHeartbeat: this.#clock.now().toISOString() };
  }

  /** Writes the record now and starts the loop. Never throws: a store that is down only delays registration. */
  async start(): Promise<void> {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = pollEvery(this.#intervalMs, () => {
      void this.beat();
    });
    await this.beat();
  }

  /** One beat, serialised with the others; resolves when written (or failed). */
  beat(): Promise<void> {
    const run = this.#inFlight.then(async () => {
      if (this.#stopped) return;
      let failure: unknown;
      try {
        await this.#options.registry.put(this.record());
        this.beats += 1;
      } catch (error) {
        failure = error;
      }
      this.lastError = failure;
      try {
        await this.#options.onBeat?.(failure);
      } catch {
        // A hook's failure is its own business; the loop goes on.
      }
    });
    this.#inFlight = run;
    return run;
  }

  /** Stops the loop and removes this instance's record (best effort: a store that is down lets it expire). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
    try {
      await this.#options.registry.remove(this.#options.nodeId, this.instanceId);
    } catch {
      // Unreachable store: the record simply goes stale and drops out after deadAfterSeconds.
    }
  }
}
