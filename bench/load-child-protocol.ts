// What every benchmark's load-generator child and its LoadDriver (bench/load-driver.ts) say to each
// other: a setup once, then one job at a time and what it measured (or an error), then exit. Each
// benchmark names its own setup, job and result (bench/load-protocol.ts, bench/cluster-load-protocol.ts).

/** A benchmark's three message payloads. */
export interface LoadProtocol {
  readonly setup: unknown;
  readonly job: unknown;
  readonly result: unknown;
}

/** The user's client identity and the CA as PEM text, so the child reads no files. */
export interface ClientIdentity {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/** What every job reports, whatever it loads. */
export interface LoadTally {
  /** Calls or requests that succeeded. */
  readonly completed: number;
  readonly failed: number;
  readonly firstFailure?: string;
  /** From the first send to the last answer. */
  readonly seconds: number;
  /** The load generator's own CPU (user + system, all threads) over the job, microseconds. */
  readonly cpuMicros: number;
}

export type ToLoadChild<P extends LoadProtocol> =
  | { readonly type: 'connect'; readonly setup: P['setup'] }
  | { readonly type: 'job'; readonly job: P['job'] }
  | { readonly type: 'exit' };

export type FromLoadChild<P extends LoadProtocol> =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: P['result'] }
  | { readonly type: 'error'; readonly message: string };
